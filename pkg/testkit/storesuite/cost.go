package storesuite

import (
	"testing"

	"github.com/acmedata/tokenservice/pkg/tokens"
)

// world is an account with one user (access to both services) holding n
// user tokens of svcA, and n userless tokens of svcA.
type world struct {
	a        tokens.Account
	u        tokens.User
	user     []tokens.Token
	userless []tokens.Token
}

func (e *env) world(n int) world {
	e.t.Helper()
	a, _ := e.account()
	w := world{a: a, u: e.user(a, svcA, svcB)}
	for range n {
		w.user = append(w.user, e.token(a, &w.u, svcA))
		w.userless = append(w.userless, e.token(a, nil, svcA))
	}
	return w
}

// accountWideChange is one of the changes the product promises cost the
// same whatever the account holds.
type accountWideChange struct {
	name  string
	setup func(e *env, w world)       // brings the world to where the change applies
	run   func(e *env, w world) error // the change itself: the admin's request
	// userOnly says the change stops only the user's tokens.
	userOnly bool
	// stopped is the outcome of every affected token once the change is
	// in; before it they are valid (or, for a reopening, closed).
	stopped, before tokens.Outcome
}

var accountWideChanges = []accountWideChange{
	{name: "close the account", run: func(e *env, w world) error {
		_, err := e.s.UpdateAccount(e.ctx, w.a.ID, func(a *tokens.Account) error { a.Status = tokens.AccountStatusClosed; return nil }, e.rec(w.a.ID))
		return err
	}, stopped: tokens.AccountClosed, before: tokens.Valid},
	{name: "reopen the account", setup: func(e *env, w world) {
		e.updateAccount(w.a, func(a *tokens.Account) { a.Status = tokens.AccountStatusClosed })
	}, run: func(e *env, w world) error {
		_, err := e.s.UpdateAccount(e.ctx, w.a.ID, func(a *tokens.Account) error { a.Status = tokens.AccountStatusActive; return nil }, e.rec(w.a.ID))
		return err
	}, stopped: tokens.Valid, before: tokens.AccountClosed},
	{name: "remove a service", run: func(e *env, w world) error {
		_, err := e.s.UpdateAccount(e.ctx, w.a.ID, func(a *tokens.Account) error { a.Services = []string{svcB}; return nil }, e.rec(w.a.ID))
		return err
	}, stopped: tokens.ServiceNotSubscribed, before: tokens.Valid},
	{name: "replace the API key", run: func(e *env, w world) error {
		_, err := e.s.ReplaceAPIKey(e.ctx, w.a.ID, e.newKey(w.a.APIKey.Generation), e.rec(w.a.ID))
		return err
	}, stopped: tokens.KeyReplaced, before: tokens.Valid},
	{name: "switch the user's access off", run: func(e *env, w world) error {
		_, err := e.s.UpdateUser(e.ctx, w.a.ID, w.u.ID, func(u *tokens.User) error { delete(u.Access, svcA); return nil }, e.rec(w.a.ID))
		return err
	}, userOnly: true, stopped: tokens.AccessOff, before: tokens.Valid},
	{name: "delete the user", run: func(e *env, w world) error {
		return e.s.DeleteUser(e.ctx, w.a.ID, w.u.ID, e.rec(w.a.ID))
	}, userOnly: true, stopped: tokens.Unknown, before: tokens.Valid},
}

// testAccountWideChangeCost protects "account-wide changes cost the same
// whatever the account holds": each is the same number of writes on an
// account with one token as on one with many.
func testAccountWideChangeCost(t *testing.T, e *env) {
	const many = 40
	for _, c := range accountWideChanges {
		t.Run(c.name, func(t *testing.T) {
			e := &env{t: t, s: e.s, faults: e.faults, ctx: t.Context(), now: e.now}
			writes := map[int]int{}
			for _, n := range []int{1, many} {
				w := e.world(n)
				if c.setup != nil {
					c.setup(e, w)
				}
				before := e.faults.Writes()
				if err := c.run(e, w); err != nil {
					t.Fatalf("%d tokens: %v", n, err)
				}
				writes[n] = e.faults.Writes() - before
			}
			if writes[1] != writes[many] || writes[1] < 1 {
				t.Fatalf("writes with 1 token each: %d; with %d: %d; want the same, and at least one", writes[1], many, writes[many])
			}
		})
	}
}

// testCrashBetweenWrites protects "no crash at any point leaves some of
// the tokens working when they should not": each change, and the user
// deletion with its whole background sweep, is stopped after every number
// of writes it takes; what is left is all before or all after, for every
// token alike.
func testCrashBetweenWrites(t *testing.T, e *env) {
	const n = 3
	changes := append([]accountWideChange{}, accountWideChanges...)
	changes = append(changes, accountWideChange{name: "delete the user and sweep its tokens", run: func(e *env, w world) error {
		if err := e.s.DeleteUser(e.ctx, w.a.ID, w.u.ID, e.rec(w.a.ID)); err != nil {
			return err
		}
		for {
			more, err := e.s.Sweep(e.ctx, 1)
			if err != nil || !more {
				return err
			}
		}
	}, userOnly: true, stopped: tokens.Unknown, before: tokens.Valid})
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			e := &env{t: t, s: e.s, faults: e.faults, ctx: t.Context(), now: e.now}
			// How many writes the whole change takes, uninterrupted. The
			// store is shared by the subtests of this test only, which run
			// one after another, so the count is this change's alone.
			w := e.world(n)
			if c.setup != nil {
				c.setup(e, w)
			}
			start := e.faults.Writes()
			if err := c.run(e, w); err != nil {
				t.Fatal(err)
			}
			total := e.faults.Writes() - start
			for k := range total {
				w := e.world(n)
				if c.setup != nil {
					c.setup(e, w)
				}
				e.faults.FailWritesAfter(k)
				err := c.run(e, w)
				e.faults.FailWritesAfter(-1)
				if err == nil {
					t.Fatalf("crash after %d of %d writes: the change reported success", k, total)
				}
				affected := append([]tokens.Token{}, w.user...)
				if !c.userOnly {
					affected = append(affected, w.userless...)
				} else {
					for _, tok := range w.userless {
						if got := e.outcome(tok); got != tokens.Valid {
							t.Fatalf("crash after %d of %d writes: a token the change does not touch reads %v", k, total, got)
						}
					}
				}
				first := e.outcome(affected[0])
				if first != c.before && first != c.stopped {
					t.Fatalf("crash after %d of %d writes: outcome %v, want %v or %v", k, total, first, c.before, c.stopped)
				}
				for i, tok := range affected {
					if got := e.outcome(tok); got != first {
						t.Fatalf("crash after %d of %d writes: token %d reads %v, token 0 %v: a half-applied change", k, total, i, got, first)
					}
				}
			}
			t.Logf("%d writes, each crash point checked", total)
		})
	}
}
