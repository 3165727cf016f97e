package storesuite

import (
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Examiner is a Faults that also counts the items its store's reads
// examine (every item a Query reads before any filter, and every item a
// GetItem or BatchGetItem returns). The read-cost test runs on stores
// that have one: a fake that holds everything in a map has no index to
// read a key range of.
type Examiner interface {
	Examined() int
}

// deadTokens is how many dead tokens the large account of the read-cost
// test holds beside the live ones of the small account: far more than any
// page, so a read that examined them would show it.
const deadTokens = 120

// readCostWorld is two accounts with the same live tokens (two user and
// two userless tokens of svcA, one of them expiring later): small holds
// nothing else; large also holds deadTokens dead ones, a third each
// replaced by the key rotation, disabled by an admin, and expired (and
// swept), of both types and of its user.
type readCostWorld struct {
	small, large readCostAccount
}

type readCostAccount struct {
	a tokens.Account
	u tokens.User
}

func (e *env) readCostAccount(dead int) readCostAccount {
	e.t.Helper()
	a, _ := e.account()
	u := e.user(a, svcA)
	owner := func(i int) *tokens.User {
		if i%2 == 0 {
			return &u
		}
		return nil
	}
	for i := range dead / 3 {
		e.token(a, owner(i), svcA, func(t *tokens.Token) { t.Name = "old" })
	}
	if dead > 0 {
		a, _ = e.replaceKey(a)
	}
	// The live tokens are older than the dead ones of their key, so a
	// listing that read past the dead ones, newest first, would show it.
	for i := range 4 {
		e.token(a, owner(i), svcA, func(t *tokens.Token) {
			t.Name = "live"
			if i == 3 {
				t.ExpiresAt = ptr(e.now.Add(time.Hour))
			}
		})
	}
	for i := range dead / 3 {
		e.token(a, owner(i), svcA, func(t *tokens.Token) { t.Name, t.Enabled, t.DisabledReason = "off", false, tokens.DisabledByAdmin })
	}
	for i := range dead / 3 {
		e.token(a, owner(i), svcA, func(t *tokens.Token) { t.Name, t.ExpiresAt = "gone", ptr(e.now.Add(-time.Hour)) })
	}
	return readCostAccount{a: a, u: u}
}

// testReadsCostThePageWhateverTheAccountHolds protects the contract's
// last "Never": every token read an admin waits for (a filtered list, the
// default token, the first page of any list) examines as many items on an
// account whose tokens are mostly dead as on one holding only the live
// ones, give or take the page the listing reads ahead in each key range.
func testReadsCostThePageWhateverTheAccountHolds(t *testing.T, e *env) {
	ex, ok := e.faults.(Examiner)
	if !ok {
		t.Skip("this store does not count the items its reads examine")
	}
	w := readCostWorld{small: e.readCostAccount(0), large: e.readCostAccount(deadTokens)}
	e.sweepExpired(e.now)
	const limit = 2
	// A listing reads at most limit+1 items of each of its (at most four)
	// key ranges, and an expired token the sweep has yet to move.
	const bound = 4*(limit+1) + 1
	reads := []struct {
		name   string
		filter func(acc readCostAccount) tokens.TokenFilter
		want   int // tokens on the page
	}{
		{"first page", func(readCostAccount) tokens.TokenFilter { return tokens.TokenFilter{} }, limit},
		{"active", func(readCostAccount) tokens.TokenFilter { return tokens.TokenFilter{Status: tokens.StatusActive} }, limit},
		{"expired", func(readCostAccount) tokens.TokenFilter { return tokens.TokenFilter{Status: tokens.StatusExpired} }, -1},
		{"disabled", func(readCostAccount) tokens.TokenFilter { return tokens.TokenFilter{Status: tokens.StatusDisabled} }, -1},
		{"user tokens", func(readCostAccount) tokens.TokenFilter { return tokens.TokenFilter{Type: tokens.TokenUser} }, limit},
		{"active userless", func(readCostAccount) tokens.TokenFilter {
			return tokens.TokenFilter{Type: tokens.TokenUserless, Status: tokens.StatusActive}
		}, limit},
		{"the user's", func(acc readCostAccount) tokens.TokenFilter { return tokens.TokenFilter{UserID: acc.u.ID} }, limit},
		{"the user's active", func(acc readCostAccount) tokens.TokenFilter {
			return tokens.TokenFilter{UserID: acc.u.ID, Status: tokens.StatusActive}
		}, limit},
		{"name prefix", func(readCostAccount) tokens.TokenFilter { return tokens.TokenFilter{NamePrefix: "live"} }, limit},
	}
	for _, r := range reads {
		for _, acc := range []readCostAccount{w.small, w.large} {
			f := r.filter(acc)
			f.Service, f.Now, f.KeyGeneration = svcA, e.now, acc.a.APIKey.Generation
			before := ex.Examined()
			p, err := e.s.ListTokens(e.ctx, acc.a.ID, f, paging.Request{Limit: limit})
			if err != nil {
				t.Fatalf("%s: ListTokens: %v", r.name, err)
			}
			examined := ex.Examined() - before
			if r.want >= 0 && len(p.Items) != r.want {
				t.Errorf("%s: %d tokens on the page, want %d", r.name, len(p.Items), r.want)
			}
			if examined > bound {
				t.Errorf("%s on an account of %d dead tokens examined %d items, want at most %d", r.name, deadTokens, examined, bound)
			}
		}
	}
	for _, acc := range []readCostAccount{w.small, w.large} {
		before := ex.Examined()
		if _, err := e.s.EarliestActiveToken(e.ctx, acc.a.ID, tokens.TokenFilter{Service: svcA, Now: e.now, KeyGeneration: acc.a.APIKey.Generation}); err != nil {
			t.Fatalf("EarliestActiveToken: %v", err)
		}
		if examined := ex.Examined() - before; examined > bound {
			t.Errorf("the default token examined %d items, want at most %d", examined, bound)
		}
	}
}

// testTheExpirySweepMovesOnlyExpiredTokens protects the sweep that keeps
// listings of live tokens from reading expired ones: it moves what expired
// by its clock and nothing else, listings answer the same before and after
// it (and after a later write of a swept token), and a second run finds
// nothing.
func testTheExpirySweepMovesOnlyExpiredTokens(t *testing.T, e *env) {
	a, _ := e.account()
	expired := e.token(a, nil, svcA, func(t *tokens.Token) { t.ExpiresAt = ptr(e.now.Add(-time.Minute)) })
	later := e.token(a, nil, svcA, func(t *tokens.Token) { t.ExpiresAt = ptr(e.now.Add(time.Minute)) })
	forever := e.token(a, nil, svcA)
	list := func(status tokens.TokenStatus) []string {
		t.Helper()
		p, err := e.s.ListTokens(e.ctx, a.ID, tokens.TokenFilter{Service: svcA, Status: status, Now: e.now, KeyGeneration: a.APIKey.Generation}, paging.Request{Limit: 10})
		if err != nil {
			t.Fatalf("ListTokens %s: %v", status, err)
		}
		var ids []string
		for _, tok := range p.Items {
			ids = append(ids, tok.ID)
		}
		return ids
	}
	check := func(when string) {
		t.Helper()
		wantEqual(t, when+": active", list(tokens.StatusActive), []string{forever.ID, later.ID})
		wantEqual(t, when+": expired", list(tokens.StatusExpired), []string{expired.ID})
	}
	check("before the sweep")
	e.sweepExpired(e.now)
	check("after the sweep")
	if more, err := e.s.SweepExpired(e.ctx, e.now, 10); err != nil || more {
		t.Fatalf("a second sweep: more %v, error %v", more, err)
	}
	if _, err := e.s.UpdateToken(e.ctx, a.ID, expired.ID, 0, func(t *tokens.Token) error { t.Name = "renamed"; return nil }, e.rec(a.ID)); err != nil {
		t.Fatalf("UpdateToken: %v", err)
	}
	check("after a write of the swept token")
	e.sweepExpired(e.now)
	check("after the next sweep")
}

// sweepExpired runs SweepExpired at now until it reports no more work.
func (e *env) sweepExpired(now time.Time) {
	e.t.Helper()
	for range 1000 {
		more, err := e.s.SweepExpired(e.ctx, now, 10)
		if err != nil {
			e.t.Fatalf("SweepExpired: %v", err)
		}
		if !more {
			return
		}
	}
	e.t.Fatal("SweepExpired never finished")
}
