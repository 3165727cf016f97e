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
