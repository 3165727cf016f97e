package manage_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/handlers/manage"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/testkit/handlertest"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

func newHandler(t *testing.T) (*handlertest.Env, *httpapi.Router) {
	t.Helper()
	env := handlertest.New(t)
	h, err := manage.New(env.Mgr, nil)
	if err != nil {
		t.Fatal(err)
	}
	return env, h
}

func TestCreateUserValidatesAndKeepsEmailsUnique(t *testing.T) {
	env, h := newHandler(t)
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"valid", `{"email":"ada@example.com","name":"Ada"}`, http.StatusCreated, ""},
		{"same email in other case", `{"email":"ADA@example.com","name":"Ada again"}`, http.StatusConflict, "email_taken"},
		{"missing name", `{"email":"bob@example.com"}`, http.StatusBadRequest, "missing_field"},
		{"bad email", `{"email":"bob","name":"Bob"}`, http.StatusBadRequest, "invalid_email"},
		{"name too long", `{"email":"bob@example.com","name":"` + strings.Repeat("b", 101) + `"}`, http.StatusBadRequest, "invalid_name"},
		{"control character", `{"email":"bob@example.com","name":"Bo\u0007b"}`, http.StatusBadRequest, "invalid_name"},
		{"unknown field", `{"email":"bob@example.com","name":"Bob","role":"admin"}`, http.StatusBadRequest, "unknown_field"},
		{"wrong type", `{"email":42,"name":"Bob"}`, http.StatusBadRequest, "invalid_field"},
		{"over 64 KiB", `{"email":"bob@example.com","name":"` + strings.Repeat("b", 70000) + `"}`, http.StatusRequestEntityTooLarge, "payload_too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := handlertest.Call(t, h.Serve, "manage/create-user.json", env.Vars(map[string]string{"body": tc.body}))
			if resp.StatusCode != tc.status || handlertest.ErrorCode(t, resp) != tc.code {
				t.Fatalf("status %d body %s; want %d %s", resp.StatusCode, resp.Body, tc.status, tc.code)
			}
		})
	}
}

func TestListTokensFiltersAndMarksTheDefault(t *testing.T) {
	env, h := newHandler(t)
	ctx := audit.WithOperator(context.Background(), "test")
	u, err := env.Mgr.CreateUser(ctx, env.Account.ID, "ada@example.com", "Ada")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Mgr.SetAccess(ctx, env.Account.ID, "tmy", u.ID, true); err != nil {
		t.Fatal(err)
	}
	first, _, err := env.Mgr.IssueToken(ctx, env.Account.ID, "tmy", tokens.IssueRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Mgr.IssueToken(ctx, env.Account.ID, "tmy", tokens.IssueRequest{UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, service, typ, limit string
		status, items             int
		code                      string
	}{
		{"all", "tmy", "", "", http.StatusOK, 2, ""},
		{"userless only", "tmy", "userless", "", http.StatusOK, 1, ""},
		{"user only", "tmy", "user", "", http.StatusOK, 1, ""},
		{"one per page", "tmy", "", "1", http.StatusOK, 1, ""},
		{"other service is empty", "timeseries", "", "", http.StatusOK, 0, ""},
		{"bad type", "tmy", "robot", "", http.StatusBadRequest, 0, "invalid_type"},
		{"limit zero", "tmy", "", "0", http.StatusBadRequest, 0, "invalid_limit"},
		{"limit too big", "tmy", "", "101", http.StatusBadRequest, 0, "invalid_limit"},
		{"unsubscribed service", "weather", "", "", http.StatusNotFound, 0, "service_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := handlertest.Call(t, h.Serve, "manage/list-tokens.json", env.Vars(map[string]string{"service": tc.service, "type": tc.typ, "limit": tc.limit}))
			if resp.StatusCode != tc.status || handlertest.ErrorCode(t, resp) != tc.code {
				t.Fatalf("status %d body %s; want %d %s", resp.StatusCode, resp.Body, tc.status, tc.code)
			}
			if tc.status != http.StatusOK {
				return
			}
			list := handlertest.Decode[httpapi.List[httpapi.TokenView]](t, resp)
			if len(list.Items) != tc.items {
				t.Fatalf("%d items, want %d: %s", len(list.Items), tc.items, resp.Body)
			}
			for _, item := range list.Items {
				if item.IsDefault != (item.ID == first.ID) {
					t.Fatalf("isDefault wrong on %s: %s", item.ID, resp.Body)
				}
			}
			if strings.Contains(resp.Body, `"token":`) {
				t.Fatalf("a listing carries a secret: %s", resp.Body)
			}
		})
	}
}

func TestPatchTokenRenamesDisablesAndRefusesOtherAccounts(t *testing.T) {
	env, h := newHandler(t)
	ctx := audit.WithOperator(context.Background(), "test")
	tok, _, err := env.Mgr.IssueToken(ctx, env.Account.ID, "tmy", tokens.IssueRequest{})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := env.Mgr.CreateAccount(ctx, "Other", []string{"tmy"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, accountID, body string
		status                int
		code, wantStatus      string
	}{
		{"rename", env.Account.ID, `{"name":"reporting"}`, http.StatusOK, "", "active"},
		{"disable", env.Account.ID, `{"enabled":false}`, http.StatusOK, "", "disabled"},
		{"enable", env.Account.ID, `{"enabled":true}`, http.StatusOK, "", "active"},
		{"empty name", env.Account.ID, `{"name":""}`, http.StatusBadRequest, "invalid_name", ""},
		{"status is read-only", env.Account.ID, `{"status":"active"}`, http.StatusBadRequest, "unknown_field", ""},
		{"another account", other.ID, `{"name":"stolen"}`, http.StatusNotFound, "token_not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := handlertest.Call(t, h.Serve, "manage/patch-token.json", env.Vars(map[string]string{"tokenId": tok.ID, "accountId": tc.accountID, "body": tc.body}))
			if resp.StatusCode != tc.status || handlertest.ErrorCode(t, resp) != tc.code {
				t.Fatalf("status %d body %s; want %d %s", resp.StatusCode, resp.Body, tc.status, tc.code)
			}
			if tc.status == http.StatusOK {
				if got := handlertest.Decode[httpapi.TokenView](t, resp); got.Status != tc.wantStatus {
					t.Fatalf("status field %q, want %q", got.Status, tc.wantStatus)
				}
			}
		})
	}
	got, err := env.Mgr.Token(ctx, env.Account.ID, tok.ID)
	if err != nil || got.Name != "reporting" {
		t.Fatalf("after the table: %+v, %v (another account's rename must not land)", got, err)
	}
}
