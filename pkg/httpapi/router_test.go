package httpapi

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/authctx"
	"github.com/acmedata/tokenservice/pkg/routes"
)

func serveOK(context.Context, Request) (int, any, error) {
	return 200, map[string]string{"ok": "yes"}, nil
}

func TestNewRouterRefusesHandlersThatDoNotMatchTheFunctionsRoutes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fn       routes.Function
		handlers Handlers
		wantErr  string
	}{
		{"every route served", routes.Clone, Handlers{routes.CloneToken: serveOK}, ""},
		{"a route without a handler", routes.Data, Handlers{routes.DataQuery: serveOK}, "no handler for route GET /feed/"},
		{"a nil handler", routes.Clone, Handlers{routes.CloneToken: nil}, "no handler for route POST /admin/tokens/{tokenId}/clone"},
		{"another function's route", routes.Clone, Handlers{routes.CloneToken: serveOK, routes.IssueToken: serveOK}, "not one of its routes"},
		{"a route not in the list", routes.Clone, Handlers{routes.CloneToken: serveOK, {Method: "GET", Path: "/x", Function: routes.Clone}: serveOK}, "not one of its routes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRouter(tc.fn, nil, tc.handlers)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("NewRouter: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("NewRouter error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestRouterAnswersPanicsUnknownRoutesAndMissingAccountsWithJSONErrors(t *testing.T) {
	r, err := NewRouter(routes.Health, nil, Handlers{routes.HealthCheck: func(context.Context, Request) (int, any, error) { panic("kaboom") }})
	if err != nil {
		t.Fatal(err)
	}
	clone, err := NewRouter(routes.Clone, nil, Handlers{routes.CloneToken: serveOK})
	if err != nil {
		t.Fatal(err)
	}
	withAccount := events.APIGatewayProxyRequestContext{Authorizer: map[string]any{authctx.AccountID: "acc_1"}}
	for _, tc := range []struct {
		name   string
		router *Router
		req    events.APIGatewayProxyRequest
		status int
	}{
		{"a panic", r, events.APIGatewayProxyRequest{HTTPMethod: "GET", Resource: "/healthz"}, 500},
		{"an unknown resource", r, events.APIGatewayProxyRequest{HTTPMethod: "GET", Resource: "/nowhere"}, 404},
		{"an unknown method", r, events.APIGatewayProxyRequest{HTTPMethod: "POST", Resource: "/healthz"}, 404},
		{"an authorised route without an account", clone, events.APIGatewayProxyRequest{HTTPMethod: "POST", Resource: routes.CloneToken.Path}, 401},
		{"an authorised route with an account", clone, events.APIGatewayProxyRequest{HTTPMethod: "POST", Resource: routes.CloneToken.Path, RequestContext: withAccount}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.router.Serve(t.Context(), tc.req)
			if err != nil {
				t.Fatalf("Serve returned error %v; API Gateway would answer a bare 502", err)
			}
			if resp.StatusCode != tc.status || strings.Contains(resp.Body, "kaboom") {
				t.Fatalf("status %d body %s, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			if tc.status >= 400 && !strings.HasPrefix(resp.Body, `{"error":{"code":`) {
				t.Fatalf("error body %s is not the contract's shape", resp.Body)
			}
		})
	}
}

// TestAdminRoutesRefuseQueryParametersTheyDoNotRead: a misspelt or made-up
// query parameter on an admin or operator route is a 400 that lists what
// the route reads and never repeats what was sent; data and public routes
// are not judged.
func TestAdminRoutesRefuseQueryParametersTheyDoNotRead(t *testing.T) {
	withAccount := events.APIGatewayProxyRequestContext{Authorizer: map[string]any{authctx.AccountID: "acc_1"}}
	clone, err := NewRouter(routes.Clone, nil, Handlers{routes.CloneToken: serveOK})
	if err != nil {
		t.Fatal(err)
	}
	audit, err := NewRouter(routes.Manage, nil, manageHandlers())
	if err != nil {
		t.Fatal(err)
	}
	health, err := NewRouter(routes.Health, nil, Handlers{routes.HealthCheck: serveOK})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "46a4eccec1414feab118287faafc5c80"
	for _, tc := range []struct {
		name   string
		router *Router
		route  routes.Route
		query  map[string][]string
		status int
	}{
		{"a route that takes none", clone, routes.CloneToken, map[string][]string{"x": {"1"}}, 400},
		{"a secret as the name", clone, routes.CloneToken, map[string][]string{secret: {""}}, 400},
		{"a misspelt filter", audit, routes.ListAudit, map[string][]string{"acton": {"token.create"}}, 400},
		{"a case variant", audit, routes.ListAudit, map[string][]string{"Limit": {"1"}}, 400},
		{"the route's own", audit, routes.ListAudit, map[string][]string{"limit": {"1"}, "targetId": {""}}, 200},
		{"none", clone, routes.CloneToken, nil, 200},
		{"a public route", health, routes.HealthCheck, map[string][]string{"x": {"1"}}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := events.APIGatewayProxyRequest{HTTPMethod: tc.route.Method, Resource: tc.route.Path, RequestContext: withAccount, MultiValueQueryStringParameters: tc.query}
			if tc.query != nil {
				req.QueryStringParameters = map[string]string{}
				for k, vs := range tc.query {
					req.QueryStringParameters[k] = vs[len(vs)-1]
				}
			}
			resp, _ := tc.router.Serve(t.Context(), req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			if tc.status == 400 && (!strings.Contains(resp.Body, `"unknown_query_parameter"`) || strings.Contains(resp.Body, secret)) {
				t.Fatalf("body %s", resp.Body)
			}
		})
	}
}

// manageHandlers serves every route of the manage function with serveOK.
func manageHandlers() Handlers {
	h := Handlers{}
	for _, rt := range routes.Of(routes.Manage) {
		h[rt] = serveOK
	}
	return h
}
