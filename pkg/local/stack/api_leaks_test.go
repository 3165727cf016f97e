package stack

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// leakAnswer is POST /operator/leaks's answer.
type leakAnswer struct {
	Items []struct {
		Hint   string `json:"hint"`
		Result string `json:"result"`
	} `json:"items"`
}

// TestAReportedTokenStopsAtOnceAndAnAdminMayEnableItAgain: POST
// /operator/leaks disables a live token (protected or not) with the reason
// exposed, answers per string by hint without repeating any, leaves the
// owning account a token.expose entry with the report's source and URL,
// and an admin's enable brings the token back.
func TestAReportedTokenStopsAtOnceAndAnAdminMayEnableItAgain(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", map[string]any{"protected": true})
	if s := a.dataStatus(t, "tmy", tok.Token); s != http.StatusOK {
		t.Fatalf("before the report: %d", s)
	}
	strs := []string{tok.Token, "not a token", secret.NewToken(), withLastDigitChanged(tok.Token)}
	r := a.call(t, "POST", "/operator/leaks", a.operatorKey, map[string]any{
		"tokens": strs, "source": "github", "url": "https://github.com/acme/site/blob/main/app.js",
	})
	got := want[leakAnswer](t, r, http.StatusOK)
	if strings.Contains(string(r.Body), tok.Token) || strings.Contains(string(r.Body), strs[2]) {
		t.Fatalf("the answer repeats a reported string: %s", r.Body)
	}
	var results []string
	for _, it := range got.Items {
		results = append(results, it.Hint+":"+it.Result)
	}
	if wantResults := []string{tok.Hint + ":exposed", ":not_a_token", secret.Hint(strs[2]) + ":unknown", secret.Hint(strs[3]) + ":not_a_token"}; !slices.Equal(results, wantResults) {
		t.Fatalf("results %v, want %v", results, wantResults)
	}

	if s := a.dataStatus(t, "tmy", tok.Token); s != http.StatusUnauthorized {
		t.Fatalf("an exposed token answered %d, want 401", s)
	}
	view := a.getToken(t, acc, tok.ID)
	if view.Status != "disabled" || view.DisabledReason == nil || *view.DisabledReason != string(tokens.DisabledExposed) || !view.Protected {
		t.Fatalf("the exposed token reads %+v", view)
	}
	audit := want[httpapi.List[httpapi.AuditEntryView]](t, a.call(t, "GET", "/admin/audit?action=token.expose&targetId="+tok.ID, acc.Key, nil), http.StatusOK)
	if len(audit.Items) != 1 {
		t.Fatalf("%d token.expose entries, want 1", len(audit.Items))
	}
	if e := audit.Items[0]; e.Actor.Type != "operator" || e.Report == nil || e.Report.Source != "github" || e.Report.URL != "https://github.com/acme/site/blob/main/app.js" {
		t.Fatalf("the entry reads %+v", e)
	}

	again := want[leakAnswer](t, a.call(t, "POST", "/operator/leaks", a.operatorKey, map[string]any{"tokens": []string{tok.Token}}), http.StatusOK)
	if again.Items[0].Result != "already_disabled" {
		t.Fatalf("a second report answered %+v", again.Items)
	}
	want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]any{"enabled": true}), http.StatusOK)
	if s := a.dataStatus(t, "tmy", tok.Token); s != http.StatusOK {
		t.Fatalf("re-enabled, the token answered %d", s)
	}
	a.assertNoSecretInLogs(t, tok.Token, strs[2])
}

// withLastDigitChanged breaks a token's check: the last check digit always
// differs from the token's own, whatever random token the test was given.
func withLastDigitChanged(token string) string {
	last := byte('0')
	if token[len(token)-1] == last {
		last = '1'
	}
	return token[:len(token)-1] + string(last)
}

// TestALeakReportRefusesBadInputWithoutEchoingIt: the report's own fields
// follow the API's rules; a secret in its free text is secret_in_input.
func TestALeakReportRefusesBadInputWithoutEchoingIt(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	many := make([]string, tokens.MaxLeakStrings+1)
	for i := range many {
		many[i] = "x"
	}
	for _, tc := range []struct {
		name string
		body any
		code string
	}{
		{"no tokens", map[string]any{}, "missing_field"},
		{"empty list", map[string]any{"tokens": []string{}}, "invalid_tokens"},
		{"over the limit", map[string]any{"tokens": many}, "invalid_tokens"},
		{"token in the source", map[string]any{"tokens": []string{"x"}, "source": "found " + tok.Token}, tokens.SecretInInput},
		{"token in the url", map[string]any{"tokens": []string{"x"}, "url": "https://example.com/?t=" + tok.Token}, tokens.SecretInInput},
		{"API key in the url", map[string]any{"tokens": []string{"x"}, "url": "https://example.com/" + acc.Key}, tokens.SecretInInput},
		{"not a URL", map[string]any{"tokens": []string{"x"}, "url": "javascript:alert(1)"}, "invalid_url"},
		{"unknown field", map[string]any{"tokens": []string{"x"}, "token": tok.Token}, "unknown_field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.call(t, "POST", "/operator/leaks", a.operatorKey, tc.body)
			wantError(t, r, http.StatusBadRequest, tc.code)
			if strings.Contains(string(r.Body), tok.Token) || strings.Contains(string(r.Body), acc.Key) {
				t.Fatalf("the answer repeats a secret: %s", r.Body)
			}
		})
	}
	if s := a.dataStatus(t, "tmy", tok.Token); s != http.StatusOK {
		t.Fatalf("a refused report changed the token: %d", s)
	}
	if r := a.call(t, "POST", "/operator/leaks", acc.Key, map[string]any{"tokens": []string{tok.Token}}); r.Status != http.StatusUnauthorized && r.Status != http.StatusForbidden {
		t.Fatalf("an admin's key reported a leak: %d", r.Status)
	}
}

// TestAReportOfAThousandStringsAnswersWellInsideTheGatewaysLimit: 1,000
// strings (live tokens, unknown tokens with a valid check, random hex)
// answer in well under API Gateway's 29 s, every live one exposed.
func TestAReportOfAThousandStringsAnswersWellInsideTheGatewaysLimit(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	var live []string
	for range 20 {
		live = append(live, a.issue(t, acc, "tmy", nil).Token)
	}
	strs := slices.Clone(live)
	var raw [16]byte
	for i := len(strs); i < tokens.MaxLeakStrings; i++ {
		if i%2 == 0 {
			strs = append(strs, secret.NewToken()) // unknown: read, not found
			continue
		}
		_, _ = rand.Read(raw[:])
		strs = append(strs, hex.EncodeToString(raw[:])) // fails the check: not read
	}
	start := time.Now()
	got := want[leakAnswer](t, a.call(t, "POST", "/operator/leaks", a.operatorKey, map[string]any{"tokens": strs, "source": "scale test"}), http.StatusOK)
	took := time.Since(start)
	counts := map[string]int{}
	for _, it := range got.Items {
		counts[it.Result]++
	}
	if len(got.Items) != len(strs) || counts["exposed"] != len(live) {
		t.Fatalf("%d items, counts %v; want %d items with %d exposed", len(got.Items), counts, len(strs), len(live))
	}
	t.Logf("a report of %d strings (%d live, counts %v) answered in %v", len(strs), len(live), counts, took)
	if took > 10*time.Second {
		t.Fatalf("the report took %v; API Gateway gives up at 29 s", took)
	}
	for _, tok := range live[:3] {
		if s := a.dataStatus(t, "tmy", tok); s != http.StatusUnauthorized {
			t.Fatalf("an exposed token answered %d", s)
		}
	}
}

// TestMadeUpTokensNeverReachTheStore: calls with random 32-hex strings in
// every placement are refused 401 without one DynamoDB read.
func TestMadeUpTokensNeverReachTheStore(t *testing.T) {
	a := newAPI(t)
	a.createAccount(t, "tmy")
	before := len(a.operationsSince(0))
	var raw [16]byte
	for i := range 60 {
		_, _ = rand.Read(raw[:])
		tok := hex.EncodeToString(raw[:])
		var r response
		switch i % 3 {
		case 0:
			r = a.call(t, "GET", "/data/tmy/hourly?token="+tok, "", nil)
		case 1:
			r = a.call(t, "GET", "/feed/"+tok+"/tmy/hourly", "", nil)
		default:
			r = a.call(t, "GET", "/data/tmy/hourly", tok, nil)
		}
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("a made-up token answered %d", r.Status)
		}
	}
	for _, op := range a.operationsSince(before) {
		switch op {
		case "GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems":
			t.Fatalf("made-up tokens caused a %s", op)
		}
	}
}
