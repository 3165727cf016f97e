package operator_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/handlers/operator"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/testkit/fixtures"
	"github.com/acmedata/tokenservice/pkg/testkit/handlertest"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// logLines decodes the JSON lines slog wrote to buf with message msg.
func logLines(t *testing.T, buf *bytes.Buffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if line["msg"] == msg {
			out = append(out, line)
		}
	}
	return out
}

// TestTheOperatorLogAndTheAuditEntryNameTheSamePrincipalAndAction: an
// operator's change leaves one log line and one audit entry that tell one
// story: the same principal (the signer's ARN, else API Gateway's caller,
// as a role session may come without an ARN), the same action, the same
// target, and the request ID that ties the line to the router's.
func TestTheOperatorLogAndTheAuditEntryNameTheSamePrincipalAndAction(t *testing.T) {
	const arn, callerID = "arn:aws:sts::123456789012:assumed-role/TokenServiceOperator/ops", "AROAEXAMPLE:ops"
	for _, tc := range []struct {
		name, userArn, caller, want string
	}{
		{"the ARN when API Gateway gives one", arn, callerID, arn},
		{"the caller when there is no ARN", "", callerID, callerID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := handlertest.New(t)
			var logs bytes.Buffer
			h, err := operator.New(env.Mgr, slog.New(slog.NewJSONHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			tok, _, err := env.Mgr.IssueToken(audit.WithOperator(context.Background(), "test"), env.Account.ID, "tmy", tokens.IssueRequest{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				fixture   string
				vars      map[string]string
				action    audit.Action
				accountID func(events.APIGatewayProxyResponse) string
				target    func(events.APIGatewayProxyResponse) string
			}{
				{
					"operator/create-account.json", map[string]string{"body": `{"name":"Globex","services":["tmy"]}`}, audit.AccountCreate,
					func(r events.APIGatewayProxyResponse) string {
						return handlertest.Decode[operator.CreatedAccount](t, r).Account.ID
					},
					func(r events.APIGatewayProxyResponse) string {
						return handlertest.Decode[operator.CreatedAccount](t, r).Account.ID
					},
				},
				{
					"operator/put-settings.json", map[string]string{"tokenId": tok.ID, "body": `{"settings":{"publicOnly":true}}`}, audit.SettingsUpdate,
					func(events.APIGatewayProxyResponse) string { return env.Account.ID },
					func(events.APIGatewayProxyResponse) string { return tok.ID },
				},
			} {
				logs.Reset()
				req := fixtures.Load[events.APIGatewayProxyRequest](t, c.fixture, c.vars)
				req.RequestContext.Identity.UserArn, req.RequestContext.Identity.Caller = tc.userArn, tc.caller
				resp, err := h.Serve(context.Background(), req)
				if err != nil || resp.StatusCode >= http.StatusBadRequest {
					t.Fatalf("%s: %d %s, %v", c.fixture, resp.StatusCode, resp.Body, err)
				}
				target := c.target(resp)

				lines := logLines(t, &logs, operator.LogMessage)
				if len(lines) != 1 {
					t.Fatalf("%s: %d %q lines, want 1: %s", c.fixture, len(lines), operator.LogMessage, logs.String())
				}
				l := lines[0]
				if l["principal"] != tc.want || l["action"] != string(c.action) || l["target"] != target || l["requestId"] != req.RequestContext.RequestID {
					t.Errorf("%s: log line %v, want principal %q, action %q, target %q, requestId %q", c.fixture, l, tc.want, c.action, target, req.RequestContext.RequestID)
				}

				p, err := env.Mgr.AuditLog(context.Background(), c.accountID(resp), audit.Filter{Action: c.action, TargetID: target}, paging.Request{Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Items) != 1 {
					t.Fatalf("%s: %d audit entries %s of %s, want 1", c.fixture, len(p.Items), c.action, target)
				}
				if got := p.Items[0].Actor; got != audit.Operator(tc.want) {
					t.Errorf("%s: audit actor %+v, want operator %q as the log line says", c.fixture, got, tc.want)
				}
			}
		})
	}
}
