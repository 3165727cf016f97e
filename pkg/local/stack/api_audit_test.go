package stack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// auditPages follows nextCursor of an audit route (path with its query,
// without cursor) to the last page and returns every entry, newest
// first. Every answer is checked to hold no token or API key the API has
// shown.
func (a *api) auditPages(t *testing.T, path, credential string) []httpapi.AuditEntryView {
	t.Helper()
	var out []httpapi.AuditEntryView
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	next := path
	for {
		r := a.call(t, "GET", next, credential, nil)
		a.assertNoSecretIn(t, r.Body)
		page := want[httpapi.List[httpapi.AuditEntryView]](t, r, http.StatusOK)
		out = append(out, page.Items...)
		if page.NextCursor == nil {
			return out
		}
		next = path + sep + "cursor=" + url.QueryEscape(*page.NextCursor)
	}
}

// assertNoSecretIn fails the test if body holds any token or API key the
// API has shown, or an API key's random part.
func (a *api) assertNoSecretIn(t *testing.T, body []byte) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.secrets {
		for _, n := range []string{s, strings.TrimPrefix(s, tokens.DefaultAPIKeyPrefix)} {
			if strings.Contains(string(body), n) {
				t.Errorf("an audit answer holds a secret: %s", body)
			}
		}
	}
}

// changes is the exact changes an entry must show, as JSON would carry
// them.
type changes map[string][2]any

// normalized is v as it comes back from JSON, for comparison.
func normalized(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (c changes) view() map[string]httpapi.AuditChangeView {
	out := make(map[string]httpapi.AuditChangeView, len(c))
	for k, v := range c {
		out[k] = httpapi.AuditChangeView{Before: v[0], After: v[1]}
	}
	return out
}

func entryIDs(es []httpapi.AuditEntryView) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// TestEveryAdminAndOperatorWriteLeavesExactlyOneEntry protects the audit
// log's core guarantee through the real handlers: each write route
// leaves one entry, newest first, with its action, its actor (the API
// key by its ID, or the operator), its target and the exact fields that
// changed, before and after; a key rotation records the new key's ID and
// hint, never the key.
func TestEveryAdminAndOperatorWriteLeavesExactlyOneEntry(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	key := acc.Key
	keyID := func() string {
		return want[httpapi.AccountView](t, a.call(t, "GET", "/admin/account", key, nil), http.StatusOK).APIKey.ID
	}
	self := want[httpapi.AccountView](t, a.call(t, "GET", "/admin/account", key, nil), http.StatusOK)

	log := a.auditPages(t, "/admin/audit", key)
	if len(log) != 1 || log[0].Action != "account.create" || log[0].Actor.Type != "operator" || log[0].Actor.Principal == "" ||
		log[0].TargetType != "account" || log[0].TargetID != acc.ID {
		t.Fatalf("after creating the account: %+v, want one account.create by the operator", log)
	}
	if c := log[0].Changes["apiKeyHint"]; c.Before != nil || c.After != self.APIKey.Hint {
		t.Errorf("account.create apiKeyHint %+v, want null → %q", c, self.APIKey.Hint)
	}

	var user httpapi.UserView
	var tok httpapi.NewTokenView
	var clone httpapi.NewTokenView
	type step struct {
		name       string
		do         func(t *testing.T)
		action     string
		operator   bool // else the account's API key
		targetType string
		target     func() string
		changes    func() changes // exact; nil: not checked field by field
	}
	for _, s := range []step{
		{"create a user", func(t *testing.T) { user = a.createUser(t, acc, "ann@example.com") },
			"user.create", false, "user", func() string { return user.ID }, nil},
		{"rename a user", func(t *testing.T) {
			want[httpapi.UserView](t, a.call(t, "PATCH", "/admin/users/"+user.ID, key, map[string]string{"name": "Ann B"}), http.StatusOK)
		}, "user.update", false, "user", func() string { return user.ID },
			func() changes { return changes{"name": {"User ann@example.com", "Ann B"}} }},
		{"switch access on", func(t *testing.T) { a.setAccess(t, acc, "tmy", user.ID, true) },
			"access.update", false, "user", func() string { return user.ID },
			func() changes { return changes{"access.tmy": {false, true}} }},
		{"switch access off", func(t *testing.T) { a.setAccess(t, acc, "tmy", user.ID, false) },
			"access.update", false, "user", func() string { return user.ID },
			// Stored as no access, recorded as the switch it was.
			func() changes { return changes{"access.tmy": {true, false}} }},
		{"issue a token", func(t *testing.T) { tok = a.issue(t, acc, "tmy", map[string]any{"name": "Page"}) },
			"token.create", false, "token", func() string { return tok.ID }, nil},
		{"rename a token", func(t *testing.T) {
			want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, key, map[string]string{"name": "Front page"}), http.StatusOK)
		}, "token.update", false, "token", func() string { return tok.ID },
			func() changes { return changes{"name": {"Page", "Front page"}} }},
		{"disable a token", func(t *testing.T) {
			want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, key, map[string]bool{"enabled": false}), http.StatusOK)
		}, "token.update", false, "token", func() string { return tok.ID },
			func() changes {
				return changes{"enabled": {true, false}, "disabledReason": {nil, "disabled_by_admin"}}
			}},
		{"change a token's settings", func(t *testing.T) {
			want[any](t, a.call(t, "PUT", "/operator/tokens/"+tok.ID+"/settings", a.operatorKey, map[string]any{"settings": map[string]any{"maxRows": 10}}), http.StatusOK)
		}, "settings.update", true, "token", func() string { return tok.ID },
			func() changes { return changes{"settings": {map[string]any{}, map[string]any{"maxRows": 10}}} }},
		{"protect a token", func(t *testing.T) {
			want[httpapi.TokenView](t, a.call(t, "PATCH", "/operator/tokens/"+tok.ID, a.operatorKey, map[string]bool{"protected": true}), http.StatusOK)
		}, "token.update", true, "token", func() string { return tok.ID },
			func() changes { return changes{"protected": {false, true}} }},
		{"clone a token", func(t *testing.T) {
			clone = want[httpapi.NewTokenView](t, a.call(t, "POST", "/admin/tokens/"+tok.ID+"/clone", key, nil), http.StatusCreated)
		}, "token.clone", false, "token", func() string { return clone.ID }, nil},
		{"delete a token", func(t *testing.T) {
			want[any](t, a.call(t, "DELETE", "/admin/tokens/"+clone.ID, key, nil), http.StatusNoContent)
		}, "token.delete", false, "token", func() string { return clone.ID }, nil},
		{"delete a user", func(t *testing.T) {
			want[any](t, a.call(t, "DELETE", "/admin/users/"+user.ID, key, nil), http.StatusNoContent)
		}, "user.delete", false, "user", func() string { return user.ID }, nil},
		{"subscribe the account to a service", func(t *testing.T) {
			want[httpapi.AccountView](t, a.call(t, "PATCH", "/operator/accounts/"+acc.ID, a.operatorKey, map[string][]string{"services": {"tmy", "timeseries"}}), http.StatusOK)
		}, "account.update", true, "account", func() string { return acc.ID },
			func() changes { return changes{"services": {[]string{"tmy"}, []string{"timeseries", "tmy"}}} }},
	} {
		s := s
		t.Run(s.name, func(t *testing.T) {
			before := a.auditPages(t, "/admin/audit", key)
			s.do(t)
			after := a.auditPages(t, "/admin/audit", key)
			if len(after) != len(before)+1 || !slices.Equal(entryIDs(after[1:]), entryIDs(before)) {
				t.Fatalf("%d entries before, %d after: want exactly one new entry, newest first", len(before), len(after))
			}
			e := after[0]
			if e.Action != s.action || e.TargetType != s.targetType || e.TargetID != s.target() {
				t.Errorf("entry %s %s %s, want %s %s %s", e.Action, e.TargetType, e.TargetID, s.action, s.targetType, s.target())
			}
			if s.operator {
				if e.Actor.Type != "operator" || !strings.HasSuffix(e.Actor.Principal, "local-operator") || e.Actor.KeyID != "" {
					t.Errorf("actor %+v, want the operator", e.Actor)
				}
			} else if e.Actor.Type != "apiKey" || e.Actor.KeyID != self.APIKey.ID || e.Actor.Principal != "" {
				t.Errorf("actor %+v, want the API key %s", e.Actor, self.APIKey.ID)
			}
			if e.SourceIP == "" {
				t.Errorf("entry without a source IP: %+v", e)
			}
			if s.changes != nil {
				if got, want := normalized(t, e.Changes), normalized(t, s.changes().view()); !reflect.DeepEqual(got, want) {
					t.Errorf("changes %v, want %v", got, want)
				}
			}
		})
	}

	// Rotations: the new key's ID and hint, before and after, and no key.
	for _, tc := range []struct {
		name     string
		rotate   func() response
		action   string
		operator bool
	}{
		{"admin rotates", func() response { return a.call(t, "POST", "/admin/api-key/rotate", key, nil) }, "apiKey.rotate", false},
		{"operator replaces", func() response {
			return a.call(t, "POST", "/operator/accounts/"+acc.ID+"/api-key", a.operatorKey, nil)
		}, "apiKey.replace", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldID, oldHint := keyID(), want[httpapi.AccountView](t, a.call(t, "GET", "/admin/account", key, nil), http.StatusOK).APIKey.Hint
			before := a.auditPages(t, "/admin/audit", key)
			key = want[httpapi.KeyView](t, tc.rotate(), http.StatusCreated).APIKey
			now := want[httpapi.AccountView](t, a.call(t, "GET", "/admin/account", key, nil), http.StatusOK).APIKey
			after := a.auditPages(t, "/admin/audit", key)
			if len(after) != len(before)+1 {
				t.Fatalf("%d entries before, %d after: want exactly one new entry", len(before), len(after))
			}
			e := after[0]
			if e.Action != tc.action || e.TargetType != "account" || e.TargetID != acc.ID {
				t.Errorf("entry %s %s %s", e.Action, e.TargetType, e.TargetID)
			}
			if got := e.Actor.Type == "operator"; got != tc.operator || (!tc.operator && e.Actor.KeyID != oldID) {
				t.Errorf("actor %+v (the old key %s rotates itself)", e.Actor, oldID)
			}
			wantChanges := changes{"apiKeyId": {oldID, now.ID}, "apiKeyHint": {oldHint, now.Hint}}
			if got, want := normalized(t, e.Changes), normalized(t, wantChanges.view()); !reflect.DeepEqual(got, want) {
				t.Errorf("changes %v, want %v", got, want)
			}
		})
	}
}

// TestARefusedChangeWritesNoEntry protects the same-transaction rule: a
// change refused for its input or for the state it meets leaves the log
// as it was.
func TestARefusedChangeWritesNoEntry(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", map[string]any{"protected": true})
	user := a.createUser(t, acc, "off@example.com")
	for _, tc := range []struct {
		name, method, path, credential string
		body                           any
		status                         int
		code                           string
	}{
		{"delete a protected token", "DELETE", "/admin/tokens/" + tok.ID, acc.Key, nil, http.StatusConflict, "token_protected"},
		{"a bad name", "PATCH", "/admin/tokens/" + tok.ID, acc.Key, `{"name":"` + strings.Repeat("x", 500) + `"}`, http.StatusBadRequest, ""},
		{"bad settings", "PUT", "/operator/tokens/" + tok.ID + "/settings", a.operatorKey, `{"settings":{"a":{"b":1}}}`, http.StatusBadRequest, ""},
		{"a token for a user whose access is off", "POST", "/admin/services/tmy/tokens", acc.Key, map[string]any{"userId": user.ID}, http.StatusConflict, ""},
		{"a duplicate user", "POST", "/admin/users", acc.Key, map[string]string{"email": "OFF@example.com", "name": "Dup"}, http.StatusConflict, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.auditPages(t, "/admin/audit", acc.Key)
			wantError(t, a.call(t, tc.method, tc.path, tc.credential, tc.body), tc.status, tc.code)
			if after := a.auditPages(t, "/admin/audit", acc.Key); !slices.Equal(entryIDs(after), entryIDs(before)) {
				t.Fatalf("a refused change wrote an entry: %+v", after[0])
			}
		})
	}
}

// TestAuditLogsAreIsolatedFilteredAndPaged protects the listings: an
// account's key sees its own entries alone, the operator's route lists
// only the account asked for, the filters narrow by action, target and
// an inclusive time range, paging reaches every entry once, and bad
// input is a 400 with the JSON error body.
func TestAuditLogsAreIsolatedFilteredAndPaged(t *testing.T) {
	a := newAPI(t)
	accA := a.createAccount(t, "tmy")
	accB := a.createAccount(t, "tmy")
	tokA := a.issue(t, accA, "tmy", map[string]any{"name": "A1"})
	otherA := a.issue(t, accA, "tmy", nil)
	for _, name := range []string{"A2", "A3", "A4"} {
		want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tokA.ID, accA.Key, map[string]string{"name": name}), http.StatusOK)
	}
	tokB := a.issue(t, accB, "tmy", nil)
	idsA := []string{accA.ID, tokA.ID, otherA.ID}

	logA := a.auditPages(t, "/admin/audit", accA.Key)
	logB := a.auditPages(t, "/admin/audit", accB.Key)
	if len(logA) != 6 || len(logB) != 2 {
		t.Fatalf("A has %d entries (want 6), B %d (want 2)", len(logA), len(logB))
	}
	for _, e := range logB {
		if slices.Contains(idsA, e.TargetID) || (e.TargetID != accB.ID && e.TargetID != tokB.ID) {
			t.Errorf("B's log shows %+v", e)
		}
	}
	if got := a.auditPages(t, "/operator/accounts/"+accA.ID+"/audit", a.operatorKey); !slices.Equal(entryIDs(got), entryIDs(logA)) {
		t.Errorf("operator's log of A %v, want A's own %v", entryIDs(got), entryIDs(logA))
	}
	// B's key cannot reach A's entries by naming them.
	if got := a.auditPages(t, "/admin/audit?targetId="+tokA.ID, accB.Key); len(got) != 0 {
		t.Errorf("B filtering by A's token sees %+v", got)
	}
	for i := 1; i < len(logA); i++ {
		if logA[i].Time > logA[i-1].Time {
			t.Errorf("not newest first: %s after %s", logA[i].Time, logA[i-1].Time)
		}
	}

	for _, tc := range []struct {
		name  string
		query url.Values
		want  []httpapi.AuditEntryView
	}{
		{"action", url.Values{"action": {"token.update"}}, logA[:3]},
		{"targetId", url.Values{"targetId": {tokA.ID}}, append(slices.Clone(logA[:3]), logA[4])},
		{"action and targetId", url.Values{"action": {"token.create"}, "targetId": {otherA.ID}}, logA[3:4]},
		{"from and to, inclusive", url.Values{"from": {logA[3].Time}, "to": {logA[1].Time}}, logA[1:4]},
		{"from alone", url.Values{"from": {logA[1].Time}}, logA[:2]},
		{"to alone", url.Values{"to": {logA[4].Time}}, logA[4:]},
		{"nothing matches", url.Values{"action": {"user.delete"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []string{"1", "2", "100"} {
				q := url.Values{"limit": {limit}}
				for k, v := range tc.query {
					q[k] = v
				}
				for _, path := range []string{"/admin/audit?", "/operator/accounts/" + accA.ID + "/audit?"} {
					cred := accA.Key
					if strings.HasPrefix(path, "/operator") {
						cred = a.operatorKey
					}
					if got := a.auditPages(t, path+q.Encode(), cred); !slices.Equal(entryIDs(got), entryIDs(tc.want)) {
						t.Errorf("%s limit %s: %v, want %v", path, limit, entryIDs(got), entryIDs(tc.want))
					}
				}
			}
		})
	}

	first := want[httpapi.List[httpapi.AuditEntryView]](t, a.call(t, "GET", "/admin/audit?limit=1", accA.Key, nil), http.StatusOK)
	if first.NextCursor == nil {
		t.Fatal("limit 1 over 6 entries: no nextCursor")
	}
	for _, tc := range []struct{ query, code string }{
		{"action=token.nope", "invalid_action"},
		{"action=46a4eccec1414feab118287f5af26f03", "invalid_action"},
		{"targetId=nope", "invalid_target_id"},
		{"from=yesterday", "invalid_from"},
		{"to=2026-13-01T00:00:00Z", "invalid_to"},
		{"from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "invalid_time_range"},
		{"cursor=bm90IGEgY3Vyc29y", "bad_cursor"},
		{"cursor=%21%21", "bad_cursor"},
		{"action=token.update&cursor=" + url.QueryEscape(*first.NextCursor), "bad_cursor"},
		{"limit=0", "invalid_limit"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			for _, path := range []string{"/admin/audit?", "/operator/accounts/" + accA.ID + "/audit?"} {
				cred := accA.Key
				if strings.HasPrefix(path, "/operator") {
					cred = a.operatorKey
				}
				r := a.call(t, "GET", path+tc.query, cred, nil)
				wantError(t, r, http.StatusBadRequest, tc.code)
				if strings.Contains(string(r.Body), "46a4eccec1414feab118287f5af26f03") {
					t.Errorf("the answer repeats the input: %s", r.Body)
				}
			}
		})
	}
	wantError(t, a.call(t, "GET", "/operator/accounts/acc_doesnotexist/audit", a.operatorKey, nil), http.StatusNotFound, "")
}
