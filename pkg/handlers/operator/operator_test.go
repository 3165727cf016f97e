package operator_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/handlers/operator"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/testkit/handlertest"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

func TestCreateAccountAnswersAccountAndKey(t *testing.T) {
	env := handlertest.New(t)
	h, err := operator.New(env.Mgr, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"valid", `{"name":"Globex","services":["tmy"]}`, http.StatusCreated, ""},
		{"no services yet", `{"name":"Initech","services":[]}`, http.StatusCreated, ""},
		{"missing services", `{"name":"Globex"}`, http.StatusBadRequest, "missing_field"},
		{"unknown service", `{"name":"Globex","services":["weather"]}`, http.StatusBadRequest, "unknown_service"},
		{"blank name", `{"name":"   ","services":["tmy"]}`, http.StatusBadRequest, "invalid_name"},
		{"unknown field", `{"name":"Globex","services":["tmy"],"apiKey":"tka_x"}`, http.StatusBadRequest, "unknown_field"},
		{"not JSON", `name=Globex`, http.StatusBadRequest, "invalid_json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := handlertest.Call(t, h.Serve, "operator/create-account.json", map[string]string{"body": tc.body})
			if resp.StatusCode != tc.status || handlertest.ErrorCode(t, resp) != tc.code {
				t.Fatalf("status %d body %s; want %d %s", resp.StatusCode, resp.Body, tc.status, tc.code)
			}
			if tc.status != http.StatusCreated {
				return
			}
			got := handlertest.Decode[operator.CreatedAccount](t, resp)
			if got.Account.Status != "active" || !strings.HasPrefix(got.APIKey, "tka_") || !strings.HasSuffix(got.APIKey, got.Account.APIKey.Hint) {
				t.Fatalf("created %+v", got)
			}
		})
	}
}

func TestPutSettingsReplacesAToken(t *testing.T) {
	env := handlertest.New(t)
	h, err := operator.New(env.Mgr, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := env.Mgr.IssueToken(audit.WithOperator(context.Background(), "test"), env.Account.ID, "tmy", tokens.IssueRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, tokenID, body string
		status              int
		code                string
	}{
		{"flat settings", tok.ID, `{"settings":{"publicOnly":true,"maxRows":500,"tier":"gold"}}`, http.StatusOK, ""},
		{"clear", tok.ID, `{"settings":{}}`, http.StatusOK, ""},
		{"nested", tok.ID, `{"settings":{"a":{"b":1}}}`, http.StatusBadRequest, "invalid_settings"},
		{"null", tok.ID, `{"settings":null}`, http.StatusBadRequest, "missing_field"},
		{"missing", tok.ID, `{}`, http.StatusBadRequest, "missing_field"},
		{"unknown token", "tok_01jd0000000000000000000000", `{"settings":{}}`, http.StatusNotFound, "token_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := handlertest.Call(t, h.Serve, "operator/put-settings.json", map[string]string{"tokenId": tc.tokenID, "body": tc.body})
			if resp.StatusCode != tc.status || handlertest.ErrorCode(t, resp) != tc.code {
				t.Fatalf("status %d body %s; want %d %s", resp.StatusCode, resp.Body, tc.status, tc.code)
			}
			if tc.status == http.StatusOK && handlertest.Decode[httpapi.TokenView](t, resp).ID != tok.ID {
				t.Fatalf("answered another token: %s", resp.Body)
			}
		})
	}
}
