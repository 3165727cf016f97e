package stack

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// TestSecretsTypedIntoFreeTextAreRefusedAsSecretInInput: a token or an
// API key typed into any free-text field answers 400 secret_in_input and
// changes nothing (no audit entry, nothing stored), while a 32-hex digest
// whose check fails is ordinary text and is kept.
func TestSecretsTypedIntoFreeTextAreRefusedAsSecretInInput(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	u := a.createUser(t, acc, "sam@example.com")
	tok := a.issue(t, acc, "tmy", map[string]any{"name": "before"})
	for _, tc := range []struct {
		name, method, path, credential string
		body                           any
	}{
		{"user name", "POST", "/admin/users", acc.Key, map[string]any{"email": "t@example.com", "name": tok.Token}},
		{"user rename", "PATCH", "/admin/users/" + u.ID, acc.Key, map[string]any{"name": "x " + tok.Token}},
		{"email", "PATCH", "/admin/users/" + u.ID, acc.Key, map[string]any{"email": tok.Token + "@example.com"}},
		{"token name", "POST", "/admin/services/tmy/tokens", acc.Key, map[string]any{"name": acc.Key}},
		{"token rename", "PATCH", "/admin/tokens/" + tok.ID, acc.Key, map[string]any{"name": tok.Token}},
		{"clone name", "POST", "/admin/tokens/" + tok.ID + "/clone", acc.Key, map[string]any{"name": tok.Token}},
		{"origin", "PATCH", "/admin/tokens/" + tok.ID, acc.Key, map[string]any{"restrictions": map[string]any{"origins": []string{"https://" + tok.Token + ".example.com"}}}},
		{"account name", "POST", "/operator/accounts", a.operatorKey, map[string]any{"name": tok.Token, "services": []string{"tmy"}}},
		{"setting key", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, map[string]any{"settings": map[string]any{"k" + tok.Token: 1}}},
		{"setting value", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, map[string]any{"settings": map[string]any{"note": acc.Key}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.call(t, tc.method, tc.path, tc.credential, tc.body)
			wantError(t, r, http.StatusBadRequest, tokens.SecretInInput)
		})
	}
	audit := want[httpapi.List[json.RawMessage]](t, a.call(t, "GET", "/admin/audit?targetId="+tok.ID, acc.Key, nil), http.StatusOK)
	if len(audit.Items) != 1 { // its creation only
		t.Errorf("the token's audit log holds %d entries after refused changes, want 1", len(audit.Items))
	}
	if got := a.getToken(t, acc, tok.ID); got.Name != "before" || len(got.Settings) != 0 || len(got.Restrictions.Origins) != 0 {
		t.Errorf("a refused change was kept: %+v", got)
	}
	const digest = "46a4eccec1414feab118287faafc5c80" // 32 hex, check fails
	renamed := want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]any{"name": "build " + digest}), http.StatusOK)
	if renamed.Name != "build "+digest {
		t.Errorf("a digest in a name was not kept as text: %q", renamed.Name)
	}
	a.assertNoSecretInLogs(t, acc.Key, tok.Token)
}

// TestTheDataBackendNeverEchoesItsPath: a token a caller puts in the path
// below the service (as well as where it belongs) is not in the 200.
func TestTheDataBackendNeverEchoesItsPath(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	for _, path := range []string{
		"/data/tmy/" + tok.Token + "?token=" + tok.Token,
		"/feed/" + tok.Token + "/tmy/" + tok.Token,
	} {
		r := a.call(t, "GET", path, "", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", strings.ReplaceAll(path, tok.Token, "{token}"), r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), tok.Token) {
			t.Errorf("GET %s: the answer holds the token", strings.ReplaceAll(path, tok.Token, "{token}"))
		}
	}
}
