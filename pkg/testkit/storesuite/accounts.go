package storesuite

import (
	"errors"
	"sync"
	"testing"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

func testAccountRoundTrip(t *testing.T, e *env) {
	a, keyHash := e.account()
	wantEqual(t, "GetAccount", e.getAccount(a.ID), a)

	owner, err := e.s.KeyOwner(e.ctx, keyHash)
	wantErr(t, "KeyOwner", err, nil)
	wantEqual(t, "KeyOwner", owner, tokens.KeyOwner{AccountID: a.ID, KeyID: a.APIKey.ID, KeyGeneration: 1, AccountStatus: tokens.AccountStatusActive})

	_, err = e.s.GetAccount(e.ctx, id.New(id.Account))
	wantErr(t, "GetAccount(unknown)", err, apperr.ErrNotFound)
	_, err = e.s.KeyOwner(e.ctx, secret.Hash(secret.NewAPIKey(tokens.DefaultAPIKeyPrefix)))
	wantErr(t, "KeyOwner(unknown)", err, apperr.ErrNotFound)
	err = e.s.CreateAccount(e.ctx, a, secret.Hash(secret.NewAPIKey(tokens.DefaultAPIKeyPrefix)), e.rec(a.ID))
	wantErr(t, "CreateAccount(same ID)", err, apperr.ErrConflict)
}

func testUpdateAccount(t *testing.T, e *env) {
	a, keyHash := e.account()
	unknown := id.New(id.Account)
	_, err := e.s.UpdateAccount(e.ctx, unknown, func(*tokens.Account) error { return nil }, e.rec(unknown))
	wantErr(t, "UpdateAccount(unknown)", err, apperr.ErrNotFound)
	refused := errors.New("refused")
	_, err = e.s.UpdateAccount(e.ctx, a.ID, func(a *tokens.Account) error { a.Name = "changed"; return refused }, e.rec(a.ID))
	wantErr(t, "UpdateAccount(change fails)", err, refused)
	wantEqual(t, "account after a refused change", e.getAccount(a.ID), a)

	closed := e.updateAccount(a, func(a *tokens.Account) {
		a.Status, a.Name = tokens.AccountStatusClosed, "Acme Ltd"
		a.APIKey.Generation = 99 // not the change's to make
	})
	want := a
	want.Status, want.Name = tokens.AccountStatusClosed, "Acme Ltd"
	wantEqual(t, "returned account", closed, want)
	wantEqual(t, "saved account", e.getAccount(a.ID), want)
	owner, err := e.s.KeyOwner(e.ctx, keyHash)
	wantErr(t, "KeyOwner", err, nil)
	if owner.AccountStatus != tokens.AccountStatusClosed {
		t.Fatalf("KeyOwner status %q after closing, want %q", owner.AccountStatus, tokens.AccountStatusClosed)
	}
}

func testReplaceAPIKey(t *testing.T, e *env) {
	a, oldKey := e.account()
	u := e.user(a, svcA)
	old := e.token(a, &u, svcA)
	byAdmin := e.token(a, nil, svcA, func(t *tokens.Token) { t.Enabled, t.DisabledReason = false, tokens.DisabledByAdmin })

	_, err := e.s.ReplaceAPIKey(e.ctx, a.ID, e.newKey(a.APIKey.Generation+1), e.rec(a.ID))
	wantErr(t, "ReplaceAPIKey(presenting a key that is not current)", err, tokens.ErrKeyNotCurrent)
	unknown := id.New(id.Account)
	_, err = e.s.ReplaceAPIKey(e.ctx, unknown, e.newKey(0), e.rec(unknown))
	wantErr(t, "ReplaceAPIKey(unknown account)", err, apperr.ErrNotFound)

	r := e.newKey(a.APIKey.Generation)
	next, err := e.s.ReplaceAPIKey(e.ctx, a.ID, r, e.rec(a.ID))
	wantErr(t, "ReplaceAPIKey", err, nil)
	want := a
	want.APIKey, want.UpdatedAt = r.Key, r.UpdatedAt
	want.APIKey.Generation = a.APIKey.Generation + 1
	wantEqual(t, "returned account", next, want)
	wantEqual(t, "stored account", e.getAccount(a.ID), want)

	_, err = e.s.KeyOwner(e.ctx, oldKey)
	wantErr(t, "KeyOwner(old key)", err, apperr.ErrNotFound)
	owner, err := e.s.KeyOwner(e.ctx, r.KeyHash)
	wantErr(t, "KeyOwner(new key)", err, nil)
	wantEqual(t, "KeyOwner(new key)", owner, tokens.KeyOwner{AccountID: a.ID, KeyID: r.Key.ID, KeyGeneration: 2, AccountStatus: tokens.AccountStatusActive})

	// Nothing is written to the tokens: they read as replaced.
	wantEqual(t, "stored token of the old key", e.getToken(old), old)
	shown := e.getToken(old).UnderKey(next.APIKey.Generation)
	if shown.Enabled || shown.DisabledReason != tokens.DisabledAPIKeyReplaced {
		t.Fatalf("token of the old key under the new one: enabled %v, reason %q; want disabled, %q", shown.Enabled, shown.DisabledReason, tokens.DisabledAPIKeyReplaced)
	}
	if got := e.getToken(byAdmin).UnderKey(next.APIKey.Generation); got.DisabledReason != tokens.DisabledByAdmin {
		t.Fatalf("token disabled by an admin reads as %q after a replacement", got.DisabledReason)
	}
	if o := e.outcome(old); o != tokens.KeyReplaced {
		t.Fatalf("outcome of a token of the old key = %v, want %v", o, tokens.KeyReplaced)
	}
	fresh := e.token(next, &u, svcA)
	if o := e.outcome(fresh); o != tokens.Valid {
		t.Fatalf("outcome of a token of the new key = %v, want %v", o, tokens.Valid)
	}
}

// testConcurrentRotations protects rule 7: one key can be rotated once.
func testConcurrentRotations(t *testing.T, e *env) {
	const rotations = 10
	a, _ := e.account()
	keys := make([]tokens.KeyReplacement, rotations)
	errs := make([]error, rotations)
	var wg sync.WaitGroup
	for i := range rotations {
		keys[i] = e.newKey(a.APIKey.Generation)
		wg.Go(func() { _, errs[i] = e.s.ReplaceAPIKey(e.ctx, a.ID, keys[i], e.rec(a.ID)) })
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("rotations %d and %d with the same key both succeeded", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, tokens.ErrKeyNotCurrent):
			t.Fatalf("rotation %d: %v, want success or ErrKeyNotCurrent", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no rotation succeeded")
	}
	for i, k := range keys {
		_, err := e.s.KeyOwner(e.ctx, k.KeyHash)
		if i == won {
			wantErr(t, "KeyOwner(the winner's key)", err, nil)
		} else {
			wantErr(t, "KeyOwner(a loser's key)", err, apperr.ErrNotFound)
		}
	}
	if got := e.getAccount(a.ID).APIKey; got.Generation != 2 || got.ID != keys[won].Key.ID {
		t.Fatalf("account key %+v, want the winner's at generation 2", got)
	}
}
