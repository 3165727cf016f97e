package storesuite

import (
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
	wantEqual(t, "KeyOwner", owner, tokens.KeyOwner{AccountID: a.ID, KeyID: a.APIKey.ID, AccountStatus: tokens.AccountStatusActive})

	_, err = e.s.GetAccount(e.ctx, id.New(id.Account))
	wantErr(t, "GetAccount(unknown)", err, apperr.ErrNotFound)
	_, err = e.s.KeyOwner(e.ctx, secret.Hash(secret.NewAPIKey(tokens.DefaultAPIKeyPrefix)))
	wantErr(t, "KeyOwner(unknown)", err, apperr.ErrNotFound)
	err = e.s.CreateAccount(e.ctx, a, secret.Hash(secret.NewAPIKey(tokens.DefaultAPIKeyPrefix)))
	wantErr(t, "CreateAccount(same ID)", err, apperr.ErrConflict)
}

func testSaveAccountIsConditionalOnVersion(t *testing.T, e *env) {
	a, keyHash := e.account()
	cases := []struct {
		name    string
		account func() tokens.Account
		want    error
	}{
		{"same version", func() tokens.Account { return a }, apperr.ErrStale},
		{"skipped version", func() tokens.Account { b := a; b.Version += 2; return b }, apperr.ErrStale},
		{"unknown account", func() tokens.Account { b := a; b.ID = id.New(id.Account); b.Version++; return b }, apperr.ErrNotFound},
	}
	for _, tc := range cases {
		wantErr(t, tc.name, e.s.SaveAccount(e.ctx, tc.account()), tc.want)
	}
	wantEqual(t, "account after refused saves", e.getAccount(a.ID), a)

	closed := e.saveAccount(a, func(a *tokens.Account) { a.Status = tokens.AccountStatusClosed; a.Name = "Acme Ltd" })
	wantEqual(t, "saved account", e.getAccount(a.ID), closed)
	owner, err := e.s.KeyOwner(e.ctx, keyHash)
	wantErr(t, "KeyOwner", err, nil)
	if owner.AccountStatus != tokens.AccountStatusClosed {
		t.Fatalf("KeyOwner status %q after closing, want %q", owner.AccountStatus, tokens.AccountStatusClosed)
	}
	wantErr(t, "SaveAccount(replayed)", e.s.SaveAccount(e.ctx, closed), apperr.ErrStale)
}

func testReplaceAPIKey(t *testing.T, e *env) {
	a, oldKey := e.account()
	u := e.user(a, svcA)
	old := e.token(a, &u, svcA)
	byAdmin := e.token(a, nil, svcA, func(t *tokens.Token) { t.Enabled, t.DisabledReason = false, tokens.DisabledByAdmin })

	stale := a
	stale.APIKey.Generation++
	wantErr(t, "ReplaceAPIKey(same version)", e.s.ReplaceAPIKey(e.ctx, stale, secret.Hash(secret.NewAPIKey(tokens.DefaultAPIKeyPrefix))), apperr.ErrStale)

	a, newKey := e.replaceKey(a)
	_, err := e.s.KeyOwner(e.ctx, oldKey)
	wantErr(t, "KeyOwner(old key)", err, apperr.ErrNotFound)
	owner, err := e.s.KeyOwner(e.ctx, newKey)
	wantErr(t, "KeyOwner(new key)", err, nil)
	wantEqual(t, "KeyOwner(new key)", owner, tokens.KeyOwner{AccountID: a.ID, KeyID: a.APIKey.ID, AccountStatus: tokens.AccountStatusActive})
	wantEqual(t, "account", e.getAccount(a.ID), a)

	want := old
	want.Enabled, want.DisabledReason, want.Version = false, tokens.DisabledAPIKeyReplaced, old.Version+1
	wantEqual(t, "token of the old key", e.getToken(old), want)
	wantEqual(t, "token disabled by an admin", e.getToken(byAdmin), byAdmin)
	if o := e.outcome(old); o != tokens.KeyReplaced {
		t.Fatalf("outcome of a token of the old key = %v, want %v", o, tokens.KeyReplaced)
	}

	fresh := e.token(a, &u, svcA)
	if o := e.outcome(fresh); o != tokens.Valid {
		t.Fatalf("outcome of a token of the new key = %v, want %v", o, tokens.Valid)
	}
}
