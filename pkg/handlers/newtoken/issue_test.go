package newtoken_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/handlers/newtoken"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/testkit/handlertest"
)

func TestIssueAnswersTheSecretOnceWithTheRepresentation(t *testing.T) {
	env := handlertest.New(t)
	h, err := newtoken.NewIssue(env.Mgr, nil)
	if err != nil {
		t.Fatal(err)
	}
	off, err := env.Mgr.CreateUser(audit.WithOperator(context.Background(), "test"), env.Account.ID, "off@example.com", "Off")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, service, body string
		status              int
		code                string
	}{
		{"userless", "tmy", `{"name":"nightly export"}`, http.StatusCreated, ""},
		{"empty body", "timeseries", ``, http.StatusCreated, ""},
		{"with expiry", "tmy", `{"expiresAt":"` + time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339) + `"}`, http.StatusCreated, ""},
		{"bad expiry", "tmy", `{"expiresAt":"tomorrow"}`, http.StatusBadRequest, "invalid_expires_at"},
		{"past expiry", "tmy", `{"expiresAt":"2001-01-01T00:00:00Z"}`, http.StatusBadRequest, "invalid_expires_at"},
		{"user with access off", "tmy", `{"userId":"` + off.ID + `"}`, http.StatusConflict, "user_access_off"},
		{"unknown field", "tmy", `{"token":"46a4eccec1414feab118287f5af26f03"}`, http.StatusBadRequest, "unknown_field"},
		{"name too long", "tmy", `{"name":"` + strings.Repeat("a", 101) + `"}`, http.StatusBadRequest, "invalid_name"},
		{"unknown service", "weather", `{}`, http.StatusNotFound, "service_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := handlertest.Call(t, h.Serve, "issue/issue-token.json", env.Vars(map[string]string{"service": tc.service, "body": tc.body}))
			if resp.StatusCode != tc.status || handlertest.ErrorCode(t, resp) != tc.code {
				t.Fatalf("status %d body %s; want %d %s", resp.StatusCode, resp.Body, tc.status, tc.code)
			}
			if tc.status != http.StatusCreated {
				return
			}
			got := handlertest.Decode[httpapi.NewTokenView](t, resp)
			if !secret.IsToken(got.Token) || got.Hint != secret.Hint(got.Token) || got.Service != tc.service || got.Type != "userless" || got.Status != "active" {
				t.Fatalf("created %+v", got)
			}
			again, err := env.Mgr.Token(context.Background(), env.Account.ID, got.ID)
			if err != nil || again.SecretHash != secret.Hash(got.Token) {
				t.Fatalf("stored token %+v, %v", again, err)
			}
		})
	}
}
