package stack

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/httpapi"
)

func TestTokenIsShownOnlyInTheResponseThatCreatesIt(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", map[string]any{"name": "once"})
	if tok.Hint != tok.Token[28:] || tok.Type != "userless" || tok.Status != "active" || !tok.IsDefault {
		t.Errorf("created %+v", tok.TokenView)
	}
	for _, path := range []string{"/admin/tokens/" + tok.ID, "/admin/services/tmy/tokens", "/admin/services/tmy/tokens/default"} {
		r := a.call(t, "GET", path, acc.Key, nil)
		want[any](t, r, http.StatusOK)
		if strings.Contains(string(r.Body), tok.Token) || strings.Contains(string(r.Body), `"token"`) {
			t.Errorf("GET %s shows the token: %s", path, r.Body)
		}
	}
}

func TestTokenListingFiltersAndMarksTheDefault(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	u := a.createUser(t, acc, "ann@example.com")
	a.setAccess(t, acc, "tmy", u.ID, true)
	first := a.issue(t, acc, "tmy", nil)
	userTok := a.issue(t, acc, "tmy", map[string]any{"userId": u.ID})
	last := a.issue(t, acc, "tmy", map[string]any{"expiresAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})

	ids := func(path string) []string {
		t.Helper()
		list := want[httpapi.List[httpapi.TokenView]](t, a.call(t, "GET", path, acc.Key, nil), http.StatusOK)
		var out []string
		for _, tok := range list.Items {
			out = append(out, tok.ID)
			if tok.IsDefault != (tok.ID == first.ID) {
				t.Errorf("%s: token %s isDefault %v", path, tok.ID, tok.IsDefault)
			}
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{last.ID, userTok.ID, first.ID}}, // newest first
		{"?type=user", []string{userTok.ID}},
		{"?type=userless", []string{last.ID, first.ID}},
		{"?userId=" + u.ID, []string{userTok.ID}},
		{"?status=active", []string{last.ID, userTok.ID, first.ID}},
		{"?status=disabled", nil},
	} {
		if got := ids("/admin/services/tmy/tokens" + tc.query); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("list%s = %v, want %v", tc.query, got, tc.want)
		}
	}

	def := want[httpapi.TokenView](t, a.call(t, "GET", "/admin/services/tmy/tokens/default", acc.Key, nil), http.StatusOK)
	if def.ID != first.ID || !def.IsDefault {
		t.Errorf("default %+v, want %s", def, first.ID)
	}
	// Disabling the default hands the role to the next-earliest active token.
	want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+first.ID, acc.Key, map[string]bool{"enabled": false}), http.StatusOK)
	if def := want[httpapi.TokenView](t, a.call(t, "GET", "/admin/services/tmy/tokens/default", acc.Key, nil), http.StatusOK); def.ID != userTok.ID {
		t.Errorf("default after disabling the first: %s, want %s", def.ID, userTok.ID)
	}
}

func TestNoDefaultTokenAnswers404(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	wantError(t, a.call(t, "GET", "/admin/services/tmy/tokens/default", acc.Key, nil), http.StatusNotFound, "")
}

func TestAdminRenamesDisablesEnablesAndDeletesTokens(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)

	renamed := want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]string{"name": "renamed"}), http.StatusOK)
	if renamed.Name != "renamed" {
		t.Errorf("name %q", renamed.Name)
	}
	disabled := want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]bool{"enabled": false}), http.StatusOK)
	if disabled.Status != "disabled" {
		t.Errorf("status %q after disabling", disabled.Status)
	}
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusUnauthorized {
		t.Errorf("data call with a disabled token: %d, want 401", got)
	}
	enabled := want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]bool{"enabled": true}), http.StatusOK)
	if enabled.Status != "active" || enabled.DisabledReason != nil {
		t.Errorf("after enabling: %+v", enabled)
	}
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusOK {
		t.Errorf("data call with a re-enabled token: %d, want 200", got)
	}
	want[any](t, a.call(t, "DELETE", "/admin/tokens/"+tok.ID, acc.Key, nil), http.StatusNoContent)
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusUnauthorized {
		t.Errorf("data call with a deleted token: %d, want 401", got)
	}
	wantError(t, a.call(t, "GET", "/admin/tokens/"+tok.ID, acc.Key, nil), http.StatusNotFound, "")
}

func TestCloneCopiesServiceUserAndSettingsAndCanRevokeTheSource(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	u := a.createUser(t, acc, "ann@example.com")
	a.setAccess(t, acc, "tmy", u.ID, true)
	src := a.issue(t, acc, "tmy", map[string]any{"userId": u.ID, "name": "src"})

	settings := map[string]any{"publicOnly": true, "maxRows": 10.0, "tier": "gold"}
	withSettings := want[httpapi.TokenView](t, a.call(t, "PUT", "/operator/tokens/"+src.ID+"/settings", a.operatorKey, map[string]any{"settings": settings}), http.StatusOK)
	if len(withSettings.Settings) != len(settings) {
		t.Fatalf("settings %v", withSettings.Settings)
	}
	// Admins read settings but cannot set them.
	wantError(t, a.call(t, "PATCH", "/admin/tokens/"+src.ID, acc.Key, map[string]any{"settings": settings}), http.StatusBadRequest, "unknown_field")

	clone := want[httpapi.NewTokenView](t, a.call(t, "POST", "/admin/tokens/"+src.ID+"/clone", acc.Key, map[string]any{"name": "rotated", "revokeSourceAfterSeconds": 3600}), http.StatusCreated)
	if clone.ID == src.ID || clone.Token == src.Token || clone.Service != "tmy" || clone.UserID == nil || *clone.UserID != u.ID || clone.Name != "rotated" {
		t.Errorf("clone %+v", clone.TokenView)
	}
	for k, v := range settings {
		if clone.Settings[k] != v {
			t.Errorf("clone setting %s = %v, want %v", k, clone.Settings[k], v)
		}
	}
	if got := a.getToken(t, acc, src.ID); got.ExpiresAt == nil {
		t.Error("the grace period set no expiry on the source")
	}
	for _, tok := range []string{src.Token, clone.Token} {
		if got := a.dataStatus(t, "tmy", tok); got != http.StatusOK {
			t.Errorf("data call during the grace period: %d", got)
		}
	}
	wantError(t, a.call(t, "POST", "/admin/tokens/tok_nothere/clone", acc.Key, nil), http.StatusNotFound, "")
}

// TestACloneKeepsItsSourcesExpiry: through the API, a clone of an expiring
// token expires when its source does (or sooner, if asked); asking for a
// later expiry is a 400, so rotating never extends a token's life.
func TestACloneKeepsItsSourcesExpiry(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	expires := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	src := a.issue(t, acc, "tmy", map[string]any{"expiresAt": expires.Format(time.RFC3339)})
	clone := want[httpapi.NewTokenView](t, a.call(t, "POST", "/admin/tokens/"+src.ID+"/clone", acc.Key, map[string]any{}), http.StatusCreated)
	if clone.ExpiresAt == nil || *clone.ExpiresAt != *src.ExpiresAt {
		t.Fatalf("clone expiresAt %v, want the source's %v", clone.ExpiresAt, *src.ExpiresAt)
	}
	sooner := expires.Add(-time.Hour).Format(time.RFC3339)
	c2 := want[httpapi.NewTokenView](t, a.call(t, "POST", "/admin/tokens/"+src.ID+"/clone", acc.Key, map[string]any{"expiresAt": sooner}), http.StatusCreated)
	if got := a.getToken(t, acc, c2.ID); got.ExpiresAt == nil || *got.ExpiresAt > *src.ExpiresAt {
		t.Fatalf("clone asked to expire sooner reads expiresAt %v", got.ExpiresAt)
	}
	later := expires.Add(time.Hour).Format(time.RFC3339)
	wantError(t, a.call(t, "POST", "/admin/tokens/"+src.ID+"/clone", acc.Key, map[string]any{"expiresAt": later}), http.StatusBadRequest, "invalid_expires_at")
	wantError(t, a.call(t, "POST", "/admin/tokens/"+src.ID+"/clone", acc.Key, map[string]any{"expiresAt": "soon"}), http.StatusBadRequest, "invalid_expires_at")
}
