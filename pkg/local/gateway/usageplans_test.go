package gateway

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/gatewayresp"
	"github.com/acmedata/tokenservice/pkg/local/usageplans"
	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/routes"
)

// allowWithKey allows the request's method ARN, with a token's context,
// and counts the call against usage key key ("" for none).
func allowWithKey(key string) AuthorizerFunc {
	return func(_ context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		resp := policy("tok_1", "Allow", req.MethodArn, map[string]any{"accountId": "acc_1", "tokenId": "tok_1", "service": "tmy"})
		resp.UsageIdentifierKey = key
		return resp, nil
	}
}

// limitedGateway is a gateway whose token authorizer allows every call
// under usage key key, in front of usage plans holding plan p with the
// key "limitedPlansUsageKey0001".
func limitedGateway(t *testing.T, p plans.Plan, key string) (*fixture, *int) {
	t.Helper()
	e, err := usageplans.Open(usageplans.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	if err := e.PutPlan(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if err := e.PutKey(t.Context(), plans.Key{Value: "limitedPlansUsageKey0001", PlanID: p.ID}); err != nil {
		t.Fatal(err)
	}
	backend := 0
	f := newGateway(t, func(o *Options) {
		o.UsagePlans = e
		o.Authorizers[routes.TokenAuth] = allowWithKey(key)
		o.Functions[routes.Data] = func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			backend++
			return echo(ctx, ev)
		}
	})
	return f, &backend
}

// wantRefusalLogged checks that the last access-log entry is a refusal of
// type typ that kept the authorizer's context, so the usage history
// records the call.
func (f *fixture) wantRefusalLogged(t *testing.T, status int, typ gatewayresp.Type) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.entries) == 0 {
		t.Fatal("no access-log entry")
	}
	e := f.entries[len(f.entries)-1]
	want := accesslog.Entry{Status: status, ErrorType: string(typ), AccountID: "acc_1", TokenID: "tok_1", Service: "tmy"}
	if e.Status != want.Status || e.ErrorType != want.ErrorType || e.AccountID != want.AccountID || e.TokenID != want.TokenID || e.Service != want.Service {
		t.Errorf("access-log entry %+v, want status %d, errorType %s and the authorizer's account, token and service", e, status, typ)
	}
}

func TestACallOverItsPlansRateAnswers429RateLimitedAndIsLogged(t *testing.T) {
	f, backend := limitedGateway(t, plans.Plan{ID: "p", Rate: 0.1, Burst: 2}, "limitedPlansUsageKey0001")
	for i := range 2 {
		if rec := f.do(t, "GET", "/data/tmy/hourly", nil, nil); rec.Code != http.StatusOK {
			t.Fatalf("call %d within the burst: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec := f.do(t, "GET", "/data/tmy/hourly", nil, nil)
	wantError(t, rec, http.StatusTooManyRequests, "rate_limited")
	if got := rec.Header().Get("X-Amzn-Errortype"); got != string(gatewayresp.Throttled) {
		t.Errorf("X-Amzn-Errortype %q, want THROTTLED", got)
	}
	f.wantRefusalLogged(t, http.StatusTooManyRequests, gatewayresp.Throttled)
	if *backend != 2 {
		t.Errorf("the backend ran %d times, want 2: a throttled call never reaches it", *backend)
	}
}

func TestACallOverItsPlansQuotaAnswers429QuotaExceededAndIsLogged(t *testing.T) {
	f, backend := limitedGateway(t, plans.Plan{ID: "p", Rate: 1000, Burst: 100, Quota: &plans.Quota{Limit: 3, Period: plans.Month}}, "limitedPlansUsageKey0001")
	for i := range 3 {
		if rec := f.do(t, "GET", "/feed/0123456789abcdef0123456789abcdef/tmy/hourly", nil, nil); rec.Code != http.StatusOK {
			t.Fatalf("call %d within the quota: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec := f.do(t, "GET", "/data/tmy/hourly", nil, nil)
	wantError(t, rec, http.StatusTooManyRequests, "quota_exceeded")
	f.wantRefusalLogged(t, http.StatusTooManyRequests, gatewayresp.QuotaExceeded)
	if *backend != 3 {
		t.Errorf("the backend ran %d times, want 3", *backend)
	}
}

func TestADataCallWithoutAKeyInAUsagePlanIsForbiddenAsOnAWS(t *testing.T) {
	for name, key := range map[string]string{"no key": "", "a key in no plan": "not-a-key-of-any-plan"} {
		t.Run(name, func(t *testing.T) {
			f, backend := limitedGateway(t, plans.Plan{ID: "p", Rate: 10, Burst: 10}, key)
			rec := f.do(t, "GET", "/data/tmy/hourly", nil, nil)
			wantError(t, rec, http.StatusForbidden, "forbidden")
			if got := rec.Header().Get("X-Amzn-Errortype"); got != string(gatewayresp.InvalidAPIKey) {
				t.Errorf("X-Amzn-Errortype %q, want INVALID_API_KEY", got)
			}
			f.wantRefusalLogged(t, http.StatusForbidden, gatewayresp.InvalidAPIKey)
			if *backend != 0 {
				t.Error("the backend ran for a call without a key")
			}
		})
	}
}

func TestOnlyTheTokenAuthorizersMethodsRequireAUsageKey(t *testing.T) {
	// Admin (API-key authorizer), operator and public routes have no
	// usage plan on our API: no key, no limit.
	f, _ := limitedGateway(t, plans.Plan{ID: "p", Rate: 0.1, Burst: 1}, "")
	for range 3 {
		if rec := f.do(t, "GET", "/admin/users", nil, nil); rec.Code != http.StatusOK {
			t.Fatalf("admin route: %d %s", rec.Code, rec.Body)
		}
		if rec := f.do(t, "GET", "/healthz", nil, nil); rec.Code != http.StatusOK {
			t.Fatalf("public route: %d %s", rec.Code, rec.Body)
		}
	}
}

func TestADeniedCallTakesNothingFromItsPlan(t *testing.T) {
	f, _ := limitedGateway(t, plans.Plan{ID: "p", Rate: 0.1, Burst: 1}, "limitedPlansUsageKey0001")
	deny := f.gw.opts.Authorizers[routes.TokenAuth]
	f.gw.opts.Authorizers[routes.TokenAuth] = func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		resp, err := deny(ctx, req)
		resp.PolicyDocument.Statement[0].Effect = "Deny"
		return resp, err
	}
	wantError(t, f.do(t, "GET", "/data/tmy/hourly", nil, nil), http.StatusForbidden, "forbidden")
	f.gw.opts.Authorizers[routes.TokenAuth] = deny
	if rec := f.do(t, "GET", "/data/tmy/hourly", nil, nil); rec.Code != http.StatusOK {
		t.Errorf("the first allowed call after a Deny: %d %s, want 200 (the burst of 1 untouched)", rec.Code, rec.Body)
	}
}
