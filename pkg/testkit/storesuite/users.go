package storesuite

import (
	"errors"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

func testUserRoundTrip(t *testing.T, e *env) {
	a, _ := e.account()
	u := e.user(a, svcA)
	wantEqual(t, "GetUser", e.getUser(u), u)

	other, _ := e.account()
	cases := []struct{ name, accountID, userID string }{
		{"unknown user", a.ID, id.New(id.User)},
		{"another account's user", other.ID, u.ID},
	}
	for _, tc := range cases {
		_, err := e.s.GetUser(e.ctx, tc.accountID, tc.userID)
		wantErr(t, tc.name, err, apperr.ErrNotFound)
	}
}

func testEmailUniqueness(t *testing.T, e *env) {
	a, _ := e.account()
	other, _ := e.account()
	taken := e.newUser(a, "Ada.Lovelace@Example.com")
	if err := e.s.CreateUser(e.ctx, taken, e.rec(taken.AccountID)); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	cases := []struct {
		name    string
		account tokens.Account
		email   string
		want    error
	}{
		{"same email", a, taken.Email, apperr.ErrConflict},
		{"other case", a, strings.ToLower(taken.Email), apperr.ErrConflict},
		{"upper case", a, strings.ToUpper(taken.Email), apperr.ErrConflict},
		{"other account", other, taken.Email, nil},
		{"other email", a, "grace@example.com", nil},
	}
	for _, tc := range cases {
		u := e.newUser(tc.account, tc.email)
		err := e.s.CreateUser(e.ctx, u, e.rec(u.AccountID))
		wantErr(t, tc.name, err, tc.want)
		if tc.want != nil {
			_, err = e.s.GetUser(e.ctx, u.AccountID, u.ID)
			wantErr(t, tc.name+": refused user", err, apperr.ErrNotFound)
		}
	}
}

func testUpdateUser(t *testing.T, e *env) {
	a, _ := e.account()
	u := e.user(a)
	other := e.user(a)

	_, err := e.s.UpdateUser(e.ctx, a.ID, id.New(id.User), func(*tokens.User) error { return nil }, e.rec(a.ID))
	wantErr(t, "UpdateUser(unknown)", err, apperr.ErrNotFound)
	_, err = e.s.UpdateUser(e.ctx, a.ID, u.ID, func(u *tokens.User) error { u.Email = strings.ToUpper(other.Email); return nil }, e.rec(a.ID))
	wantErr(t, "UpdateUser(email of another user)", err, apperr.ErrConflict)
	refused := errors.New("refused")
	_, err = e.s.UpdateUser(e.ctx, a.ID, u.ID, func(u *tokens.User) error { u.Name = "changed"; return refused }, e.rec(a.ID))
	wantErr(t, "UpdateUser(change fails)", err, refused)
	wantEqual(t, "user after refused updates", e.getUser(u), u)

	recased := e.updateUser(u, func(u *tokens.User) { u.Email = strings.ToUpper(u.Email); u.Access[svcA] = true })
	wantEqual(t, "user with re-cased email", e.getUser(u), recased)

	moved := e.updateUser(recased, func(u *tokens.User) { u.Email = "moved-" + u.Email })
	wantEqual(t, "user with new email", e.getUser(u), moved)
	// The old address is free again, the new one is claimed.
	wantErr(t, "CreateUser(old email)", e.s.CreateUser(e.ctx, e.newUser(a, u.Email), e.rec(a.ID)), nil)
	wantErr(t, "CreateUser(new email)", e.s.CreateUser(e.ctx, e.newUser(a, moved.Email), e.rec(a.ID)), apperr.ErrConflict)
}

func testListUsers(t *testing.T, e *env) {
	a, _ := e.account()
	other, _ := e.account()
	e.user(other)
	var want []tokens.User
	for range 5 {
		want = append(want, e.user(a))
	}
	var got []tokens.User
	var sizes []int
	cursor := ""
	for {
		p, err := e.s.ListUsers(e.ctx, a.ID, tokens.UserFilter{}, paging.Request{Limit: 2, Cursor: cursor})
		wantErr(t, "ListUsers", err, nil)
		got = append(got, p.Items...)
		sizes = append(sizes, len(p.Items))
		if cursor = p.NextCursor; cursor == "" || len(sizes) > len(want) {
			break
		}
	}
	wantEqual(t, "page sizes", sizes, []int{2, 2, 1})
	wantEqual(t, "users, oldest first", got, want)

	all, err := e.s.ListUsers(e.ctx, a.ID, tokens.UserFilter{}, paging.Request{Limit: 5})
	wantErr(t, "ListUsers(limit = count)", err, nil)
	wantEqual(t, "users in one page", all.Items, want)
	if all.NextCursor != "" {
		t.Errorf("a page holding every user has NextCursor %q, want none", all.NextCursor)
	}
}

func testDeleteUser(t *testing.T, e *env) {
	a, _ := e.account()
	u := e.user(a, svcA, svcB)
	keep := e.user(a, svcA)
	doomed := []tokens.Token{e.token(a, &u, svcA), e.token(a, &u, svcB), e.token(a, &u, svcA)}
	kept := []tokens.Token{e.token(a, &keep, svcA), e.token(a, nil, svcA)}

	wantErr(t, "DeleteUser", e.s.DeleteUser(e.ctx, a.ID, u.ID, e.rec(a.ID)), nil)
	_, err := e.s.GetUser(e.ctx, a.ID, u.ID)
	wantErr(t, "GetUser(deleted)", err, apperr.ErrNotFound)
	for _, tok := range doomed {
		if o := e.outcome(tok); o != tokens.Unknown {
			t.Errorf("outcome of a token of the deleted user before the sweep = %v, want unknown", o)
		}
	}
	err = e.s.CreateToken(e.ctx, tokens.TokenWrite{Token: e.newToken(a, &u, svcA)}, e.rec(a.ID))
	wantErr(t, "CreateToken(for the deleted user)", err, apperr.ErrNotFound)

	e.sweep()
	for _, tok := range doomed {
		_, err := e.s.GetToken(e.ctx, a.ID, tok.ID)
		wantErr(t, "GetToken(token of deleted user)", err, apperr.ErrNotFound)
		_, err = e.s.TokenAccount(e.ctx, tok.ID)
		wantErr(t, "TokenAccount(token of deleted user)", err, apperr.ErrNotFound)
		_, err = e.s.TokenBySecret(e.ctx, tok.SecretHash)
		wantErr(t, "TokenBySecret(token of deleted user)", err, apperr.ErrNotFound)
	}
	for _, tok := range kept {
		wantEqual(t, "token of another user", e.getToken(tok), tok)
		if o := e.outcome(tok); o != tokens.Valid {
			t.Errorf("outcome of a token not of the deleted user = %v, want valid", o)
		}
	}
	wantErr(t, "CreateUser(email of deleted user)", e.s.CreateUser(e.ctx, e.newUser(a, u.Email), e.rec(a.ID)), nil)
	wantErr(t, "DeleteUser(again)", e.s.DeleteUser(e.ctx, a.ID, u.ID, e.rec(a.ID)), apperr.ErrNotFound)
	users, err := e.s.ListUsers(e.ctx, a.ID, tokens.UserFilter{}, paging.Request{Limit: 10})
	wantErr(t, "ListUsers", err, nil)
	for _, got := range users.Items {
		if got.ID == u.ID {
			t.Errorf("ListUsers still lists the deleted user")
		}
	}
	more, err := e.s.Sweep(e.ctx, 10)
	if err != nil || more {
		t.Fatalf("Sweep with nothing to do = %v, %v; want false, nil", more, err)
	}
}

// testServiceStats protects the General tab: its counts move with every
// write that changes them, and come from no query over the tokens.
func testServiceStats(t *testing.T, e *env) {
	a, _ := e.account()
	other, _ := e.account()
	both := e.user(a, svcA, svcB)
	onlyA := e.user(a, svcA)
	e.user(a)
	e.user(other, svcA)
	off := e.user(a, svcA, svcB)
	e.updateUser(off, func(u *tokens.User) { delete(u.Access, svcA) })
	e.token(a, &both, svcA)
	e.token(a, &both, svcA)
	e.token(a, &onlyA, svcA)
	gone := e.token(a, nil, svcA)
	e.token(a, nil, svcA)
	e.token(a, nil, svcB)
	e.token(other, nil, svcA)
	wantErr(t, "DeleteToken", e.s.DeleteToken(e.ctx, a.ID, gone.ID, anyToken, e.rec(a.ID)), nil)

	want := map[string]tokens.ServiceStats{
		svcA:      {UsersWithAccess: 2, UserTokens: 3, UserlessTokens: 1},
		svcB:      {UsersWithAccess: 2, UserTokens: 0, UserlessTokens: 1},
		"unknown": {},
	}
	check := func(when string) {
		t.Helper()
		for svc, w := range want {
			got, err := e.s.ServiceStats(e.ctx, a.ID, svc)
			wantErr(t, "ServiceStats", err, nil)
			wantEqual(t, when+": ServiceStats("+svc+")", got, w)
		}
	}
	check("after creates")

	wantErr(t, "DeleteUser", e.s.DeleteUser(e.ctx, a.ID, both.ID, e.rec(a.ID)), nil)
	want[svcA] = tokens.ServiceStats{UsersWithAccess: 1, UserTokens: 3, UserlessTokens: 1}
	want[svcB] = tokens.ServiceStats{UsersWithAccess: 1, UserTokens: 0, UserlessTokens: 1}
	check("after deleting a user, before the sweep")
	e.sweep()
	want[svcA] = tokens.ServiceStats{UsersWithAccess: 1, UserTokens: 1, UserlessTokens: 1}
	check("after the sweep")
}
