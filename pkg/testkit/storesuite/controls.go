package storesuite

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/restrict"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// policy compiles lists that are known to be valid.
func policy(t *testing.T, origins, ipRanges []string) restrict.Policy {
	t.Helper()
	r, err := restrict.Parse(origins, ipRanges)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	p, err := restrict.Compile(r)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// testControlsRoundTrip protects what the authorizer decides on: a
// token's restrictions, protection and source are on the record both the
// admin and the authorizer read.
func testControlsRoundTrip(t *testing.T, e *env) {
	a, _ := e.account()
	src := e.token(a, nil, svcA)
	tok := e.token(a, nil, svcA, func(t2 *tokens.Token) {
		t2.Restrictions = policy(t, []string{"https://maps.example.com", "https://*.example.org"}, []string{"203.0.113.0/24", "2001:db8::/32"})
		t2.Protected, t2.ClonedFrom = true, src.ID
	})
	wantEqual(t, "GetToken", e.getToken(tok), tok)
	got, err := e.s.TokenBySecret(e.ctx, tok.SecretHash)
	wantErr(t, "TokenBySecret", err, nil)
	wantEqual(t, "TokenBySecret", got, tok)
	if v := got.Restrictions.Check(restrict.Request{Origin: "https://a.example.org", SourceIP: "2001:db8::1"}); v != restrict.Allowed {
		t.Errorf("the stored policy refuses an allowed request: %v", v.Code())
	}
	if v := got.Restrictions.Check(restrict.Request{Origin: "https://a.example.org", SourceIP: "198.51.100.1"}); v != restrict.IPNotAllowed {
		t.Errorf("the stored policy answers %v for an outside IP", v.Code())
	}
}

// testUpdateTokenControls protects PATCH of restrictions and protection
// on both records, and that clonedFrom is not the change's to make.
func testUpdateTokenControls(t *testing.T, e *env) {
	a, _ := e.account()
	tok := e.token(a, nil, svcA)
	restricted := policy(t, []string{"https://app.example.com"}, []string{"10.0.0.0/8"})
	next := tok
	next.Restrictions, next.Protected = restricted, true
	got, err := e.s.UpdateToken(e.ctx, a.ID, tok.ID, 0, func(t *tokens.Token) error {
		t.Restrictions, t.Protected, t.ClonedFrom = restricted, true, id.New(id.Token)
		return nil
	}, e.rec(a.ID))
	wantErr(t, "UpdateToken(restrict, protect)", err, nil)
	wantEqual(t, "returned token", got, next)
	wantEqual(t, "saved token", e.getToken(tok), next)
	bySecret, err := e.s.TokenBySecret(e.ctx, tok.SecretHash)
	wantErr(t, "TokenBySecret", err, nil)
	wantEqual(t, "token by secret", bySecret, next)

	_, err = e.s.UpdateToken(e.ctx, a.ID, tok.ID, 0, func(t *tokens.Token) error {
		t.Restrictions, t.Protected = restrict.Policy{}, false
		return nil
	}, e.rec(a.ID))
	wantErr(t, "UpdateToken(lift)", err, nil)
	wantEqual(t, "lifted token", e.getToken(tok), tok)
	bySecret, err = e.s.TokenBySecret(e.ctx, tok.SecretHash)
	wantErr(t, "TokenBySecret(lifted)", err, nil)
	wantEqual(t, "lifted token by secret", bySecret, tok)
}

// testDeleteTokenGuard protects the protected-token rule: the guard sees
// the token as stored, a refusal deletes nothing, and a protect racing
// deletes never loses to them.
func testDeleteTokenGuard(t *testing.T, e *env) {
	a, _ := e.account()
	tok := e.token(a, nil, svcA, func(t *tokens.Token) { t.Protected = true })
	refuseProtected := func(t tokens.Token) error {
		if t.Protected {
			return tokens.ErrTokenProtected
		}
		return nil
	}
	wantErr(t, "DeleteToken(protected)", e.s.DeleteToken(e.ctx, a.ID, tok.ID, refuseProtected, e.rec(a.ID)), tokens.ErrTokenProtected)
	wantEqual(t, "protected token after the refusal", e.getToken(tok), tok)
	if got := e.outcome(tok); got != tokens.Valid {
		t.Fatalf("protected token after the refusal: %v", got)
	}

	// Twenty deletes race one protect: either the protect commits first
	// and every delete is refused, or a delete commits and the protect
	// finds no token. Never both a deletion and a committed protect.
	for range 3 {
		tok := e.token(a, nil, svcA)
		var wg sync.WaitGroup
		deleted := make(chan struct{}, 20)
		var protectErr error
		wg.Add(21)
		go func() {
			defer wg.Done()
			_, protectErr = e.s.UpdateToken(e.ctx, a.ID, tok.ID, 0, func(t *tokens.Token) error { t.Protected = true; return nil }, e.rec(a.ID))
		}()
		for range 20 {
			go func() {
				defer wg.Done()
				err := e.s.DeleteToken(e.ctx, a.ID, tok.ID, refuseProtected, e.rec(a.ID))
				switch {
				case err == nil:
					deleted <- struct{}{}
				case errors.Is(err, tokens.ErrTokenProtected), errors.Is(err, apperr.ErrNotFound):
				default:
					t.Errorf("DeleteToken: %v", err)
				}
			}()
		}
		wg.Wait()
		close(deleted)
		n := len(deleted)
		switch {
		case n > 1:
			t.Fatalf("%d deletes of one token committed", n)
		case n == 1 && protectErr == nil:
			t.Fatal("a delete and a protect both committed")
		case n == 0 && protectErr != nil:
			t.Fatalf("nothing committed: protect %v", protectErr)
		}
	}
}

// testListTokensByName protects the name search: a case-insensitive
// prefix, in name order, paged, following renames, within one service.
func testListTokensByName(t *testing.T, e *env) {
	a, _ := e.account()
	u := e.user(a, svcA)
	named := func(name string, user *tokens.User) tokens.Token {
		return e.token(a, user, svcA, func(t *tokens.Token) { t.Name = name })
	}
	mapsB := named("Maps beta", nil)
	mapsA := named("maps Alpha", &u)
	mapsC := named("MAPS gamma", nil)
	mapping := named("Mapping", nil)
	exact := named("MAPS", nil)
	named("Other maps", nil)
	e.token(a, nil, svcB, func(t *tokens.Token) { t.Name = "maps elsewhere" })
	renamed := named("old name", nil)
	renamed, err := e.s.UpdateToken(e.ctx, a.ID, renamed.ID, 0, func(t *tokens.Token) error { t.Name = "Maps delta"; return nil }, e.rec(a.ID))
	wantErr(t, "rename", err, nil)

	base := tokens.TokenFilter{Service: svcA, Now: e.now, KeyGeneration: a.APIKey.Generation}
	for _, tc := range []struct {
		name   string
		filter func(*tokens.TokenFilter)
		want   []tokens.Token
	}{
		{"prefix, any case, in name order", func(f *tokens.TokenFilter) { f.NamePrefix = "maps " }, []tokens.Token{mapsA, mapsB, renamed, mapsC}},
		{"a longer prefix", func(f *tokens.TokenFilter) { f.NamePrefix = "maps b" }, []tokens.Token{mapsB}},
		{"a name before the longer names it begins", func(f *tokens.TokenFilter) { f.NamePrefix = "map" }, []tokens.Token{mapping, exact, mapsA, mapsB, renamed, mapsC}},
		{"the old name is gone", func(f *tokens.TokenFilter) { f.NamePrefix = "old" }, nil},
		{"with a user", func(f *tokens.TokenFilter) { f.NamePrefix, f.UserID = "maps", u.ID }, []tokens.Token{mapsA}},
		{"with a type", func(f *tokens.TokenFilter) { f.NamePrefix, f.Type = "maps ", tokens.TokenUserless }, []tokens.Token{mapsB, renamed, mapsC}},
		{"no match", func(f *tokens.TokenFilter) { f.NamePrefix = "zzz" }, nil},
	} {
		f := base
		tc.filter(&f)
		var got []tokens.Token
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("%s: too many pages", tc.name)
			}
			p, err := e.s.ListTokens(e.ctx, a.ID, f, paging.Request{Limit: 1, Cursor: cursor})
			wantErr(t, tc.name, err, nil)
			got = append(got, p.Items...)
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		wantEqual(t, tc.name, got, tc.want)
	}
	// A cursor of the name search is not one of the full listing.
	f := base
	f.NamePrefix = "maps "
	p, err := e.s.ListTokens(e.ctx, a.ID, f, paging.Request{Limit: 1})
	wantErr(t, "first page", err, nil)
	_, err = e.s.ListTokens(e.ctx, a.ID, base, paging.Request{Limit: 1, Cursor: p.NextCursor})
	wantErr(t, "name cursor on the full listing", err, paging.ErrBadCursor)
}

// testListAccounts protects the operators' listing: newest first, by
// status and service, by name prefix in name order, paged. Other tests'
// accounts may share the table, so each case looks at its own accounts.
func testListAccounts(t *testing.T, e *env) {
	tag := strings.ToLower(id.New(id.Account)[4:])
	mk := func(name string, change func(*tokens.Account)) tokens.Account {
		a, _ := e.account()
		return e.updateAccount(a, func(a *tokens.Account) {
			a.Name = name
			if change != nil {
				change(a)
			}
		})
	}
	first := mk("Zeta "+tag, nil)
	closed := mk("ALPHA "+tag, func(a *tokens.Account) { a.Status = tokens.AccountStatusClosed })
	onlyB := mk("alpha two "+tag, func(a *tokens.Account) { a.Services = []string{svcB} })
	mine := []string{first.ID, closed.ID, onlyB.ID}

	collect := func(what string, f tokens.AccountFilter) []string {
		t.Helper()
		var ids []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 1000 {
				t.Fatalf("%s: too many pages", what)
			}
			p, err := e.s.ListAccounts(e.ctx, f, paging.Request{Limit: 2, Cursor: cursor})
			wantErr(t, what, err, nil)
			for _, a := range p.Items {
				if slices.Contains(mine, a.ID) {
					ids = append(ids, a.ID)
				}
			}
			if cursor = p.NextCursor; cursor == "" {
				return ids
			}
		}
	}
	byName := func(as ...tokens.Account) []string {
		slices.SortFunc(as, func(x, y tokens.Account) int {
			return cmp.Or(strings.Compare(tokens.NameKey(x.Name), tokens.NameKey(y.Name)), strings.Compare(x.ID, y.ID))
		})
		var ids []string
		for _, a := range as {
			ids = append(ids, a.ID)
		}
		return ids
	}
	for _, tc := range []struct {
		name string
		f    tokens.AccountFilter
		want []string
	}{
		{"all, newest first", tokens.AccountFilter{}, []string{onlyB.ID, closed.ID, first.ID}},
		{"active", tokens.AccountFilter{Status: tokens.AccountStatusActive}, []string{onlyB.ID, first.ID}},
		{"closed", tokens.AccountFilter{Status: tokens.AccountStatusClosed}, []string{closed.ID}},
		{"subscribing to A", tokens.AccountFilter{Service: svcA}, []string{closed.ID, first.ID}},
		{"name prefix, any case, name order", tokens.AccountFilter{NamePrefix: "alpha "}, byName(closed, onlyB)},
		{"name and status", tokens.AccountFilter{NamePrefix: "alpha ", Status: tokens.AccountStatusActive}, []string{onlyB.ID}},
	} {
		// A global index catches up a moment after a write.
		var got []string
		for range 20 {
			if got = collect(tc.name, tc.f); slices.Equal(got, tc.want) {
				break
			}
		}
		wantEqual(t, tc.name, got, tc.want)
	}
	_, err := e.s.ListAccounts(e.ctx, tokens.AccountFilter{}, paging.Request{Limit: 1, Cursor: "bm90IGEgY3Vyc29y"})
	wantErr(t, "bad cursor", err, paging.ErrBadCursor)
}
