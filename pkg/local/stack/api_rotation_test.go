package stack

import (
	"net/http"
	"testing"

	"github.com/acmedata/tokenservice/pkg/httpapi"
)

// TestKeyRotationStopsTheOldKeyAndItsTokens covers rule 7 through both
// routes that replace a key.
func TestKeyRotationStopsTheOldKeyAndItsTokens(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rotate func(a *api, acc account) response
	}{
		{"admin rotates", func(a *api, acc account) response {
			return a.call(t, "POST", "/admin/api-key/rotate", acc.Key, nil)
		}},
		{"operator replaces a lost key", func(a *api, acc account) response {
			return a.call(t, "POST", "/operator/accounts/"+acc.ID+"/api-key", a.operatorKey, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAPI(t)
			acc := a.createAccount(t, "tmy")
			old := a.issue(t, acc, "tmy", nil)

			rotated := want[httpapi.KeyView](t, tc.rotate(a, acc), http.StatusCreated)
			if rotated.APIKey == "" || rotated.APIKey == acc.Key {
				t.Fatalf("new key %q", rotated.APIKey)
			}
			wantError(t, a.call(t, "GET", "/admin/account", acc.Key, nil), http.StatusUnauthorized, "unauthorized")
			fresh := account{ID: acc.ID, Key: rotated.APIKey}
			view := want[httpapi.AccountView](t, a.call(t, "GET", "/admin/account", fresh.Key, nil), http.StatusOK)
			if view.APIKey.Hint != fresh.Key[len(fresh.Key)-4:] {
				t.Errorf("key hint %q after rotation", view.APIKey.Hint)
			}

			if got := a.dataStatus(t, "tmy", old.Token); got != http.StatusUnauthorized {
				t.Errorf("data call with a token of the old key: %d, want 401", got)
			}
			got := a.getToken(t, fresh, old.ID)
			if got.Status != "disabled" || got.DisabledReason == nil || *got.DisabledReason != "api_key_replaced" {
				t.Errorf("old token after rotation: status %q reason %v", got.Status, got.DisabledReason)
			}
			made := a.issue(t, fresh, "tmy", nil)
			if got := a.dataStatus(t, "tmy", made.Token); got != http.StatusOK {
				t.Errorf("data call with a token of the new key: %d", got)
			}

			enabled := want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+old.ID, fresh.Key, map[string]bool{"enabled": true}), http.StatusOK)
			if enabled.Status != "active" || enabled.DisabledReason != nil {
				t.Errorf("re-enabled token %+v", enabled)
			}
			if got := a.dataStatus(t, "tmy", old.Token); got != http.StatusOK {
				t.Errorf("data call with the re-enabled token: %d, want 200", got)
			}
		})
	}
}
