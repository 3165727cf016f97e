package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/routes"
)

// TestAnOperatorIsTheSignersARNElseAPIGatewaysCaller: the principal of an
// operator's request is the IAM ARN API Gateway authenticated or, when it
// gives none, its caller ID; the audit request the handler receives and
// the router's request line name the same one, and a request with neither
// reaches the handler with no audit request at all (its writes are
// refused, never unattributed).
func TestAnOperatorIsTheSignersARNElseAPIGatewaysCaller(t *testing.T) {
	const arn, callerID = "arn:aws:sts::123456789012:assumed-role/TokenServiceOperator/ops", "AROAEXAMPLE:ops"
	for _, tc := range []struct {
		name, userArn, caller, want string
	}{
		{"the ARN", arn, callerID, arn},
		{"the caller without an ARN", "", callerID, callerID},
		{"nobody", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen string
			handlers := Handlers{}
			for _, rt := range routes.Of(routes.Operator) {
				handlers[rt] = func(ctx context.Context, _ Request) (int, any, error) {
					if r, err := audit.RequestFrom(ctx); err == nil {
						seen = r.Actor.Principal
					}
					return http.StatusOK, nil, nil
				}
			}
			var logs bytes.Buffer
			r, err := NewRouter(routes.Operator, slog.New(slog.NewJSONHandler(&logs, nil)), handlers)
			if err != nil {
				t.Fatal(err)
			}
			req := events.APIGatewayProxyRequest{HTTPMethod: routes.GetAccount.Method, Resource: routes.GetAccount.Path}
			req.RequestContext.RequestID = "req-1"
			req.RequestContext.Identity.UserArn, req.RequestContext.Identity.Caller = tc.userArn, tc.caller
			if resp, err := r.Serve(t.Context(), req); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("Serve: %d %s, %v", resp.StatusCode, resp.Body, err)
			}
			if seen != tc.want {
				t.Errorf("the handler's audit principal %q, want %q", seen, tc.want)
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("request line %q: %v", logs.String(), err)
			}
			got, logged := line["principal"]
			if tc.want == "" && logged || tc.want != "" && got != tc.want {
				t.Errorf("request line principal %v (logged %v), want %q", got, logged, tc.want)
			}
		})
	}
}
