package stack

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// TestBadInputAnswers4xxWithTheErrorBody: whatever a caller sends, bad
// input is a 4xx with PRODUCT.md's JSON error body, never a 5xx.
func TestBadInputAnswers4xxWithTheErrorBody(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	u := a.createUser(t, acc, "ann@example.com")
	tok := a.issue(t, acc, "tmy", nil)
	long := strings.Repeat("n", 101)
	settings := func(v string) string { return `{"settings":{"maxRows":` + v + `}}` }
	huge := `{"name":"` + strings.Repeat("a", 64<<10) + `"}`
	badPlan := a.plan(t, map[string]any{"name": "bad input", "rate": 1, "burst": 1})

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
		// Strict JSON: what a reviewer reads is what the service does.
		{"duplicate field", "PUT", "/admin/services/tmy/users/" + u.ID, "", `{"active":true,"active":false}`, 400},
		{"duplicate field in settings", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, `{"settings":{"a":1,"a":2}}`, 400},
		{"case-variant field", "POST", "/admin/users", "", `{"EMAIL":"e@b.co","name":"E"}`, 400},
		{"case-variant field in a patch", "PATCH", "/admin/tokens/" + tok.ID, "", `{"Enabled":false}`, 400},
		{"invalid UTF-8", "POST", "/admin/users", "", "{\"email\":\"f@b.co\",\"name\":\"F\xff\"}", 400},
		{"lone surrogate", "POST", "/admin/users", "", `{"email":"g@b.co","name":"\ud800"}`, 400},
		{"right-to-left override in a name", "POST", "/admin/users", "", `{"email":"h@b.co","name":"evil\u202etxt.exe"}`, 400},
		{"isolate in a token name", "POST", "/admin/services/tmy/tokens", "", `{"name":"a\u2066b\u2069"}`, 400},
		{"byte-order mark in a rename", "PATCH", "/admin/tokens/" + tok.ID, "", `{"name":"\ufeffname"}`, 400},
		{"zero-width-only name", "POST", "/admin/users", "", `{"email":"i@b.co","name":"\u200b\u200d"}`, 400},
		{"bidi control in an account name", "POST", "/operator/accounts", a.operatorKey, `{"name":"\u202dX","services":["tmy"]}`, 400},
		{"email domain starting with a hyphen", "POST", "/admin/users", "", `{"email":"a@-example.com","name":"J"}`, 400},
		{"email to an IP literal", "POST", "/admin/users", "", `{"email":"a@[127.0.0.1]","name":"J"}`, 400},
		{"email change to a bad domain", "PATCH", "/admin/users/" + u.ID, "", `{"email":"a@example..com"}`, 400},
		// Numbers DynamoDB cannot store (its range is 1e-130 to below 1e126).
		{"setting 1e126", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, settings("1e126"), 400},
		{"setting 1e308", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, settings("1e308"), 400},
		{"setting 1e-131", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, settings("1e-131"), 400},
		{"setting -1e200", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, settings("-1e200"), 400},
		{"setting 1e400", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, settings("1e400"), 400},
		{"grace period beyond int64", "POST", "/admin/tokens/" + tok.ID + "/clone", "", `{"revokeSourceAfterSeconds":1e30}`, 400},
		// Secrets where a name belongs never come back (checked below).
		{"API key as a field name", "POST", "/admin/users", "", `{"email":"k@b.co","name":"K","` + acc.Key + `":1}`, 400},
		{"token as a field name", "PATCH", "/admin/tokens/" + tok.ID, "", `{"` + tok.Token + `":true}`, 400},
		{"API key as a setting key", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, `{"settings":{"` + acc.Key + `":{}}}`, 400},
		{"token as a service to subscribe", "POST", "/operator/accounts", a.operatorKey, `{"name":"X","services":["` + tok.Token + `"]}`, 400},
		{"token as a service name", "GET", "/admin/services/" + tok.Token + "/tokens", "", nil, 404},
		{"API key as a service name", "GET", "/admin/services/" + acc.Key, "", nil, 404},
		{"token as a user ID", "GET", "/admin/users/" + tok.Token, "", nil, 404},
		// Secrets typed into free text: 400 secret_in_input, never stored
		// (the table scan at cleanup), echoed or logged (checked below);
		// TestSecretsTypedIntoFreeTextAreRefusedAsSecretInInput checks the code.
		{"token as a user name", "POST", "/admin/users", "", `{"email":"s1@b.co","name":"` + tok.Token + `"}`, 400},
		{"API key in a user name", "POST", "/admin/users", "", `{"email":"s2@b.co","name":"key ` + acc.Key + `"}`, 400},
		{"token in a user rename", "PATCH", "/admin/users/" + u.ID, "", `{"name":"x` + tok.Token + `"}`, 400},
		{"token as an email's local part", "POST", "/admin/users", "", `{"email":"` + tok.Token + `@b.co","name":"S"}`, 400},
		{"token in an email's domain", "PATCH", "/admin/users/" + u.ID, "", `{"email":"s@` + tok.Token + `.example.com"}`, 400},
		{"token as a token name", "POST", "/admin/services/tmy/tokens", "", `{"name":"` + tok.Token + `"}`, 400},
		{"token as a token rename", "PATCH", "/admin/tokens/" + tok.ID, "", `{"name":"` + tok.Token + `"}`, 400},
		{"API key as a clone's name", "POST", "/admin/tokens/" + tok.ID + "/clone", "", `{"name":"` + acc.Key + `"}`, 400},
		{"token as an account name", "POST", "/operator/accounts", a.operatorKey, `{"name":"` + tok.Token + `","services":["tmy"]}`, 400},
		{"API key's body as an account name", "POST", "/operator/accounts", a.operatorKey, `{"name":"` + strings.TrimPrefix(acc.Key, tokens.DefaultAPIKeyPrefix) + `","services":["tmy"]}`, 400},
		{"token as an account name filter", "GET", "/operator/accounts?name=" + tok.Token, a.operatorKey, nil, 400},
		{"token as a token name filter", "GET", "/admin/services/tmy/tokens?name=" + tok.Token, "", nil, 400},
		{"token as a setting key", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, `{"settings":{"t` + tok.Token + `":true}}`, 400},
		{"token as a setting value", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, `{"settings":{"note":"` + tok.Token + `"}}`, 400},
		{"API key as a setting value", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, `{"settings":{"note":"` + acc.Key + `"}}`, 400},
		{"token as an origin's host", "POST", "/admin/services/tmy/tokens", "", `{"restrictions":{"origins":["https://` + tok.Token + `.example.com"]}}`, 400},
		{"token in an origin in a patch", "PATCH", "/admin/tokens/" + tok.ID, "", `{"restrictions":{"origins":["https://a.example.com/` + tok.Token + `"]}}`, 400},
		{"token as an origin to clone", "POST", "/admin/tokens/" + tok.ID + "/clone", "", `{"restrictions":{"origins":["https://` + tok.Token + `.example.com"]}}`, 400},
		{"token in a leak report's source", "POST", "/operator/leaks", a.operatorKey, `{"tokens":["x"],"source":"` + tok.Token + `"}`, 400},
		{"API key in a leak report's url", "POST", "/operator/leaks", a.operatorKey, `{"tokens":["x"],"url":"https://example.com/` + acc.Key + `"}`, 400},
		{"leak report without tokens", "POST", "/operator/leaks", a.operatorKey, `{"source":"github"}`, 400},
		// Origins a browser never sends, and no stored entry can be read
		// back from: 400, not a 500 on this or any later read.
		{"origin with an IPv6 zone", "POST", "/admin/services/tmy/tokens", "", `{"restrictions":{"origins":["https://[fe80::1%25eth0]"]}}`, 400},
		{"origin with an IPv6 zone and a port in a patch", "PATCH", "/admin/tokens/" + tok.ID, "", `{"restrictions":{"origins":["https://[::1%x]:8443"]}}`, 400},
		{"origin with port 0", "POST", "/admin/services/tmy/tokens", "", `{"restrictions":{"origins":["https://a.example:0"]}}`, 400},
		{"origin with port 99999", "PATCH", "/admin/tokens/" + tok.ID, "", `{"restrictions":{"origins":["https://a.example:99999"]}}`, 400},
		{"origin with an IPv6 zone to clone", "POST", "/admin/tokens/" + tok.ID + "/clone", "", `{"restrictions":{"origins":["https://[fe80::1%25eth0]"]}}`, 400},
		// Plans: every field at and past its bounds (PRODUCT.md).
		{"plan without a rate", "POST", "/operator/plans", a.operatorKey, `{"name":"P","burst":1}`, 400},
		{"plan rate 0", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":0,"burst":1}`, 400},
		{"plan rate 0.09", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":0.09,"burst":1}`, 400},
		{"plan rate 10,001", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":10001,"burst":1}`, 400},
		{"plan rate negative", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":-1,"burst":1}`, 400},
		{"plan rate a string", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":"fast","burst":1}`, 400},
		{"plan rate 1e400", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":1e400,"burst":1}`, 400},
		{"plan burst 0", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":1,"burst":0}`, 400},
		{"plan burst 5,001", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":1,"burst":5001}`, 400},
		{"plan burst a fraction", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":1,"burst":1.5}`, 400},
		{"plan name over 100", "POST", "/operator/plans", a.operatorKey, `{"name":"` + long + `","rate":1,"burst":1}`, 400},
		{"plan name blank", "POST", "/operator/plans", a.operatorKey, `{"name":" ","rate":1,"burst":1}`, 400},
		{"token as a plan name", "POST", "/operator/plans", a.operatorKey, `{"name":"` + tok.Token + `","rate":1,"burst":1}`, 400},
		{"plan quota limit 0", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":1,"burst":1,"quota":{"limit":0,"period":"day"}}`, 400},
		{"plan quota limit over int32", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":1,"burst":1,"quota":{"limit":2147483648,"period":"day"}}`, 400},
		{"plan quota period year", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":1,"burst":1,"quota":{"limit":5,"period":"year"}}`, 400},
		{"plan quota without period", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":1,"burst":1,"quota":{"limit":5}}`, 400},
		{"plan quota unknown field", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":1,"burst":1,"quota":{"limit":5,"period":"day","reset":"now"}}`, 400},
		{"plan quota a number", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":1,"burst":1,"quota":5}`, 400},
		{"plan unknown field", "POST", "/operator/plans", a.operatorKey, `{"name":"P","rate":1,"burst":1,"price":9}`, 400},
		{"plan patch rate 0", "PATCH", "/operator/plans/" + badPlan.ID, a.operatorKey, `{"rate":0}`, 400},
		{"plan patch burst 5,001", "PATCH", "/operator/plans/" + badPlan.ID, a.operatorKey, `{"burst":5001}`, 400},
		{"plan patch quota period", "PATCH", "/operator/plans/" + badPlan.ID, a.operatorKey, `{"quota":{"limit":1,"period":"hour"}}`, 400},
		{"plan patch without a body", "PATCH", "/operator/plans/" + badPlan.ID, a.operatorKey, nil, 400},
		{"plan list limit 101", "GET", "/operator/plans?limit=101", a.operatorKey, nil, 400},
		{"plan list garbage cursor", "GET", "/operator/plans?cursor=nope", a.operatorKey, nil, 400},
		{"plan list unknown parameter", "GET", "/operator/plans?tier=gold", a.operatorKey, nil, 400},
		{"assignment without planId", "PUT", "/operator/tokens/" + tok.ID + "/plan", a.operatorKey, `{}`, 400},
		{"assignment planId a number", "PUT", "/operator/tokens/" + tok.ID + "/plan", a.operatorKey, `{"planId":7}`, 400},
		{"assignment planId not a plan ID", "PUT", "/operator/accounts/" + acc.ID + "/services/tmy/plan", a.operatorKey, `{"planId":"gold"}`, 400},
		{"token as an assignment's planId", "PUT", "/operator/accounts/" + acc.ID + "/services/tmy/plan", a.operatorKey, `{"planId":"` + tok.Token + `"}`, 400},
		{"assignment unknown field", "PUT", "/operator/tokens/" + tok.ID + "/plan", a.operatorKey, `{"planId":null,"until":"never"}`, 400},
		{"admin sets a token's plan", "PATCH", "/admin/tokens/" + tok.ID, "", `{"planId":null}`, 400},
		// Key-bound filters no record can hold.
		{"summary tokenId of 1,000 characters", "GET", "/admin/usage/summary?tokenId=" + strings.Repeat("t", 1000), "", nil, 400},
		{"summary userId of 1,000 characters by user", "GET", "/admin/usage/summary?groupBy=user&userId=" + strings.Repeat("u", 1000), "", nil, 400},
		{"summary service of 1,000 characters", "GET", "/admin/usage/summary?groupBy=token&service=" + strings.Repeat("s", 1000), "", nil, 400},
		{"usage tokenId of 1,000 characters", "GET", "/admin/usage?tokenId=" + strings.Repeat("t", 1000), "", nil, 400},
		// A body where one is required: nothing, blanks and null are not {}.
		{"empty body to create a user", "POST", "/admin/users", "", "", 400},
		{"whitespace body to patch a token", "PATCH", "/admin/tokens/" + tok.ID, "", " \n\t ", 400},
		{"null body to switch access", "PUT", "/admin/services/tmy/users/" + u.ID, "", "null", 400},
		{"null body to create a token", "POST", "/admin/services/tmy/tokens", "", "null", 400},
		{"null body to clone", "POST", "/admin/tokens/" + tok.ID + "/clone", "", "null", 400},
		{"empty body to create an account", "POST", "/operator/accounts", a.operatorKey, "", 400},
		{"null settings body", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, "null", 400},
		// Query parameters a route does not read.
		{"unknown parameter on a list", "GET", "/admin/users?sort=email", "", nil, 400},
		{"misspelt token filter", "GET", "/admin/services/tmy/tokens?stauts=active", "", nil, 400},
		{"parameter on a route that takes none", "GET", "/admin/account?verbose=1", "", nil, 400},
		{"parameter on a write", "POST", "/admin/tokens/" + tok.ID + "/clone?name=x", "", `{}`, 400},
		{"token as a parameter name", "GET", "/admin/users?" + tok.Token + "=1", "", nil, 400},
		{"unknown operator parameter", "GET", "/operator/accounts?sort=name", a.operatorKey, nil, 400},
		{"unknown summary parameter", "GET", "/admin/usage/summary?limit=5", "", nil, 400},
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
			r := a.call(t, tc.method, tc.path, credential, tc.body)
			wantError(t, r, tc.status, "")
			for _, secret := range []string{acc.Key, tok.Token, strings.TrimPrefix(acc.Key, tokens.DefaultAPIKeyPrefix)} {
				if strings.Contains(string(r.Body), secret) {
					t.Errorf("the answer repeats a secret: %s", r.Body)
				}
			}
		})
	}
	a.assertNoSecretInLogs(t, acc.Key, tok.Token)
}

// TestSettingsAtTheEdgesOfDynamoDBsNumberRangeAreKept: the range check
// refuses only what the store cannot hold; its edges are stored and read
// back exactly.
func TestSettingsAtTheEdgesOfDynamoDBsNumberRangeAreKept(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	edges := map[string]any{
		"largest": 9.99999999999999e125, "mostNegative": -9.99999999999999e125,
		"smallest": 1e-130, "smallestNegative": -1e-130, "precise": 1.2345678901234567e-120, "zero": 0.0,
	}
	want[map[string]any](t, a.call(t, "PUT", "/operator/tokens/"+tok.ID+"/settings", a.operatorKey, map[string]any{"settings": edges}), 200)
	got := a.getToken(t, acc, tok.ID)
	for k, v := range edges {
		if got.Settings[k] != v {
			t.Errorf("setting %s = %v, want %v", k, got.Settings[k], v)
		}
	}
}

// TestCursorsAreBoundToTheirAccountAndFilters: a cursor works only for the
// account and the filters it was issued to; anywhere else it is a 400
// bad_cursor, never a page from someone else's position.
func TestCursorsAreBoundToTheirAccountAndFilters(t *testing.T) {
	a := newAPI(t)
	accA, accB := a.createAccount(t, "tmy"), a.createAccount(t, "tmy")
	for _, acc := range []account{accA, accB} {
		for i := range 2 {
			a.createUser(t, acc, fmt.Sprintf("u%d@example.com", i))
			a.issue(t, acc, "tmy", nil)
		}
	}
	next := func(path string) string {
		t.Helper()
		page := want[httpapi.List[json.RawMessage]](t, a.call(t, "GET", path, accA.Key, nil), http.StatusOK)
		if page.NextCursor == nil {
			t.Fatalf("GET %s: no nextCursor", path)
		}
		return url.QueryEscape(*page.NextCursor)
	}
	users, tokenCursor := next("/admin/users?limit=1"), next("/admin/services/tmy/tokens?limit=1")
	serviceUsers := next("/admin/services/tmy/users?limit=1")
	huge := base64.RawURLEncoding.EncodeToString([]byte(`{"s":"0000000000000000","k":["` + strings.Repeat("9", 1100) + `"]}`))
	for _, tc := range []struct {
		name, key, path string
	}{
		{"users cursor in another account", accB.Key, "/admin/users?cursor=" + users},
		{"tokens cursor in another account", accB.Key, "/admin/services/tmy/tokens?cursor=" + tokenCursor},
		{"tokens cursor with another status", accA.Key, "/admin/services/tmy/tokens?status=active&cursor=" + tokenCursor},
		{"tokens cursor with another type", accA.Key, "/admin/services/tmy/tokens?type=userless&cursor=" + tokenCursor},
		{"users cursor for tokens", accA.Key, "/admin/services/tmy/tokens?cursor=" + users},
		{"account users cursor in a service's access list", accA.Key, "/admin/services/tmy/users?cursor=" + users},
		{"a service's access-list cursor in the account's users", accA.Key, "/admin/users?cursor=" + serviceUsers},
		{"tokens cursor in the usage history", accA.Key, "/admin/usage?cursor=" + tokenCursor},
		{"forged cursor with a key over DynamoDB's size", accA.Key, "/admin/usage?cursor=" + huge},
		{"forged tokens cursor with a key over DynamoDB's size", accA.Key, "/admin/services/tmy/tokens?cursor=" + huge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, a.call(t, "GET", tc.path, tc.key, nil), http.StatusBadRequest, "bad_cursor")
		})
	}
	want[httpapi.List[json.RawMessage]](t, a.call(t, "GET", "/admin/users?cursor="+users, accA.Key, nil), http.StatusOK)
	want[httpapi.List[json.RawMessage]](t, a.call(t, "GET", "/admin/services/tmy/users?cursor="+serviceUsers, accA.Key, nil), http.StatusOK)
	want[httpapi.List[json.RawMessage]](t, a.call(t, "GET", "/admin/services/tmy/tokens?cursor="+tokenCursor, accA.Key, nil), http.StatusOK)
}

// TestRequestsTheServerCannotParseAnswerTheJSONErrorBody: what net/http
// refuses before the gateway sees it (a bad %-escape, a NUL in a header, a
// 2 MB header) is answered in the contract's shape, as API Gateway's
// customised responses would be, never Go's text/plain.
func TestRequestsTheServerCannotParseAnswerTheJSONErrorBody(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	host := strings.TrimPrefix(a.url, "http://")
	auth := "Authorization: Bearer " + acc.Key + "\r\n"
	for _, tc := range []struct {
		name, raw string
		status    int
	}{
		{"bad %-escape in the path", "GET /admin/users/%zz HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", 400},
		{"bad %-escape in the query", "GET /admin/users?cursor=%zz HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", 400},
		{"NUL in a header", "GET /admin/account HTTP/1.1\r\nHost: x\r\n" + auth + "X-Note: a\x00b\r\n\r\n", 400},
		{"2 MB header", "GET /admin/account HTTP/1.1\r\nHost: x\r\n" + auth + "X-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n", 431},
		{"space in the path", "GET /admin/a b HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.DialTimeout("tcp", host, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			go func() { _, _ = io.WriteString(c, tc.raw) }()
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			wantError(t, response{Status: res.StatusCode, Body: body}, tc.status, "")
			if strings.Contains(string(body), acc.Key) {
				t.Errorf("the answer repeats the key: %s", body)
			}
		})
	}
}
