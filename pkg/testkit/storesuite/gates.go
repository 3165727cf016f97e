package storesuite

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// testCredentialGates protects revocation: every write that changes the
// authorizer's decision is visible to a store read as soon as it returns
// (the authorizer's cache adds at most the revocation delay).
func testCredentialGates(t *testing.T, e *env) {
	cases := []struct {
		name   string
		change func(e *env, a tokens.Account, u tokens.User, tok tokens.Token)
		want   tokens.Outcome
	}{
		{"nothing changed", func(*env, tokens.Account, tokens.User, tokens.Token) {}, tokens.Valid},
		{"account closed", func(e *env, a tokens.Account, _ tokens.User, _ tokens.Token) {
			e.updateAccount(a, func(a *tokens.Account) { a.Status = tokens.AccountStatusClosed })
		}, tokens.AccountClosed},
		{"service dropped", func(e *env, a tokens.Account, _ tokens.User, _ tokens.Token) {
			e.updateAccount(a, func(a *tokens.Account) { a.Services = []string{svcB} })
		}, tokens.ServiceNotSubscribed},
		{"API key replaced", func(e *env, a tokens.Account, _ tokens.User, _ tokens.Token) { e.replaceKey(a) }, tokens.KeyReplaced},
		{"access off", func(e *env, _ tokens.Account, u tokens.User, _ tokens.Token) {
			e.updateUser(u, func(u *tokens.User) { delete(u.Access, svcA) })
		}, tokens.AccessOff},
		{"access off, then on", func(e *env, _ tokens.Account, u tokens.User, _ tokens.Token) {
			u = e.updateUser(u, func(u *tokens.User) { delete(u.Access, svcA) })
			e.updateUser(u, func(u *tokens.User) { u.Access[svcA] = true })
		}, tokens.Valid},
		{"closed, then reopened", func(e *env, a tokens.Account, _ tokens.User, _ tokens.Token) {
			a = e.updateAccount(a, func(a *tokens.Account) { a.Status = tokens.AccountStatusClosed })
			e.updateAccount(a, func(a *tokens.Account) { a.Status = tokens.AccountStatusActive })
		}, tokens.Valid},
		{"token disabled", func(e *env, a tokens.Account, _ tokens.User, tok tokens.Token) {
			_, err := e.s.UpdateToken(e.ctx, a.ID, tok.ID, 0, func(t *tokens.Token) error {
				t.Enabled, t.DisabledReason = false, tokens.DisabledByAdmin
				return nil
			}, e.rec(a.ID))
			wantErr(e.t, "UpdateToken", err, nil)
		}, tokens.Disabled},
		{"token re-enabled after a key replacement", func(e *env, a tokens.Account, _ tokens.User, tok tokens.Token) {
			a, _ = e.replaceKey(a)
			_, err := e.s.UpdateToken(e.ctx, a.ID, tok.ID, a.APIKey.Generation, func(t *tokens.Token) error {
				t.Enabled, t.DisabledReason, t.KeyGeneration = true, "", a.APIKey.Generation
				return nil
			}, e.rec(a.ID))
			wantErr(e.t, "UpdateToken", err, nil)
		}, tokens.Valid},
		{"token deleted", func(e *env, a tokens.Account, _ tokens.User, tok tokens.Token) {
			wantErr(e.t, "DeleteToken", e.s.DeleteToken(e.ctx, a.ID, tok.ID, anyToken, e.rec(a.ID)), nil)
		}, tokens.Unknown},
		{"user deleted", func(e *env, a tokens.Account, u tokens.User, _ tokens.Token) {
			wantErr(e.t, "DeleteUser", e.s.DeleteUser(e.ctx, a.ID, u.ID, e.rec(a.ID)), nil)
		}, tokens.Unknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, s: e.s, faults: e.faults, ctx: t.Context(), now: e.now}
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

// testConcurrentUpdateToken protects against lost updates: concurrent
// changes of one token each apply to the state the others left.
func testConcurrentUpdateToken(t *testing.T, e *env) {
	const writers = 12
	a, _ := e.account()
	tok := e.token(a, nil, svcA)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = e.s.UpdateToken(e.ctx, a.ID, tok.ID, 0, func(t *tokens.Token) error {
				t.Settings[fmt.Sprintf("writer%02d", i)] = true
				return nil
			}, e.rec(a.ID))
		})
	}
	wg.Wait()
	for i, err := range errs {
		wantErr(t, fmt.Sprintf("writer %d", i), err, nil)
	}
	if got := e.getToken(tok).Settings; len(got) != writers {
		t.Fatalf("settings after %d concurrent updates: %v (a write was lost)", writers, got)
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
		wg.Go(func() { createErr = e.s.CreateToken(e.ctx, tokens.TokenWrite{Token: tok}, e.rec(tok.AccountID)) })
		wg.Go(func() {
			_, saveErr = e.s.UpdateUser(e.ctx, a.ID, u.ID, func(u *tokens.User) error { delete(u.Access, svcA); return nil }, e.rec(a.ID))
		})
		wg.Wait()
		wantErr(t, "UpdateUser", saveErr, nil)
		if createErr != nil && !errors.Is(createErr, apperr.ErrConflict) {
			t.Fatalf("CreateToken: %v, want success or user_access_off", createErr)
		}
		if createErr == nil {
			if got := e.outcome(tok); got != tokens.AccessOff {
				t.Fatalf("token created while access was switched off: outcome %v, want %v", got, tokens.AccessOff)
			}
		}
	}
}

// testCreateTokenRacingRotation protects rule 7 under concurrency: a create
// authorised by a key that a rotation replaces meanwhile never yields a
// working token.
func testCreateTokenRacingRotation(t *testing.T, e *env) {
	const creates = 24
	a, _ := e.account()
	made := make([]tokens.Token, creates)
	errs := make([]error, creates)
	var rotateErr error
	var wg sync.WaitGroup
	for i := range creates {
		made[i] = e.newToken(a, nil, svcA) // authorised by the key of generation 1
		wg.Go(func() { errs[i] = e.s.CreateToken(e.ctx, tokens.TokenWrite{Token: made[i]}, e.rec(made[i].AccountID)) })
		if i == creates/2 {
			wg.Go(func() { _, rotateErr = e.s.ReplaceAPIKey(e.ctx, a.ID, e.newKey(a.APIKey.Generation), e.rec(a.ID)) })
		}
	}
	wg.Wait()
	wantErr(t, "ReplaceAPIKey", rotateErr, nil)
	for i, err := range errs {
		if err != nil && !errors.Is(err, tokens.ErrKeyNotCurrent) {
			t.Fatalf("create %d: %v, want success or ErrKeyNotCurrent", i, err)
		}
		if err == nil {
			if got := e.outcome(made[i]); got != tokens.KeyReplaced {
				t.Fatalf("create %d of the replaced key committed and reads %v, want %v", i, got, tokens.KeyReplaced)
			}
		}
	}
}
