package stack

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/handlers/operator"
	"github.com/acmedata/tokenservice/pkg/httpapi"
)

func TestOperatorRoutesRefuseAnythingButTheOperatorKey(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	for _, credential := range []string{"", "wrong", acc.Key, a.operatorKey + "x"} {
		for _, r := range []struct{ method, path string }{
			{"POST", "/operator/accounts"},
			{"GET", "/operator/accounts"},
			{"GET", "/operator/accounts/" + acc.ID},
			{"PATCH", "/operator/accounts/" + acc.ID},
			{"POST", "/operator/accounts/" + acc.ID + "/api-key"},
			{"PUT", "/operator/tokens/tok_x/settings"},
			{"PATCH", "/operator/tokens/tok_x"},
		} {
			wantError(t, a.call(t, r.method, r.path, credential, "{}"), http.StatusUnauthorized, "unauthorized")
		}
	}
}

func TestOperatorManagesAccounts(t *testing.T) {
	a := newAPI(t)
	r := a.call(t, "POST", "/operator/accounts", a.operatorKey, map[string]any{"name": "  Acme  ", "services": []string{"tmy", "timeseries"}})
	created := want[operator.CreatedAccount](t, r, http.StatusCreated)
	acc := created.Account
	if acc.Name != "Acme" || acc.Status != "active" || !slices.Equal(acc.Services, []string{"timeseries", "tmy"}) {
		t.Errorf("created %+v", acc)
	}
	if !strings.HasPrefix(created.APIKey, "tka_") || acc.APIKey.Hint != created.APIKey[len(created.APIKey)-4:] {
		t.Errorf("api key %q, hint %q", created.APIKey, acc.APIKey.Hint)
	}

	// A GET answers the resource itself (PRODUCT.md, "Shapes").
	got := want[httpapi.AccountView](t, a.call(t, "GET", "/operator/accounts/"+acc.ID, a.operatorKey, nil), http.StatusOK)
	if got.ID != acc.ID {
		t.Errorf("GET answered %+v", got)
	}

	patched := want[httpapi.AccountView](t, a.call(t, "PATCH", "/operator/accounts/"+acc.ID, a.operatorKey, map[string]any{"services": []string{"tmy"}}), http.StatusOK)
	if !slices.Equal(patched.Services, []string{"tmy"}) {
		t.Errorf("services after PATCH %v", patched.Services)
	}

	wantError(t, a.call(t, "GET", "/operator/accounts/acc_doesnotexist", a.operatorKey, nil), http.StatusNotFound, "")
	wantError(t, a.call(t, "POST", "/operator/accounts", a.operatorKey, map[string]any{"name": "X", "services": []string{"nope"}}), http.StatusBadRequest, "")
	wantError(t, a.call(t, "PATCH", "/operator/accounts/"+acc.ID, a.operatorKey, map[string]any{"status": "frozen"}), http.StatusBadRequest, "")
}

func TestAdminSeesItsAccountAndKeySummaryNeverTheKey(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	r := a.call(t, "GET", "/admin/account", acc.Key, nil)
	got := want[httpapi.AccountView](t, r, http.StatusOK)
	if got.ID != acc.ID || got.APIKey.ID == "" || got.APIKey.CreatedAt == "" || got.APIKey.Hint != acc.Key[len(acc.Key)-4:] {
		t.Errorf("account %+v", got)
	}
	if strings.Contains(string(r.Body), acc.Key) {
		t.Error("GET /admin/account shows the API key")
	}
}

func TestClosingAnAccountStopsItsKeyAndTokens(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusOK {
		t.Fatalf("data call before closing: %d", got)
	}
	want[httpapi.AccountView](t, a.call(t, "PATCH", "/operator/accounts/"+acc.ID, a.operatorKey, map[string]string{"status": "closed"}), http.StatusOK)
	wantError(t, a.call(t, "GET", "/admin/account", acc.Key, nil), http.StatusUnauthorized, "unauthorized")
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusUnauthorized {
		t.Errorf("data call after closing: %d, want 401", got)
	}
}

func TestDroppingAServiceForbidsItsTokens(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy", "timeseries")
	tok := a.issue(t, acc, "timeseries", nil)
	want[httpapi.AccountView](t, a.call(t, "PATCH", "/operator/accounts/"+acc.ID, a.operatorKey, map[string]any{"services": []string{"tmy"}}), http.StatusOK)
	if got := a.dataStatus(t, "timeseries", tok.Token); got != http.StatusForbidden {
		t.Errorf("data call for a dropped service: %d, want 403", got)
	}
	wantError(t, a.call(t, "GET", "/admin/services/timeseries", acc.Key, nil), http.StatusNotFound, "")
}
