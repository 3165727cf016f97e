package stack

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/httpapi"
)

// dataCall calls the demo data route with tok in the query string and
// the given headers.
func (a *api) dataCall(t *testing.T, service, tok string, headers map[string]string) int {
	t.Helper()
	return a.dataAnswer(t, service, tok, headers).Status
}

// dataAnswer is dataCall's whole answer.
func (a *api) dataAnswer(t *testing.T, service, tok string, headers map[string]string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", a.url+"/data/"+service+"/hourly?token="+tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: res.StatusCode, Body: body}
}

// TestRestrictionsAreSetReadAndEnforcedEndToEnd protects PRODUCT.md's
// restrictions through the real handlers, gateway and authorizer: set on
// create, canonical in the representation, enforced on data calls by
// Origin (else Referer) and by the source IP the gateway saw, changed and
// lifted by PATCH, copied by clones.
func TestRestrictionsAreSetReadAndEnforcedEndToEnd(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", map[string]any{"restrictions": map[string]any{
		"origins": []string{"https://Maps.Example.com:443", "https://*.example.org"},
	}})
	if want := []string{"https://maps.example.com", "https://*.example.org"}; !slices.Equal(tok.Restrictions.Origins, want) || tok.Restrictions.IPRanges == nil || len(tok.Restrictions.IPRanges) != 0 {
		t.Fatalf("restrictions %+v, want origins %v and no IP ranges", tok.Restrictions, want)
	}
	if got := a.getToken(t, acc, tok.ID).Restrictions; !slices.Equal(got.Origins, tok.Restrictions.Origins) {
		t.Fatalf("read back %+v", got)
	}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"listed Origin", map[string]string{"Origin": "https://maps.example.com"}, http.StatusOK},
		{"host in another case", map[string]string{"Origin": "https://MAPS.example.com"}, http.StatusOK},
		{"Referer only", map[string]string{"Referer": "https://maps.example.com/page"}, http.StatusOK},
		{"neither header", nil, http.StatusForbidden},
		{"another site", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"wildcard, one level", map[string]string{"Origin": "https://a.example.org"}, http.StatusOK},
		{"wildcard, two levels", map[string]string{"Origin": "https://a.b.example.org"}, http.StatusForbidden},
		{"wildcard, the bare domain", map[string]string{"Origin": "https://example.org"}, http.StatusForbidden},
		{"another port", map[string]string{"Origin": "https://maps.example.com:8443"}, http.StatusForbidden},
	} {
		if got := a.dataCall(t, "tmy", tok.Token, tc.headers); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}

	// The local caller is 127.0.0.1; a forwarded-for header of its own
	// choosing changes nothing.
	outside := want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]any{
		"restrictions": map[string]any{"ipRanges": []string{"192.0.2.0/24", "2001:db8::/32"}},
	}), http.StatusOK)
	if len(outside.Restrictions.Origins) != 0 || len(outside.Restrictions.IPRanges) != 2 {
		t.Fatalf("PATCH restrictions %+v: both lists are replaced", outside.Restrictions)
	}
	if got := a.dataCall(t, "tmy", tok.Token, map[string]string{"X-Forwarded-For": "192.0.2.1"}); got != http.StatusForbidden {
		t.Errorf("outside the IP ranges: %d, want 403", got)
	}
	want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]any{
		"restrictions": map[string]any{"ipRanges": []string{"127.0.0.0/8"}},
	}), http.StatusOK)
	if got := a.dataCall(t, "tmy", tok.Token, nil); got != http.StatusOK {
		t.Errorf("inside the IP ranges: %d, want 200", got)
	}

	clone := want[httpapi.NewTokenView](t, a.call(t, "POST", "/admin/tokens/"+tok.ID+"/clone", acc.Key, nil), http.StatusCreated)
	if !slices.Equal(clone.Restrictions.IPRanges, []string{"127.0.0.0/8"}) || clone.ClonedFrom == nil || *clone.ClonedFrom != tok.ID {
		t.Fatalf("clone restrictions %+v, clonedFrom %v", clone.Restrictions, clone.ClonedFrom)
	}
	if tok.ClonedFrom != nil {
		t.Errorf("an issued token has clonedFrom %v", *tok.ClonedFrom)
	}
	narrowed := want[httpapi.NewTokenView](t, a.call(t, "POST", "/admin/tokens/"+tok.ID+"/clone", acc.Key, map[string]any{
		"restrictions": map[string]any{"ipRanges": []string{"192.0.2.0/24"}},
	}), http.StatusCreated)
	if got := a.dataCall(t, "tmy", narrowed.Token, nil); got != http.StatusForbidden {
		t.Errorf("a clone with its own ranges: %d, want 403", got)
	}

	lifted := want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]any{
		"restrictions": map[string]any{"origins": []string{}, "ipRanges": []string{}},
	}), http.StatusOK)
	if len(lifted.Restrictions.Origins)+len(lifted.Restrictions.IPRanges) != 0 {
		t.Fatalf("lifted %+v", lifted.Restrictions)
	}
	if got := a.dataCall(t, "tmy", tok.Token, map[string]string{"Origin": "https://anyone.example"}); got != http.StatusOK {
		t.Errorf("lifted restrictions: %d, want 200", got)
	}
}

// TestARestrictionRefusalIsAttributedToTheToken protects the usage
// history: a refused call names the token it was refused for.
func TestARestrictionRefusalIsAttributedToTheToken(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", map[string]any{"restrictions": map[string]any{"ipRanges": []string{"192.0.2.0/24"}}})
	if got := a.dataCall(t, "tmy", tok.Token, nil); got != http.StatusForbidden {
		t.Fatalf("data call: %d, want 403", got)
	}
	a.flushUsage(t)
	records := want[usagePage](t, a.call(t, "GET", "/admin/usage?tokenId="+tok.ID, acc.Key, nil), http.StatusOK).Items
	if len(records) != 1 || records[0].Status != http.StatusForbidden {
		t.Fatalf("usage %+v, want one 403", records)
	}
}

// TestProtectedTokensRefuseDeletionUntilUnprotected protects PRODUCT.md's
// protected tokens: set by admins on create or PATCH and by operators,
// DELETE answers 409 token_protected, disabling still works, unprotecting
// lets the delete through.
func TestProtectedTokensRefuseDeletionUntilUnprotected(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", map[string]any{"protected": true})
	if !tok.Protected {
		t.Fatal("protected: false after a protected create")
	}
	wantError(t, a.call(t, "DELETE", "/admin/tokens/"+tok.ID, acc.Key, nil), http.StatusConflict, "token_protected")
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusOK {
		t.Fatalf("the refused delete stopped the token: %d", got)
	}
	disabled := want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]any{"enabled": false}), http.StatusOK)
	if disabled.Status != "disabled" || !disabled.Protected {
		t.Fatalf("disable of a protected token: %+v", disabled)
	}
	want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]any{"protected": false}), http.StatusOK)
	want[any](t, a.call(t, "DELETE", "/admin/tokens/"+tok.ID, acc.Key, nil), http.StatusNoContent)

	other := a.issue(t, acc, "tmy", nil)
	want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+other.ID, acc.Key, map[string]any{"protected": true}), http.StatusOK)
	wantError(t, a.call(t, "DELETE", "/admin/tokens/"+other.ID, acc.Key, nil), http.StatusConflict, "token_protected")
	if clone := want[httpapi.NewTokenView](t, a.call(t, "POST", "/admin/tokens/"+other.ID+"/clone", acc.Key, nil), http.StatusCreated); clone.Protected {
		t.Error("a clone inherits protection: deleting it would need an unprotect nobody asked for")
	}
}

// TestTokenListsFilterByNamePrefix protects the name search: a prefix,
// case-insensitive, within the service.
func TestTokenListsFilterByNamePrefix(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	maps := a.issue(t, acc, "tmy", map[string]any{"name": "Maps page"})
	a.issue(t, acc, "tmy", map[string]any{"name": "Reports"})
	got := want[httpapi.List[httpapi.TokenView]](t, a.call(t, "GET", "/admin/services/tmy/tokens?name=maps", acc.Key, nil), http.StatusOK).Items
	if len(got) != 1 || got[0].ID != maps.ID {
		t.Fatalf("name=maps: %+v", got)
	}
}

// TestNewControlFieldsRefuseBadInput is the bad-input table of
// restrictions, protected and the name filter: 400 with a code, never
// 5xx, nothing written.
func TestNewControlFieldsRefuseBadInput(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	many := make([]string, 51)
	for i := range many {
		many[i] = "10.0.0.0/8"
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		code string
	}{
		{"an origin without a scheme", map[string]any{"restrictions": map[string]any{"origins": []string{"maps.example.com"}}}, "invalid_restrictions"},
		{"an origin with a path", map[string]any{"restrictions": map[string]any{"origins": []string{"https://maps.example.com/x"}}}, "invalid_restrictions"},
		{"a wildcard not leading", map[string]any{"restrictions": map[string]any{"origins": []string{"https://a.*.example.com"}}}, "invalid_restrictions"},
		{"two wildcard levels", map[string]any{"restrictions": map[string]any{"origins": []string{"https://*.*.example.com"}}}, "invalid_restrictions"},
		{"another scheme", map[string]any{"restrictions": map[string]any{"origins": []string{"ftp://maps.example.com"}}}, "invalid_restrictions"},
		{"not a CIDR", map[string]any{"restrictions": map[string]any{"ipRanges": []string{"10.0.0.1"}}}, "invalid_restrictions"},
		{"host bits set", map[string]any{"restrictions": map[string]any{"ipRanges": []string{"10.0.0.1/8"}}}, "invalid_restrictions"},
		{"51 ranges", map[string]any{"restrictions": map[string]any{"ipRanges": many}}, "invalid_restrictions"},
		{"a list that is a string", map[string]any{"restrictions": map[string]any{"origins": "https://maps.example.com"}}, ""},
		{"an unknown list", map[string]any{"restrictions": map[string]any{"headers": []string{}}}, "unknown_field"},
		{"protected as a string", map[string]any{"protected": "yes"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, a.call(t, "POST", "/admin/services/tmy/tokens", acc.Key, tc.body), http.StatusBadRequest, tc.code)
			wantError(t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, tc.body), http.StatusBadRequest, tc.code)
			if _, ok := tc.body["restrictions"]; ok {
				wantError(t, a.call(t, "POST", "/admin/tokens/"+tok.ID+"/clone", acc.Key, tc.body), http.StatusBadRequest, tc.code)
			}
		})
	}
	if got := a.getToken(t, acc, tok.ID); got.Protected || len(got.Restrictions.Origins)+len(got.Restrictions.IPRanges) != 0 {
		t.Fatalf("a refused change was written: %+v", got)
	}
	list := want[httpapi.List[httpapi.TokenView]](t, a.call(t, "GET", "/admin/services/tmy/tokens", acc.Key, nil), http.StatusOK).Items
	if len(list) != 1 {
		t.Fatalf("a refused create made a token: %d tokens", len(list))
	}
	wantError(t, a.call(t, "GET", "/admin/services/tmy/tokens?name=%01", acc.Key, nil), http.StatusBadRequest, "")
}

// TestRefusedCallersReadThePreciseReason protects the caller's 403 body:
// the gateway's ACCESS_DENIED answers the authorizer's reason, one code
// per refusal of a genuine token, and never more than the caller needs.
func TestRefusedCallersReadThePreciseReason(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy", "timeseries")
	u := a.createUser(t, acc, "ada@example.com")
	a.setAccess(t, acc, "tmy", u.ID, true)
	userTok := a.issue(t, acc, "tmy", map[string]any{"userId": u.ID})
	byOrigin := a.issue(t, acc, "tmy", map[string]any{"restrictions": map[string]any{"origins": []string{"https://maps.example.com"}}})
	byIP := a.issue(t, acc, "tmy", map[string]any{"restrictions": map[string]any{"ipRanges": []string{"192.0.2.0/24", "2001:db8::/32"}}})
	ts := a.issue(t, acc, "timeseries", nil)

	check := func(name string, r response, code string) {
		t.Helper()
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if r.Status != http.StatusForbidden || json.Unmarshal(r.Body, &body) != nil || body.Error.Code != code || body.Error.Message == "" {
			t.Errorf("%s: %d %s, want 403 %s with a message", name, r.Status, r.Body, code)
		}
		for _, leak := range []string{acc.ID, u.ID, userTok.Token, byOrigin.Token, byIP.Token} {
			if strings.Contains(string(r.Body), leak) {
				t.Errorf("%s: the 403 body %s names the account, user or token", name, r.Body)
			}
		}
	}
	check("another site's page", a.dataAnswer(t, "tmy", byOrigin.Token, map[string]string{"Origin": "https://evil.example"}), "origin_not_allowed")
	check("another site's Referer", a.dataAnswer(t, "tmy", byOrigin.Token, map[string]string{"Referer": "https://evil.example/page"}), "origin_not_allowed")
	check("no Origin at all", a.dataAnswer(t, "tmy", byOrigin.Token, nil), "origin_not_allowed")
	check("outside the IP ranges", a.dataAnswer(t, "tmy", byIP.Token, map[string]string{"X-Forwarded-For": "192.0.2.1"}), "ip_not_allowed")
	check("another service", a.dataAnswer(t, "timeseries", userTok.Token, nil), "token_wrong_service")

	a.setAccess(t, acc, "tmy", u.ID, false)
	check("the user's access off", a.dataAnswer(t, "tmy", userTok.Token, nil), "user_access_off")

	want[httpapi.AccountView](t, a.call(t, "PATCH", "/operator/accounts/"+acc.ID, a.operatorKey, map[string]any{"services": []string{"tmy"}}), http.StatusOK)
	check("a service the account dropped", a.dataAnswer(t, "timeseries", ts.Token, nil), "service_not_subscribed")

	// The allowed calls still pass, so the refusals above are the
	// restrictions' and not a broken token's.
	if got := a.dataCall(t, "tmy", byOrigin.Token, map[string]string{"Origin": "https://maps.example.com"}); got != http.StatusOK {
		t.Errorf("the listed origin: %d, want 200", got)
	}
}

// TestRestrictionsSurviveAKeyRotationAndReEnable protects rule 7 with
// restrictions: a rotation stops a restricted token (api_key_replaced),
// the admin's re-enable brings it back, and its origins and IP ranges
// still hold afterwards, refusing and allowing exactly as before.
func TestRestrictionsSurviveAKeyRotationAndReEnable(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	here := a.issue(t, acc, "tmy", map[string]any{"restrictions": map[string]any{
		"origins": []string{"https://maps.example.com"}, "ipRanges": []string{"127.0.0.0/8", "::1/128"},
	}})
	elsewhere := a.issue(t, acc, "tmy", map[string]any{"restrictions": map[string]any{"ipRanges": []string{"192.0.2.0/24"}}})
	fromMaps := map[string]string{"Origin": "https://maps.example.com"}
	if got := a.dataCall(t, "tmy", here.Token, fromMaps); got != http.StatusOK {
		t.Fatalf("before the rotation: %d, want 200", got)
	}

	rotated := want[struct{ APIKey string }](t, a.call(t, "POST", "/admin/api-key/rotate", acc.Key, nil), http.StatusCreated)
	acc.Key = rotated.APIKey
	for _, tok := range []httpapi.NewTokenView{here, elsewhere} {
		got := a.getToken(t, acc, tok.ID)
		if got.Status != "disabled" || got.DisabledReason == nil || *got.DisabledReason != "api_key_replaced" {
			t.Fatalf("after the rotation %s is %s (%v), want disabled, api_key_replaced", tok.ID, got.Status, got.DisabledReason)
		}
		if got := a.dataCall(t, "tmy", tok.Token, fromMaps); got != http.StatusUnauthorized {
			t.Fatalf("a token of the replaced key answers %d, want 401", got)
		}
		enabled := want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]any{"enabled": true}), http.StatusOK)
		if enabled.Status != "active" || !slices.Equal(enabled.Restrictions.Origins, tok.Restrictions.Origins) || !slices.Equal(enabled.Restrictions.IPRanges, tok.Restrictions.IPRanges) {
			t.Fatalf("re-enabled %+v, want active with restrictions %+v", enabled, tok.Restrictions)
		}
	}

	wantRefusal := func(name string, r response, code string) {
		t.Helper()
		var body struct{ Error struct{ Code string } }
		if r.Status != http.StatusForbidden || json.Unmarshal(r.Body, &body) != nil || body.Error.Code != code {
			t.Errorf("%s after the re-enable: %d %s, want 403 %s", name, r.Status, r.Body, code)
		}
	}
	wantRefusal("another origin", a.dataAnswer(t, "tmy", here.Token, map[string]string{"Origin": "https://evil.example"}), "origin_not_allowed")
	wantRefusal("no origin", a.dataAnswer(t, "tmy", here.Token, nil), "origin_not_allowed")
	wantRefusal("outside the IP ranges", a.dataAnswer(t, "tmy", elsewhere.Token, fromMaps), "ip_not_allowed")
	if got := a.dataCall(t, "tmy", here.Token, fromMaps); got != http.StatusOK {
		t.Errorf("the listed origin from a listed IP after the re-enable: %d, want 200", got)
	}
}
