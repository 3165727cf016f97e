package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/gatewayresp"
	"github.com/acmedata/tokenservice/pkg/routes"
)

const testOperatorKey = "operator-key-for-tests"

var testRoutes = []routes.Route{
	{Method: "GET", Path: "/healthz", Function: routes.Health, Auth: routes.Public},
	{Method: "GET", Path: "/admin/users", Function: routes.Manage, Auth: routes.APIKeyAuth},
	{Method: "POST", Path: "/admin/users", Function: routes.Manage, Auth: routes.APIKeyAuth},
	{Method: "GET", Path: "/admin/users/{userId}", Function: routes.Manage, Auth: routes.APIKeyAuth},
	{Method: "GET", Path: "/admin/services/{service}/tokens/default", Function: routes.Manage, Auth: routes.APIKeyAuth},
	{Method: "GET", Path: "/admin/services/{service}/tokens/{tokenId}", Function: routes.Manage, Auth: routes.APIKeyAuth},
	{Method: "GET", Path: "/data/{service}/{proxy+}", Function: routes.Data, Auth: routes.TokenAuth},
	{Method: "GET", Path: "/feed/{token}/{service}/{proxy+}", Function: routes.Data, Auth: routes.TokenAuth},
	{Method: "POST", Path: "/operator/accounts", Function: routes.Operator, Auth: routes.IAMAuth},
}

// echo answers the event it received as its JSON body, so tests can see
// exactly what a function would.
func echo(_ context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	b, err := json.Marshal(ev)
	return events.APIGatewayProxyResponse{StatusCode: http.StatusOK, Body: string(b)}, err
}

// allowAll allows the request's own method ARN with a fixed context.
func allowAll(_ context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	return policy("acc_1", "Allow", req.MethodArn, map[string]any{"accountId": "acc_1"}), nil
}

func policy(principal, effect, resource string, ctx map[string]any) events.APIGatewayCustomAuthorizerResponse {
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: principal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version:   "2012-10-17",
			Statement: []events.IAMPolicyStatement{{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{resource}}},
		},
		Context: ctx,
	}
}

type fixture struct {
	gw      *Gateway
	mu      sync.Mutex
	entries []accesslog.Entry
}

// newGateway builds a gateway over testRoutes with every function echoing
// and both authorizers allowing, changed by edit.
func newGateway(t *testing.T, edit func(*Options)) *fixture {
	t.Helper()
	f := &fixture{}
	opts := Options{
		Routes: testRoutes,
		Functions: map[routes.Function]ProxyFunc{
			routes.Health: echo, routes.Manage: echo, routes.Data: echo, routes.Operator: echo,
		},
		Authorizers: map[routes.Auth]AuthorizerFunc{routes.APIKeyAuth: allowAll, routes.TokenAuth: allowAll},
		OperatorKey: testOperatorKey,
		Stage:       "test", APIID: "api123", Region: "eu-west-1", AccountID: "123456789012",
		AccessLog: func(e accesslog.Entry) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.entries = append(f.entries, e)
		},
	}
	if edit != nil {
		edit(&opts)
	}
	gw, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.gw = gw
	return f
}

func (f *fixture) do(t *testing.T, method, target string, body []byte, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	f.gw.ServeHTTP(rec, req)
	return rec
}

// event decodes the event echo answered.
func event(t *testing.T, rec *httptest.ResponseRecorder) events.APIGatewayProxyRequest {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(rec.Body.Bytes(), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// wantError checks a gateway-made answer: status and the product's error body.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != code || body.Error.Message == "" {
		t.Fatalf("body %s, want error code %q and a message", rec.Body, code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
}

func TestRoutingPrefersLiteralThenParameterThenGreedy(t *testing.T) {
	f := newGateway(t, nil)
	for _, tc := range []struct {
		path, resource string
		params         map[string]string
	}{
		{"/healthz", "/healthz", nil},
		{"/admin/users", "/admin/users", nil},
		// API Gateway REST APIs route a trailing slash as the resource itself.
		{"/admin/users/", "/admin/users", nil},
		{"/admin/users/usr_1", "/admin/users/{userId}", map[string]string{"userId": "usr_1"}},
		{"/admin/users/a%2Fb", "/admin/users/{userId}", map[string]string{"userId": "a/b"}},
		{"/admin/services/tmy/tokens/default", "/admin/services/{service}/tokens/default", map[string]string{"service": "tmy"}},
		{"/admin/services/tmy/tokens/tok_1", "/admin/services/{service}/tokens/{tokenId}", map[string]string{"service": "tmy", "tokenId": "tok_1"}},
		{"/data/tmy/hourly", "/data/{service}/{proxy+}", map[string]string{"service": "tmy", "proxy": "hourly"}},
		{"/data/tmy/a/b/c", "/data/{service}/{proxy+}", map[string]string{"service": "tmy", "proxy": "a/b/c"}},
		{"/feed/abc/tmy/x/y", "/feed/{token}/{service}/{proxy+}", map[string]string{"token": "abc", "service": "tmy", "proxy": "x/y"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			ev := event(t, f.do(t, "GET", tc.path, nil, nil))
			if ev.Resource != tc.resource || ev.RequestContext.ResourcePath != tc.resource {
				t.Errorf("resource %q / %q, want %q", ev.Resource, ev.RequestContext.ResourcePath, tc.resource)
			}
			if len(ev.PathParameters) != len(tc.params) {
				t.Errorf("path parameters %v, want %v", ev.PathParameters, tc.params)
			}
			for k, v := range tc.params {
				if ev.PathParameters[k] != v {
					t.Errorf("path parameter %s = %q, want %q", k, ev.PathParameters[k], v)
				}
			}
		})
	}
}

func TestUnknownRoutesAndMethodsAnswer404WithErrorBody(t *testing.T) {
	f := newGateway(t, nil)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/"},
		{"GET", "/nope"},
		{"DELETE", "/healthz"},
		{"GET", "/admin//users"},
		{"GET", "/data/tmy"}, // a greedy parameter needs at least one segment
		{"GET", "/admin/users/usr_1/extra"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			wantError(t, f.do(t, tc.method, tc.path, nil, nil), http.StatusNotFound, "not_found")
		})
	}
}

func TestProxyEventCarriesTheRequestAsAPIGatewayDoes(t *testing.T) {
	f := newGateway(t, nil)
	rec := f.do(t, "POST", "/admin/users?a=1&a=2&b=x", []byte(`{"name":"n"}`), http.Header{
		"Authorization": {"Bearer k"}, "X-Multi": {"one", "two"}, "User-Agent": {"tester"},
	})
	ev := event(t, rec)
	checks := []struct {
		name      string
		got, want any
	}{
		{"httpMethod", ev.HTTPMethod, "POST"},
		{"path", ev.Path, "/admin/users"},
		{"body", ev.Body, `{"name":"n"}`},
		{"isBase64Encoded", ev.IsBase64Encoded, false},
		{"query last value", ev.QueryStringParameters["a"], "2"},
		{"query all values", strings.Join(ev.MultiValueQueryStringParameters["a"], ","), "1,2"},
		{"header last value", ev.Headers["X-Multi"], "two"},
		{"header all values", strings.Join(ev.MultiValueHeaders["X-Multi"], ","), "one,two"},
		{"authorization forwarded", ev.Headers["Authorization"], "Bearer k"},
		{"stage", ev.RequestContext.Stage, "test"},
		{"apiId", ev.RequestContext.APIID, "api123"},
		{"accountId", ev.RequestContext.AccountID, "123456789012"},
		// As called: the local server has no stage in its URLs.
		{"context path", ev.RequestContext.Path, "/admin/users"},
		{"user agent", ev.RequestContext.Identity.UserAgent, "tester"},
		{"source ip", ev.RequestContext.Identity.SourceIP != "", true},
		{"request time", ev.RequestContext.RequestTimeEpoch > 0, true},
		{"request id header", rec.Header().Get("X-Amzn-Requestid"), ev.RequestContext.RequestID},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestRequestIDsAreUniqueUUIDs(t *testing.T) {
	f := newGateway(t, nil)
	seen := map[string]bool{}
	for range 50 {
		id := event(t, f.do(t, "GET", "/healthz", nil, nil)).RequestContext.RequestID
		if len(id) != 36 || strings.Count(id, "-") != 4 || id[14] != '4' {
			t.Fatalf("request ID %q is not a version-4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("request ID %q repeated", id)
		}
		seen[id] = true
	}
}

func TestAuthorizerGetsRequestEventWithMethodARN(t *testing.T) {
	var got events.APIGatewayCustomAuthorizerRequestTypeRequest
	f := newGateway(t, func(o *Options) {
		o.Authorizers[routes.TokenAuth] = func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			got = req
			return allowAll(ctx, req)
		}
	})
	event(t, f.do(t, "GET", "/feed/abc/tmy/hourly?token=q", nil, http.Header{"Authorization": {"Bearer h"}}))
	checks := []struct{ name, got, want string }{
		{"type", got.Type, "REQUEST"},
		{"methodArn", got.MethodArn, "arn:aws:execute-api:eu-west-1:123456789012:api123/test/GET/feed/abc/tmy/hourly"},
		{"resource", got.Resource, "/feed/{token}/{service}/{proxy+}"},
		{"path", got.Path, "/feed/abc/tmy/hourly"},
		{"token path parameter", got.PathParameters["token"], "abc"},
		{"query", got.QueryStringParameters["token"], "q"},
		{"header", got.Headers["Authorization"], "Bearer h"},
		{"resourcePath", got.RequestContext.ResourcePath, "/feed/{token}/{service}/{proxy+}"},
		{"stage", got.RequestContext.Stage, "test"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestAuthorizerOutcomesMapToStatuses(t *testing.T) {
	const arn = "arn:aws:execute-api:eu-west-1:123456789012:api123/test/GET/data/tmy/hourly"
	for _, tc := range []struct {
		name   string
		answer events.APIGatewayCustomAuthorizerResponse
		err    error
		panics bool
		status int
		code   string
	}{
		{name: "allow exact", answer: policy("p", "Allow", arn, nil), status: 200},
		{name: "allow wildcard", answer: policy("p", "Allow", "arn:aws:execute-api:eu-west-1:123456789012:api123/test/GET/data/tmy/*", nil), status: 200},
		{name: "Unauthorized error", err: errors.New("Unauthorized"), status: 401, code: "unauthorized"},
		{name: "wrapped Unauthorized is not recognised", err: errors.New("auth: Unauthorized"), status: 503, code: "unavailable"},
		{name: "other error", err: errors.New("store down"), status: 503, code: "unavailable"},
		{name: "panic", panics: true, status: 503, code: "unavailable"},
		{name: "explicit deny", answer: policy("p", "Deny", arn, nil), status: 403, code: "forbidden"},
		{name: "explicit deny with its reason", answer: policy("p", "Deny", arn, map[string]any{"errorCode": "ip_not_allowed", "errorMessage": "Not from this IP address."}), status: 403, code: "ip_not_allowed"},
		{name: "an implicit deny reads the context too", answer: policy("p", "Allow", arn+"x", map[string]any{"errorCode": "x", "errorMessage": "y"}), status: 403, code: "x"},
		{name: "allow for another resource", answer: policy("p", "Allow", arn+"x", nil), status: 403, code: "forbidden"},
		{name: "allow for another service", answer: policy("p", "Allow", "arn:aws:execute-api:eu-west-1:123456789012:api123/test/GET/data/timeseries/*", nil), status: 403, code: "forbidden"},
		{name: "no principal", answer: policy("", "Allow", arn, nil), status: 503, code: "unavailable"},
		{name: "nested context value", answer: policy("p", "Allow", arn, map[string]any{"x": map[string]any{"y": 1}}), status: 503, code: "unavailable"},
		{name: "empty policy", answer: events.APIGatewayCustomAuthorizerResponse{PrincipalID: "p"}, status: 503, code: "unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newGateway(t, func(o *Options) {
				o.Authorizers[routes.TokenAuth] = func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
					if tc.panics {
						panic("authorizer bug")
					}
					return tc.answer, tc.err
				}
			})
			rec := f.do(t, "GET", "/data/tmy/hourly", nil, nil)
			if tc.status == 200 {
				event(t, rec)
				return
			}
			wantError(t, rec, tc.status, tc.code)
		})
	}
}

func TestAuthorizerContextReachesBackendAsStrings(t *testing.T) {
	f := newGateway(t, func(o *Options) {
		o.Authorizers[routes.TokenAuth] = func(_ context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			return policy("tok_9", "Allow", req.MethodArn, map[string]any{
				"accountId": "acc_9", "publicOnly": true, "limit": 2.5, "count": 3, "settings": `{"a":1}`,
			}), nil
		}
	})
	got := event(t, f.do(t, "GET", "/data/tmy/x", nil, nil)).RequestContext.Authorizer
	want := map[string]any{
		"principalId": "tok_9", "accountId": "acc_9", "publicOnly": "true", "limit": "2.5", "count": "3", "settings": `{"a":1}`,
	}
	if len(got) != len(want) {
		t.Errorf("authorizer context %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("authorizer[%s] = %#v, want %#v", k, got[k], v)
		}
	}
}

func TestFunctionFailuresBecomeJSONErrorsNotPanics(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fn     ProxyFunc
		status int
		code   string
	}{
		{"error", func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{}, errors.New("boom")
		}, 502, "bad_gateway"},
		{"panic", func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			panic("handler bug")
		}, 502, "bad_gateway"},
		{"no status", func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{Body: "{}"}, nil
		}, 502, "bad_gateway"},
		{"bad base64 body", func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: "!!", IsBase64Encoded: true}, nil
		}, 502, "bad_gateway"},
		{"past the timeout", func(ctx context.Context, _ events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			<-ctx.Done()
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		}, 504, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newGateway(t, func(o *Options) {
				o.Functions[routes.Health] = tc.fn
				o.IntegrationTimeout = 50 * time.Millisecond
			})
			wantError(t, f.do(t, "GET", "/healthz", nil, nil), tc.status, tc.code)
		})
	}
}

func TestProxyResponseIsWrittenAsTheFunctionAnswered(t *testing.T) {
	f := newGateway(t, func(o *Options) {
		o.Functions[routes.Health] = func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{
				StatusCode:        http.StatusTeapot,
				Headers:           map[string]string{"X-One": "1", "X-Both": "single"},
				MultiValueHeaders: map[string][]string{"X-Both": {"m1", "m2"}},
				Body:              base64.StdEncoding.EncodeToString([]byte{0xff, 0x00}),
				IsBase64Encoded:   true,
			}, nil
		}
	})
	rec := f.do(t, "GET", "/healthz", nil, nil)
	if rec.Code != http.StatusTeapot || !bytes.Equal(rec.Body.Bytes(), []byte{0xff, 0x00}) {
		t.Fatalf("got %d %x", rec.Code, rec.Body.Bytes())
	}
	if got := rec.Header().Get("X-One"); got != "1" {
		t.Errorf("X-One = %q", got)
	}
	if got := strings.Join(rec.Header().Values("X-Both"), ","); got != "m1,m2" {
		t.Errorf("X-Both = %q, want the multi-value entry only", got)
	}
}

func TestBodiesOverTenMegabytesAnswer413(t *testing.T) {
	f := newGateway(t, nil)
	wantError(t, f.do(t, "POST", "/admin/users", bytes.Repeat([]byte("a"), MaxBodyBytes+1), nil), http.StatusRequestEntityTooLarge, "request_too_large")
	event(t, f.do(t, "POST", "/admin/users", bytes.Repeat([]byte("a"), MaxBodyBytes), nil))
}

func TestNonUTF8BodiesArriveBase64Encoded(t *testing.T) {
	f := newGateway(t, nil)
	ev := event(t, f.do(t, "POST", "/admin/users", []byte{0xff, 0xfe}, nil))
	if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe}) {
		t.Errorf("body %q base64 %v", ev.Body, ev.IsBase64Encoded)
	}
}

func TestOperatorRoutesNeedTheOperatorKey(t *testing.T) {
	f := newGateway(t, nil)
	for _, tc := range []struct {
		name   string
		header http.Header
		status int
	}{
		{"no header", nil, 401},
		{"wrong key", http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"key as prefix", http.Header{"Authorization": {"Bearer " + testOperatorKey + "x"}}, 401},
		{"other scheme", http.Header{"Authorization": {"Basic " + testOperatorKey}}, 401},
		{"right key", http.Header{"Authorization": {"Bearer " + testOperatorKey}}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(t, "POST", "/operator/accounts", []byte(`{}`), tc.header)
			if tc.status != 200 {
				wantError(t, rec, tc.status, "unauthorized")
				return
			}
			ev := event(t, rec)
			if _, ok := ev.Headers["Authorization"]; ok || strings.Contains(rec.Body.String(), testOperatorKey) {
				t.Error("the operator key reached the function")
			}
			if ev.RequestContext.Identity.UserArn == "" {
				t.Error("no caller identity for an IAM-authorised route")
			}
		})
	}
}

func TestAccessLogHasTheTemplateAndAuthorizerContextNeverThePath(t *testing.T) {
	const secret = "46a4eccec1414feab118287f5af26f03"
	f := newGateway(t, func(o *Options) {
		o.Authorizers[routes.TokenAuth] = func(_ context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
			return policy("tok_1", "Deny", req.MethodArn, map[string]any{"accountId": "acc_1", "tokenId": "tok_1", "service": "tmy", "outcome": "wrong_service"}), nil
		}
	})
	wantError(t, f.do(t, "GET", "/feed/"+secret+"/tmy/hourly?token="+secret, nil, nil), 403, "forbidden")
	if len(f.entries) != 1 {
		t.Fatalf("%d access-log entries, want 1", len(f.entries))
	}
	e := f.entries[0]
	if e.ResourcePath != "/feed/{token}/{service}/{proxy+}" || e.Status != 403 || e.ErrorType != string(gatewayresp.AccessDenied) ||
		e.TokenID != "tok_1" || e.AccountID != "acc_1" || e.Outcome != "wrong_service" || e.RequestID == "" || e.HTTPMethod != "GET" {
		t.Errorf("entry %+v", e)
	}
	if strings.Contains(string(e.Line()), secret) {
		t.Error("the access-log line holds the token")
	}
}

func TestNewRefusesIncompleteOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Options)
	}{
		{"no routes", func(o *Options) { o.Routes = nil }},
		{"missing function", func(o *Options) { delete(o.Functions, routes.Data) }},
		{"missing authorizer", func(o *Options) { delete(o.Authorizers, routes.TokenAuth) }},
		{"no operator key", func(o *Options) { o.OperatorKey = "" }},
		{"duplicate route", func(o *Options) { o.Routes = append(o.Routes, testRoutes[0]) }},
		{"conflicting parameter names", func(o *Options) {
			o.Routes = append(o.Routes, routes.Route{Method: "PUT", Path: "/admin/users/{id}", Function: routes.Manage, Auth: routes.Public})
		}},
		{"greedy not last", func(o *Options) {
			o.Routes = append(o.Routes, routes.Route{Method: "GET", Path: "/x/{p+}/y", Function: routes.Manage, Auth: routes.Public})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{
				Routes:      append([]routes.Route(nil), testRoutes...),
				Functions:   map[routes.Function]ProxyFunc{routes.Health: echo, routes.Manage: echo, routes.Data: echo, routes.Operator: echo},
				Authorizers: map[routes.Auth]AuthorizerFunc{routes.APIKeyAuth: allowAll, routes.TokenAuth: allowAll},
				OperatorKey: testOperatorKey,
			}
			tc.edit(&opts)
			if _, err := New(opts); err == nil {
				t.Error("New accepted the options")
			}
		})
	}
}
