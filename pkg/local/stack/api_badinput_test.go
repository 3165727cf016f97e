package stack

import (
	"strings"
	"testing"
)

// TestBadInputAnswers4xxWithTheErrorBody: whatever a caller sends, bad
// input is a 4xx with PRODUCT.md's JSON error body, never a 5xx.
func TestBadInputAnswers4xxWithTheErrorBody(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	u := a.createUser(t, acc, "ann@example.com")
	tok := a.issue(t, acc, "tmy", nil)
	long := strings.Repeat("n", 101)
	huge := `{"name":"` + strings.Repeat("a", 64<<10) + `"}`

	for _, tc := range []struct {
		name, method, path string
		credential         string // "" for the account's key
		body               any
		status             int
	}{
		{"bad JSON", "POST", "/admin/users", "", `{"email":`, 400},
		{"not an object", "POST", "/admin/users", "", `[1,2]`, 400},
		{"two objects", "POST", "/admin/users", "", `{"email":"a@b.co","name":"A"}{}`, 400},
		{"unknown field", "POST", "/admin/users", "", `{"email":"b@b.co","name":"B","admin":true}`, 400},
		{"wrong type", "POST", "/admin/users", "", `{"email":1,"name":"B"}`, 400},
		{"bad email", "POST", "/admin/users", "", `{"email":"nope","name":"B"}`, 400},
		{"user name over 100", "POST", "/admin/users", "", `{"email":"c@b.co","name":"` + long + `"}`, 400},
		{"blank user name", "POST", "/admin/users", "", `{"email":"d@b.co","name":"   "}`, 400},
		{"control character in name", "PATCH", "/admin/users/" + u.ID, "", `{"name":"a\u0007b"}`, 400},
		{"token name over 100", "POST", "/admin/services/tmy/tokens", "", `{"name":"` + long + `"}`, 400},
		{"rename over 100", "PATCH", "/admin/tokens/" + tok.ID, "", `{"name":"` + long + `"}`, 400},
		{"bad expiry", "POST", "/admin/services/tmy/tokens", "", `{"expiresAt":"tomorrow"}`, 400},
		{"past expiry", "POST", "/admin/services/tmy/tokens", "", `{"expiresAt":"2001-01-01T00:00:00Z"}`, 400},
		{"negative grace", "POST", "/admin/tokens/" + tok.ID + "/clone", "", `{"revokeSourceAfterSeconds":-1}`, 400},
		{"access without active", "PUT", "/admin/services/tmy/users/" + u.ID, "", `{"active":"yes"}`, 400},
		{"limit 0", "GET", "/admin/users?limit=0", "", nil, 400},
		{"limit 101", "GET", "/admin/users?limit=101", "", nil, 400},
		{"limit abc", "GET", "/admin/services/tmy/tokens?limit=abc", "", nil, 400},
		{"garbage cursor", "GET", "/admin/users?cursor=notacursor", "", nil, 400},
		{"base64 garbage cursor", "GET", "/admin/services/tmy/tokens?cursor=eyJrIjoxfQ", "", nil, 400},
		{"huge cursor", "GET", "/admin/users?cursor=" + strings.Repeat("A", 4096), "", nil, 400},
		{"bad token type", "GET", "/admin/services/tmy/tokens?type=robot", "", nil, 400},
		{"bad token status", "GET", "/admin/services/tmy/tokens?status=sleeping", "", nil, 400},
		{"body over 64 KiB", "POST", "/admin/users", "", huge, 413},
		{"body over 64 KiB to clone", "POST", "/admin/tokens/" + tok.ID + "/clone", "", huge, 413},
		{"operator body over 64 KiB", "POST", "/operator/accounts", a.operatorKey, huge, 413},
		{"operator unknown field", "POST", "/operator/accounts", a.operatorKey, `{"name":"X","services":[],"plan":"gold"}`, 400},
		{"operator name over 100", "POST", "/operator/accounts", a.operatorKey, `{"name":"` + long + `","services":["tmy"]}`, 400},
		{"settings not flat", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, `{"settings":{"a":{"b":1}}}`, 400},
		{"unknown service", "GET", "/admin/services/nope/tokens", "", nil, 404},
		{"unknown user", "GET", "/admin/users/usr_nobody", "", nil, 404},
		{"malformed token ID", "GET", "/admin/tokens/%00%ff", "", nil, 404},
		{"no such route", "GET", "/admin/nothing", "", nil, 404},
		{"wrong method", "PUT", "/admin/users", "", `{}`, 404},
		{"no key", "GET", "/admin/account", "-", nil, 401},
		{"token instead of key", "GET", "/admin/account", tok.Token, nil, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			credential := tc.credential
			switch credential {
			case "":
				credential = acc.Key
			case "-":
				credential = ""
			}
			wantError(t, a.call(t, tc.method, tc.path, credential, tc.body), tc.status, "")
		})
	}
}
