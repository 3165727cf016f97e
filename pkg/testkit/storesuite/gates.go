package storesuite

import (
	"errors"
	"sync"
	"testing"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// testCredentialGates protects revocation on the next request: every write
// that changes the authorizer's decision is visible to Credential as soon as
// it returns.
func testCredentialGates(t *testing.T, e *env) {
	cases := []struct {
		name   string
		change func(e *env, a tokens.Account, u tokens.User, tok tokens.Token)
		want   tokens.Outcome
	}{
		{"nothing changed", func(*env, tokens.Account, tokens.User, tokens.Token) {}, tokens.Valid},
		{"account closed", func(e *env, a tokens.Account, _ tokens.User, _ tokens.Token) {
			e.saveAccount(a, func(a *tokens.Account) { a.Status = tokens.AccountStatusClosed })
		}, tokens.AccountClosed},
		{"service dropped", func(e *env, a tokens.Account, _ tokens.User, _ tokens.Token) {
			e.saveAccount(a, func(a *tokens.Account) { a.Services = []string{svcB} })
		}, tokens.ServiceNotSubscribed},
		{"API key replaced", func(e *env, a tokens.Account, _ tokens.User, _ tokens.Token) { e.replaceKey(a) }, tokens.KeyReplaced},
		{"access off", func(e *env, _ tokens.Account, u tokens.User, _ tokens.Token) {
			e.saveUser(u, func(u *tokens.User) { delete(u.Access, svcA) })
		}, tokens.AccessOff},
		{"access off, then on", func(e *env, _ tokens.Account, u tokens.User, _ tokens.Token) {
			u = e.saveUser(u, func(u *tokens.User) { delete(u.Access, svcA) })
			e.saveUser(u, func(u *tokens.User) { u.Access[svcA] = true })
		}, tokens.Valid},
		{"closed, then reopened", func(e *env, a tokens.Account, _ tokens.User, _ tokens.Token) {
			a = e.saveAccount(a, func(a *tokens.Account) { a.Status = tokens.AccountStatusClosed })
			e.saveAccount(a, func(a *tokens.Account) { a.Status = tokens.AccountStatusActive })
		}, tokens.Valid},
		{"token disabled", func(e *env, a tokens.Account, _ tokens.User, tok tokens.Token) {
			tok.Enabled, tok.DisabledReason = false, tokens.DisabledByAdmin
			tok.Version++
			wantErr(e.t, "SaveToken", e.s.SaveToken(e.ctx, tok, a), nil)
		}, tokens.Disabled},
		{"token re-enabled after a key replacement", func(e *env, a tokens.Account, _ tokens.User, tok tokens.Token) {
			a, _ = e.replaceKey(a)
			tok = e.getToken(tok)
			tok.Enabled, tok.DisabledReason, tok.KeyGeneration = true, "", a.APIKey.Generation
			tok.Version++
			wantErr(e.t, "SaveToken", e.s.SaveToken(e.ctx, tok, a), nil)
		}, tokens.Valid},
		{"token deleted", func(e *env, a tokens.Account, _ tokens.User, tok tokens.Token) {
			wantErr(e.t, "DeleteToken", e.s.DeleteToken(e.ctx, a.ID, tok.ID), nil)
		}, tokens.Unknown},
		{"user deleted", func(e *env, a tokens.Account, u tokens.User, _ tokens.Token) {
			wantErr(e.t, "DeleteUser", e.s.DeleteUser(e.ctx, a.ID, u.ID), nil)
		}, tokens.Unknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, s: e.s, ctx: t.Context(), now: e.now}
			a, _ := e.account()
			u := e.user(a, svcA, svcB)
			tok := e.token(a, &u, svcA)
			tc.change(e, a, u, tok)
			if got := e.outcome(tok); got != tc.want {
				t.Fatalf("outcome = %v, want %v", got, tc.want)
			}
		})
	}
}

// testConcurrentSaveToken protects against lost updates: of many writers
// holding the same read, exactly one commits.
func testConcurrentSaveToken(t *testing.T, e *env) {
	const writers = 20
	a, _ := e.account()
	tok := e.token(a, nil, svcA)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			next := tok
			next.Name = "writer " + string(rune('a'+i))
			next.Version++
			errs[i] = e.s.SaveToken(e.ctx, next, a)
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("writers %d and %d both committed version %d", won, i, tok.Version+1)
		case err == nil:
			won = i
		case !errors.Is(err, apperr.ErrStale):
			t.Fatalf("writer %d: %v, want success or ErrStale", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no writer committed")
	}
	got := e.getToken(tok)
	if want := "writer " + string(rune('a'+won)); got.Name != want || got.Version != tok.Version+1 {
		t.Fatalf("stored %q version %d, want the winner's %q version %d", got.Name, got.Version, want, tok.Version+1)
	}
}

// testCreateTokenRacingAccessOff protects the user-access gate: a token made
// while its user's access is switched off either fails or ends up gated like
// the stored user.
func testCreateTokenRacingAccessOff(t *testing.T, e *env) {
	const rounds = 8
	a, _ := e.account()
	for range rounds {
		u := e.user(a, svcA)
		tok := e.newToken(a, &u, svcA)
		var createErr, saveErr error
		var wg sync.WaitGroup
		wg.Go(func() { createErr = e.s.CreateToken(e.ctx, tokens.TokenWrite{Token: tok, Account: a, User: &u}) })
		wg.Go(func() {
			off := u
			off.Access = map[string]bool{}
			off.Version++
			saveErr = e.s.SaveUser(e.ctx, off)
		})
		wg.Wait()
		// Either write may lose the race (ErrStale); what must hold is that
		// the credential agrees with the stored user.
		for name, err := range map[string]error{"CreateToken": createErr, "SaveUser": saveErr} {
			if err != nil && !errors.Is(err, apperr.ErrStale) {
				t.Fatalf("%s: %v, want success or ErrStale", name, err)
			}
		}
		if createErr != nil {
			continue
		}
		want := tokens.AccessOff
		if e.getUser(u).HasAccess(svcA) {
			want = tokens.Valid
		}
		if got := e.outcome(tok); got != want {
			t.Fatalf("token created while access was switched off: outcome %v, want %v", got, want)
		}
	}
}
