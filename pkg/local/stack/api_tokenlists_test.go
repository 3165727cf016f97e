package stack

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// listedToken is what a test expects of a token in a listing.
type listedToken struct {
	id, name, userID, status, reason string
}

// tokenPages follows nextCursor of the service's token listing with query
// (without limit or cursor), limit tokens a page, to the last page, and
// returns every token. Every page but the last is full and has a cursor;
// the last has none.
func (a *api) tokenPages(t *testing.T, acc account, service, query string, limit int) []httpapi.TokenView {
	t.Helper()
	base := "/admin/services/" + service + "/tokens?"
	if query != "" {
		base += query + "&"
	}
	base += fmt.Sprintf("limit=%d", limit)
	var out []httpapi.TokenView
	path := base
	for range 1000 {
		page := want[httpapi.List[httpapi.TokenView]](t, a.call(t, "GET", path, acc.Key, nil), http.StatusOK)
		out = append(out, page.Items...)
		if page.NextCursor == nil {
			return out
		}
		if len(page.Items) != limit {
			t.Fatalf("GET %s: %d tokens and a cursor, want a full page of %d", path, len(page.Items), limit)
		}
		path = base + "&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	t.Fatalf("GET %s: the cursors never end", base)
	return nil
}

// deadTokens writes n tokens of service straight through the store (as a
// bulk load would: through the API it would only be slower), one after
// the other so that they are made in order, each shaped by shape, and
// returns them in that order.
func (a *api) deadTokens(t *testing.T, acc account, service string, n int, shape func(i int, t *tokens.Token)) []tokens.Token {
	t.Helper()
	out := make([]tokens.Token, n)
	for i := range n {
		plain := secret.NewToken()
		now := time.Now().UTC().Truncate(time.Millisecond)
		tok := tokens.Token{
			AccountID: acc.ID, ID: id.New(id.Token), Service: service,
			SecretHash: secret.Hash(plain), Hint: secret.Hint(plain), Enabled: true,
			CreatedAt: now, Settings: tokens.Settings{},
		}
		shape(i, &tok)
		e := audit.Entry{
			AccountID: acc.ID, ID: audit.NewID(), Time: now, Actor: audit.Operator("bulk-load"),
			Action: audit.TokenCreate, TargetType: audit.TargetToken, TargetID: tok.ID,
		}
		if err := a.stack.core.CreateToken(t.Context(), tokens.TokenWrite{Token: tok}, e.Diff(nil, tok.AuditFields())); err != nil {
			t.Fatalf("store token %d: %v", i, err)
		}
		out[i] = tok
	}
	return out
}

// TestTokenListsAnswerTheSameWithManyDeadTokens protects what the listings
// read since they read key ranges of their indexes rather than the
// account: on an account whose tokens are mostly dead (made under a
// replaced key, disabled by an admin, expired before or after the last
// expiry sweep), every filtered list (status, type, user, name, and their
// combinations) answers exactly its tokens, newest first (a name search in
// name order, as documented), with the right status and reason, the
// default token marked, and cursors that walk the whole list at any page
// size, through the HTTP API; the default token is the earliest active.
func TestTokenListsAnswerTheSameWithManyDeadTokens(t *testing.T) {
	// The test sweeps when it means to: a sweep between two reads would
	// not change an answer, but the test proves an unswept expiry too.
	a := newAPIWith(t, func(c *Config) { c.SweepInterval = time.Hour })
	acc := a.createAccount(t, "tmy")
	ann, bob := a.createUser(t, acc, "ann@example.com"), a.createUser(t, acc, "bob@example.com")
	a.setAccess(t, acc, "tmy", ann.ID, true)
	a.setAccess(t, acc, "tmy", bob.ID, true)
	ctx := t.Context()
	var made []listedToken // every token, in the order made
	issue := func(name, userID string, extra map[string]any) listedToken {
		t.Helper()
		body := map[string]any{"name": name}
		if userID != "" {
			body["userId"] = userID
		}
		for k, v := range extra {
			body[k] = v
		}
		tok := a.issue(t, acc, "tmy", body)
		made = append(made, listedToken{id: tok.ID, name: name, userID: userID, status: "active"})
		return made[len(made)-1]
	}
	disable := func(tok listedToken) {
		t.Helper()
		want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.id, acc.Key, map[string]any{"enabled": false}), http.StatusOK)
		for i := range made {
			if made[i].id == tok.id {
				made[i].status, made[i].reason = "disabled", "disabled_by_admin"
			}
		}
	}
	bulk := func(n int, shape func(i int, t *tokens.Token), status, reason string) {
		t.Helper()
		for _, tok := range a.deadTokens(t, acc, "tmy", n, shape) {
			made = append(made, listedToken{id: tok.ID, name: tok.Name, userID: tok.UserID, status: status, reason: reason})
		}
	}
	annOrNone := func(i int) string {
		if i%2 == 0 {
			return ann.ID
		}
		return ""
	}

	// Under the first key: a few tokens, one disabled, then many more.
	first, err := a.stack.Manager.Account(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	issue("old userless", "", nil)
	issue("old ann", ann.ID, nil)
	disable(issue("old off", "", nil))
	bulk(60, func(i int, t *tokens.Token) {
		t.Name, t.UserID, t.KeyGeneration = fmt.Sprintf("dead %02d", i), annOrNone(i), first.APIKey.Generation
	}, "active", "")
	// Rule 7: the key's replacement stops every token made under it.
	acc.Key = want[httpapi.KeyView](t, a.call(t, "POST", "/admin/api-key/rotate", acc.Key, nil), http.StatusCreated).APIKey
	for i := range made {
		if made[i].status == "active" {
			made[i].status, made[i].reason = "disabled", "api_key_replaced"
		}
	}
	current, err := a.stack.Manager.Account(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	gen := current.APIKey.Generation

	// Under the new key: the live tokens among more dead ones.
	live1 := issue("live one", "", nil)
	issue("live ann on", ann.ID, nil)
	disable(issue("live ann off", ann.ID, nil))
	issue("live later", "", map[string]any{"expiresAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	bulk(30, func(i int, t *tokens.Token) {
		// Named like the live ones, so a name search passes over them.
		t.Name, t.UserID, t.KeyGeneration = fmt.Sprintf("live off %02d", i), annOrNone(i), gen
		t.Enabled, t.DisabledReason = false, tokens.DisabledByAdmin
	}, "disabled", "disabled_by_admin")
	issue("Live Bob", bob.ID, nil)
	past := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	bulk(20, func(i int, t *tokens.Token) {
		t.Name, t.UserID, t.KeyGeneration, t.ExpiresAt = fmt.Sprintf("gone %02d", i), annOrNone(i), gen, &past
	}, "expired", "")
	if err := a.stack.Sweep(ctx); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	issue("live two", "", nil)
	// Expired after the last sweep: still in the expiring key range.
	bulk(3, func(i int, t *tokens.Token) {
		t.Name, t.UserID, t.KeyGeneration, t.ExpiresAt = fmt.Sprintf("gone late %d", i), annOrNone(i+1), gen, &past
	}, "expired", "")

	newestFirst := func(keep func(listedToken) bool) []listedToken {
		var out []listedToken
		for _, tok := range slices.Backward(made) {
			if keep(tok) {
				out = append(out, tok)
			}
		}
		return out
	}
	byName := func(prefix string, keep func(listedToken) bool) []listedToken {
		out := newestFirst(func(tok listedToken) bool {
			return strings.HasPrefix(strings.ToLower(tok.name), strings.ToLower(prefix)) && keep(tok)
		})
		slices.SortFunc(out, func(x, y listedToken) int {
			return cmp.Or(cmp.Compare(strings.ToLower(x.name), strings.ToLower(y.name)), cmp.Compare(x.id, y.id))
		})
		return out
	}
	status := func(s string) func(listedToken) bool { return func(tok listedToken) bool { return tok.status == s } }
	user := func(u string) func(listedToken) bool { return func(tok listedToken) bool { return tok.userID == u } }
	anyUser := func(tok listedToken) bool { return tok.userID != "" }
	noUser := func(tok listedToken) bool { return tok.userID == "" }
	and := func(fs ...func(listedToken) bool) func(listedToken) bool {
		return func(tok listedToken) bool {
			for _, f := range fs {
				if !f(tok) {
					return false
				}
			}
			return true
		}
	}
	all := func(listedToken) bool { return true }
	for _, tc := range []struct {
		query string
		want  []listedToken
	}{
		{"", newestFirst(all)},
		{"status=active", newestFirst(status("active"))},
		{"status=disabled", newestFirst(status("disabled"))},
		{"status=expired", newestFirst(status("expired"))},
		{"type=user", newestFirst(anyUser)},
		{"type=userless", newestFirst(noUser)},
		{"type=user&status=active", newestFirst(and(anyUser, status("active")))},
		{"type=userless&status=disabled", newestFirst(and(noUser, status("disabled")))},
		{"type=userless&status=expired", newestFirst(and(noUser, status("expired")))},
		{"userId=" + ann.ID, newestFirst(user(ann.ID))},
		{"userId=" + ann.ID + "&status=active", newestFirst(and(user(ann.ID), status("active")))},
		{"userId=" + ann.ID + "&status=disabled", newestFirst(and(user(ann.ID), status("disabled")))},
		{"userId=" + ann.ID + "&status=expired", newestFirst(and(user(ann.ID), status("expired")))},
		{"userId=" + bob.ID, newestFirst(user(bob.ID))},
		{"userId=" + ann.ID + "&type=userless", nil},
		{"name=LIVE", byName("live", all)},
		{"name=live&status=active", byName("live", status("active"))},
		{"name=live%20off&type=user", byName("live off", anyUser)},
		{"name=old&status=disabled", byName("old", status("disabled"))},
	} {
		t.Run(tc.query, func(t *testing.T) {
			for _, limit := range []int{1, 7, 50, 100} {
				if limit == 1 && len(tc.want) > 40 {
					continue // the walk at 7 crosses every key range's boundary already
				}
				got := a.tokenPages(t, acc, "tmy", tc.query, limit)
				var gotIDs, wantIDs []string
				for _, tok := range tc.want {
					wantIDs = append(wantIDs, tok.id)
				}
				for _, tok := range got {
					gotIDs = append(gotIDs, tok.ID)
				}
				if !slices.Equal(gotIDs, wantIDs) {
					t.Fatalf("limit %d: %d tokens %v,\nwant %d %v", limit, len(gotIDs), names(got), len(wantIDs), wantNames(tc.want))
				}
				for i, tok := range got {
					w := tc.want[i]
					reason := ""
					if tok.DisabledReason != nil {
						reason = *tok.DisabledReason
					}
					if tok.Status != w.status || reason != w.reason || tok.Name != w.name || tok.IsDefault != (tok.ID == live1.id) {
						t.Errorf("limit %d: %s is %s (%q), isDefault %v; want %s (%q), isDefault %v",
							limit, tok.Name, tok.Status, reason, tok.IsDefault, w.status, w.reason, tok.ID == live1.id)
					}
				}
			}
		})
	}
	def := want[httpapi.TokenView](t, a.call(t, "GET", "/admin/services/tmy/tokens/default", acc.Key, nil), http.StatusOK)
	if def.ID != live1.id || !def.IsDefault || def.Status != "active" {
		t.Errorf("default token %s (%s, isDefault %v), want %s, the earliest active", def.Name, def.Status, def.IsDefault, live1.name)
	}
}

func names(ts []httpapi.TokenView) []string {
	var out []string
	for _, tok := range ts {
		out = append(out, tok.Name)
	}
	return out
}

func wantNames(ts []listedToken) []string {
	var out []string
	for _, tok := range ts {
		out = append(out, tok.name)
	}
	return out
}
