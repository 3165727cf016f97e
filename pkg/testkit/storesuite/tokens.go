package storesuite

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

func testTokenRoundTrip(t *testing.T, e *env) {
	a, _ := e.account()
	u := e.user(a, svcA)
	cases := []struct {
		name   string
		user   *tokens.User
		change func(*tokens.Token)
	}{
		{"userless", nil, func(*tokens.Token) {}},
		{"user token with expiry and settings", &u, func(t *tokens.Token) {
			t.ExpiresAt = ptr(e.now.Add(time.Hour))
			t.Settings = tokens.Settings{"publicOnly": true, "region": "eu", "maxRows": 1000.5}
		}},
	}
	for _, tc := range cases {
		tok := e.token(a, tc.user, svcA, tc.change)
		wantEqual(t, tc.name+": GetToken", e.getToken(tok), tok)
		owner, err := e.s.TokenAccount(e.ctx, tok.ID)
		wantErr(t, tc.name+": TokenAccount", err, nil)
		if owner != a.ID {
			t.Errorf("%s: TokenAccount = %q, want %q", tc.name, owner, a.ID)
		}
		got, err := e.s.TokenBySecret(e.ctx, tok.SecretHash)
		wantErr(t, tc.name+": TokenBySecret", err, nil)
		wantEqual(t, tc.name+": TokenBySecret", got, tok)
		c, err := tokens.LoadCredential(e.ctx, e.s, tok.SecretHash)
		wantErr(t, tc.name+": LoadCredential", err, nil)
		want := tokens.Credential{Token: tok, Account: a.Gate()}
		if tc.user != nil {
			want.User = tc.user.Gate()
		}
		wantEqual(t, tc.name+": LoadCredential", c, want)
	}
	testGatesAnswerEveryRequestShape(t, e, a, u)

	tok := e.token(a, nil, svcA)
	other, _ := e.account()
	_, err := e.s.GetToken(e.ctx, other.ID, tok.ID)
	wantErr(t, "GetToken(another account's token)", err, apperr.ErrNotFound)
	_, err = e.s.GetToken(e.ctx, a.ID, id.New(id.Token))
	wantErr(t, "GetToken(unknown)", err, apperr.ErrNotFound)
	_, err = e.s.TokenAccount(e.ctx, id.New(id.Token))
	wantErr(t, "TokenAccount(unknown)", err, apperr.ErrNotFound)
	_, err = e.s.TokenBySecret(e.ctx, e.newToken(a, nil, svcA).SecretHash)
	wantErr(t, "TokenBySecret(unknown)", err, apperr.ErrNotFound)
}

// testGatesAnswerEveryRequestShape: whichever gates a request names (the
// DynamoDB store reads one with a GetItem, two with a BatchGetItem), it
// gets exactly those that exist, and nothing it did not ask for; and so
// does TokenAndGates, beside the token it reads in the same round trip.
func testGatesAnswerEveryRequestShape(t *testing.T, e *env, a tokens.Account, u tokens.User) {
	t.Helper()
	tok := e.token(a, &u, svcA)
	accountGate, userGate := a.Gate(), u.Gate()
	unknownAccount, unknownUser := id.New(id.Account), id.New(id.User)
	for _, tc := range []struct {
		name    string
		r       tokens.GateRequest
		account *tokens.AccountGate
		user    *tokens.UserGate
	}{
		{"nothing", tokens.GateRequest{AccountID: a.ID}, nil, nil},
		{"account only", tokens.GateRequest{AccountID: a.ID, Account: true}, &accountGate, nil},
		{"user only", tokens.GateRequest{AccountID: a.ID, UserID: u.ID}, nil, &userGate},
		{"account and user", tokens.GateRequest{AccountID: a.ID, Account: true, UserID: u.ID}, &accountGate, &userGate},
		{"unknown account only", tokens.GateRequest{AccountID: unknownAccount, Account: true}, nil, nil},
		{"unknown user only", tokens.GateRequest{AccountID: a.ID, UserID: unknownUser}, nil, nil},
		{"account and unknown user", tokens.GateRequest{AccountID: a.ID, Account: true, UserID: unknownUser}, &accountGate, nil},
		{"unknown account and user", tokens.GateRequest{AccountID: unknownAccount, Account: true, UserID: unknownUser}, nil, nil},
		{"the user under another account", tokens.GateRequest{AccountID: unknownAccount, UserID: u.ID}, nil, nil},
	} {
		g, err := e.s.Gates(e.ctx, tc.r)
		wantErr(t, "Gates("+tc.name+")", err, nil)
		wantEqual(t, "Gates("+tc.name+")", g, tokens.Gates{Account: tc.account, User: tc.user})
		got, g, err := e.s.TokenAndGates(e.ctx, tok.SecretHash, tc.r)
		wantErr(t, "TokenAndGates("+tc.name+")", err, nil)
		wantEqual(t, "TokenAndGates("+tc.name+"): token", got, tok)
		wantEqual(t, "TokenAndGates("+tc.name+"): gates", g, tokens.Gates{Account: tc.account, User: tc.user})
	}
	_, _, err := e.s.TokenAndGates(e.ctx, e.newToken(a, &u, svcA).SecretHash, tokens.GateRequest{AccountID: a.ID, Account: true, UserID: u.ID})
	wantErr(t, "TokenAndGates(unknown token)", err, apperr.ErrNotFound)
}

// testCreateTokenGates protects the create's own conditions: whatever the
// caller checked before, the write holds only while the account and user
// allow the token, and says precisely why not.
func testCreateTokenGates(t *testing.T, e *env) {
	cases := []struct {
		name   string
		change func(e *env, a tokens.Account, u tokens.User)
		user   bool
		gen    int64 // the token's key generation, 0: the account's
		want   error
	}{
		{"account closed", func(e *env, a tokens.Account, _ tokens.User) {
			e.updateAccount(a, func(a *tokens.Account) { a.Status = tokens.AccountStatusClosed })
		}, false, 0, apperr.ErrConflict},
		{"service dropped", func(e *env, a tokens.Account, _ tokens.User) {
			e.updateAccount(a, func(a *tokens.Account) { a.Services = []string{svcB} })
		}, false, 0, apperr.ErrNotFound},
		{"key replaced", func(e *env, a tokens.Account, _ tokens.User) { e.replaceKey(a) }, false, 0, tokens.ErrKeyNotCurrent},
		{"a key generation not yet current", func(*env, tokens.Account, tokens.User) {}, false, 2, tokens.ErrKeyNotCurrent},
		{"access off", func(e *env, _ tokens.Account, u tokens.User) {
			e.updateUser(u, func(u *tokens.User) { delete(u.Access, svcA) })
		}, true, 0, apperr.ErrConflict},
		{"user deleted", func(e *env, a tokens.Account, u tokens.User) {
			wantErr(e.t, "DeleteUser", e.s.DeleteUser(e.ctx, a.ID, u.ID, e.rec(a.ID)), nil)
		}, true, 0, apperr.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, s: e.s, faults: e.faults, ctx: t.Context(), now: e.now}
			a, _ := e.account()
			u := e.user(a, svcA)
			var owner *tokens.User
			if tc.user {
				owner = &u
			}
			tok := e.newToken(a, owner, svcA)
			if tc.gen != 0 {
				tok.KeyGeneration = tc.gen
			}
			tc.change(e, a, u)
			wantErr(t, "CreateToken", e.s.CreateToken(e.ctx, tokens.TokenWrite{Token: tok}, e.rec(tok.AccountID)), tc.want)
			_, err := e.s.GetToken(e.ctx, a.ID, tok.ID)
			wantErr(t, "refused token", err, apperr.ErrNotFound)
			_, err = e.s.TokenBySecret(e.ctx, tok.SecretHash)
			wantErr(t, "refused token's secret", err, apperr.ErrNotFound)
			stats, err := e.s.ServiceStats(e.ctx, a.ID, svcA)
			wantErr(t, "ServiceStats", err, nil)
			if stats.UserTokens != 0 || stats.UserlessTokens != 0 {
				t.Fatalf("a refused create was counted: %+v", stats)
			}
		})
	}
}

func testCloneRevokesSource(t *testing.T, e *env) {
	a, _ := e.account()
	u := e.user(a, svcA)
	later := e.now.Add(time.Hour)
	src := e.token(a, &u, svcA, func(t *tokens.Token) { t.ExpiresAt = &later })
	for _, tc := range []struct {
		name string
		end  time.Time
		want time.Time
	}{
		{"sooner than the source's expiry", e.now.Add(time.Minute), e.now.Add(time.Minute)},
		{"later than the source's expiry", e.now.Add(2 * time.Hour), e.now.Add(time.Minute)},
	} {
		clone := e.newToken(a, &u, svcA)
		err := e.s.CreateToken(e.ctx, tokens.TokenWrite{Token: clone, SourceID: src.ID, RevokeSourceAt: &tc.end}, e.rec(clone.AccountID))
		wantErr(t, tc.name+": CreateToken(clone)", err, nil)
		wantEqual(t, tc.name+": clone", e.getToken(clone), clone)
		want := src
		want.ExpiresAt = &tc.want
		wantEqual(t, tc.name+": source", e.getToken(src), want)
		got, err := e.s.TokenBySecret(e.ctx, src.SecretHash)
		wantErr(t, tc.name+": TokenBySecret(source)", err, nil)
		wantEqual(t, tc.name+": source by secret", got, want)
	}
	end := e.now.Add(time.Second)
	err := e.s.CreateToken(e.ctx, tokens.TokenWrite{Token: e.newToken(a, &u, svcA), SourceID: id.New(id.Token), RevokeSourceAt: &end}, e.rec(a.ID))
	wantErr(t, "CreateToken(clone of an unknown source)", err, apperr.ErrNotFound)
}

func testUpdateToken(t *testing.T, e *env) {
	a, _ := e.account()
	tok := e.token(a, nil, svcA)
	next := tok
	next.Name, next.Enabled, next.DisabledReason = "renamed", false, tokens.DisabledByAdmin
	next.Settings = tokens.Settings{"publicOnly": true}
	next.ExpiresAt = ptr(e.now.Add(time.Hour))

	refused := errors.New("refused")
	for _, tc := range []struct {
		name    string
		tokenID string
		gen     int64
		change  func(*tokens.Token) error
		want    error
	}{
		{"unknown token", id.New(id.Token), 0, func(*tokens.Token) error { return nil }, apperr.ErrNotFound},
		{"change fails", tok.ID, 0, func(t *tokens.Token) error { t.Name = "x"; return refused }, refused},
		{"key not current", tok.ID, a.APIKey.Generation + 1, func(t *tokens.Token) error { t.Name = "x"; return nil }, tokens.ErrKeyNotCurrent},
	} {
		_, err := e.s.UpdateToken(e.ctx, a.ID, tc.tokenID, tc.gen, tc.change, e.rec(a.ID))
		wantErr(t, tc.name, err, tc.want)
	}
	other, _ := e.account()
	_, err := e.s.UpdateToken(e.ctx, other.ID, tok.ID, 0, func(*tokens.Token) error { return nil }, e.rec(other.ID))
	wantErr(t, "UpdateToken(another account's token)", err, apperr.ErrNotFound)
	wantEqual(t, "token after refused updates", e.getToken(tok), tok)

	got, err := e.s.UpdateToken(e.ctx, a.ID, tok.ID, a.APIKey.Generation, func(t *tokens.Token) error {
		name, enabled, reason, settings, expires := next.Name, next.Enabled, next.DisabledReason, next.Settings, next.ExpiresAt
		t.Name, t.Enabled, t.DisabledReason, t.Settings, t.ExpiresAt = name, enabled, reason, settings, expires
		t.Service, t.UserID, t.SecretHash = svcB, "usr_someone", "not the hash" // not the change's to make
		return nil
	}, e.rec(a.ID))
	wantErr(t, "UpdateToken", err, nil)
	wantEqual(t, "returned token", got, next)
	wantEqual(t, "saved token", e.getToken(tok), next)
	bySecret, err := e.s.TokenBySecret(e.ctx, tok.SecretHash)
	wantErr(t, "TokenBySecret", err, nil)
	wantEqual(t, "token by secret", bySecret, next)

	cleared := next
	cleared.ExpiresAt, cleared.Enabled, cleared.DisabledReason = nil, true, ""
	_, err = e.s.UpdateToken(e.ctx, a.ID, tok.ID, 0, func(t *tokens.Token) error {
		t.ExpiresAt, t.Enabled, t.DisabledReason = nil, true, ""
		return nil
	}, e.rec(a.ID))
	wantErr(t, "UpdateToken(clear expiry)", err, nil)
	wantEqual(t, "token with expiry cleared", e.getToken(tok), cleared)
}

func testDeleteToken(t *testing.T, e *env) {
	a, _ := e.account()
	other, _ := e.account()
	tok := e.token(a, nil, svcA)

	wantErr(t, "DeleteToken(other account)", e.s.DeleteToken(e.ctx, other.ID, tok.ID, anyToken, e.rec(other.ID)), apperr.ErrNotFound)
	wantErr(t, "DeleteToken", e.s.DeleteToken(e.ctx, a.ID, tok.ID, anyToken, e.rec(a.ID)), nil)
	_, err := e.s.GetToken(e.ctx, a.ID, tok.ID)
	wantErr(t, "GetToken(deleted)", err, apperr.ErrNotFound)
	_, err = e.s.TokenAccount(e.ctx, tok.ID)
	wantErr(t, "TokenAccount(deleted)", err, apperr.ErrNotFound)
	_, err = e.s.TokenBySecret(e.ctx, tok.SecretHash)
	wantErr(t, "TokenBySecret(deleted)", err, apperr.ErrNotFound)
	wantErr(t, "DeleteToken(again)", e.s.DeleteToken(e.ctx, a.ID, tok.ID, anyToken, e.rec(a.ID)), apperr.ErrNotFound)
}

func testListTokensFilters(t *testing.T, e *env) {
	a, _ := e.account()
	other, _ := e.account()
	u1, u2 := e.user(a, svcA), e.user(a, svcA)
	e.token(other, nil, svcA)
	e.token(a, nil, svcB)
	userless := e.token(a, nil, svcA)
	u1Tok := e.token(a, &u1, svcA)
	disabled := e.token(a, &u2, svcA, func(t *tokens.Token) { t.Enabled, t.DisabledReason = false, tokens.DisabledByAdmin })
	expired := e.token(a, nil, svcA, func(t *tokens.Token) { t.ExpiresAt = ptr(e.now) })
	expiring := e.token(a, &u1, svcA, func(t *tokens.Token) { t.ExpiresAt = ptr(e.now.Add(time.Millisecond)) })
	// A token of a newer key generation than the filter's reads as
	// active; in its turn, the listing's tokens read as replaced under a
	// later one (below).
	replacedUnder := a.APIKey.Generation + 1

	cases := []struct {
		name   string
		filter tokens.TokenFilter
		want   []tokens.Token
	}{
		{"all", tokens.TokenFilter{}, []tokens.Token{expiring, expired, disabled, u1Tok, userless}},
		{"user", tokens.TokenFilter{Type: tokens.TokenUser}, []tokens.Token{expiring, disabled, u1Tok}},
		{"userless", tokens.TokenFilter{Type: tokens.TokenUserless}, []tokens.Token{expired, userless}},
		{"of one user", tokens.TokenFilter{UserID: u1.ID}, []tokens.Token{expiring, u1Tok}},
		{"of one user, userless", tokens.TokenFilter{UserID: u1.ID, Type: tokens.TokenUserless}, nil},
		{"active", tokens.TokenFilter{Status: tokens.StatusActive}, []tokens.Token{expiring, u1Tok, userless}},
		{"disabled", tokens.TokenFilter{Status: tokens.StatusDisabled}, []tokens.Token{disabled}},
		{"expired at now", tokens.TokenFilter{Status: tokens.StatusExpired}, []tokens.Token{expired}},
		{"expired a moment later", tokens.TokenFilter{Status: tokens.StatusExpired, Now: e.now.Add(time.Millisecond)}, []tokens.Token{expiring, expired}},
		{"active userless", tokens.TokenFilter{Status: tokens.StatusActive, Type: tokens.TokenUserless}, []tokens.Token{userless}},
		{"other service", tokens.TokenFilter{Service: "unknown"}, nil},
		{"disabled under a newer key", tokens.TokenFilter{Status: tokens.StatusDisabled, KeyGeneration: replacedUnder}, []tokens.Token{expiring, expired, disabled, u1Tok, userless}},
		{"active under a newer key", tokens.TokenFilter{Status: tokens.StatusActive, KeyGeneration: replacedUnder}, nil},
	}
	for _, tc := range cases {
		f := tc.filter
		if f.Service == "" {
			f.Service = svcA
		}
		if f.Now.IsZero() {
			f.Now = e.now
		}
		if f.KeyGeneration == 0 {
			f.KeyGeneration = a.APIKey.Generation
		}
		p, err := e.s.ListTokens(e.ctx, a.ID, f, paging.Request{Limit: 100})
		wantErr(t, tc.name, err, nil)
		if len(p.Items) == 0 && len(tc.want) == 0 {
			continue
		}
		wantEqual(t, tc.name, p.Items, tc.want)
		if p.NextCursor != "" {
			t.Errorf("%s: NextCursor %q on the only page", tc.name, p.NextCursor)
		}
	}
}

func testListTokensPages(t *testing.T, e *env) {
	a, _ := e.account()
	var active []tokens.Token
	for i := range 7 {
		active = append(active, e.token(a, nil, svcA))
		if i%2 == 0 {
			e.token(a, nil, svcA, func(t *tokens.Token) { t.Enabled, t.DisabledReason = false, tokens.DisabledByAdmin })
		}
	}
	newestFirst := make([]tokens.Token, 0, len(active))
	for i := len(active) - 1; i >= 0; i-- {
		newestFirst = append(newestFirst, active[i])
	}
	for _, limit := range []int{1, 3, 7, 100} {
		var got []tokens.Token
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > len(active) {
				t.Fatalf("limit %d: more pages than items", limit)
			}
			p, err := e.s.ListTokens(e.ctx, a.ID, tokens.TokenFilter{Service: svcA, Status: tokens.StatusActive, Now: e.now, KeyGeneration: 1}, paging.Request{Limit: limit, Cursor: cursor})
			wantErr(t, "ListTokens", err, nil)
			if len(p.Items) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(p.Items))
			}
			got = append(got, p.Items...)
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		wantEqual(t, "active tokens, newest first", got, newestFirst)
	}
}

func testCursors(t *testing.T, e *env) {
	a, _ := e.account()
	b, _ := e.account()
	u := e.user(a, svcA)
	for range 3 {
		e.user(a)
		e.token(a, nil, svcA)
		e.token(a, &u, svcA)
		e.token(a, nil, svcB)
	}
	e.token(b, nil, svcA)
	filter := func(service, userID string) tokens.TokenFilter {
		return tokens.TokenFilter{Service: service, UserID: userID, Now: e.now, KeyGeneration: 1}
	}
	tokenCursor := func(f tokens.TokenFilter) string {
		t.Helper()
		p, err := e.s.ListTokens(e.ctx, a.ID, f, paging.Request{Limit: 1})
		wantErr(t, "ListTokens", err, nil)
		if p.NextCursor == "" {
			t.Fatal("ListTokens: no NextCursor on a first page of one")
		}
		return p.NextCursor
	}
	users, err := e.s.ListUsers(e.ctx, a.ID, tokens.UserFilter{}, paging.Request{Limit: 1})
	wantErr(t, "ListUsers", err, nil)
	userCursor, svcACursor, svcBCursor, ofUser := users.NextCursor, tokenCursor(filter(svcA, "")), tokenCursor(filter(svcB, "")), tokenCursor(filter(svcA, u.ID))

	for _, tc := range []struct {
		name, cursor string
		filter       tokens.TokenFilter
	}{
		{"garbage", "not a cursor!", filter(svcA, "")},
		{"base64 garbage", base64.RawURLEncoding.EncodeToString([]byte("{}")), filter(svcA, "")},
		{"users cursor", userCursor, filter(svcA, "")},
		{"other service's cursor", svcBCursor, filter(svcA, "")},
		{"service cursor in a user listing", svcACursor, filter(svcA, u.ID)},
		{"other user's cursor", ofUser, filter(svcA, e.user(a).ID)},
	} {
		_, err := e.s.ListTokens(e.ctx, a.ID, tc.filter, paging.Request{Limit: 10, Cursor: tc.cursor})
		wantErr(t, "ListTokens("+tc.name+")", err, paging.ErrBadCursor)
	}
	for _, c := range []string{"not a cursor!", svcACursor} {
		_, err := e.s.ListUsers(e.ctx, a.ID, tokens.UserFilter{}, paging.Request{Limit: 10, Cursor: c})
		wantErr(t, "ListUsers(bad cursor)", err, paging.ErrBadCursor)
	}

	// A cursor is bound to the account and the listing's filters: replayed
	// by another account, or with another type or status, it is refused.
	for _, tc := range []struct {
		name, accountID string
		filter          tokens.TokenFilter
	}{
		{"cursor of account A in account B", b.ID, filter(svcA, "")},
		{"cursor with another type", a.ID, tokens.TokenFilter{Service: svcA, Type: tokens.TokenUserless, Now: e.now}},
		{"cursor with another status", a.ID, tokens.TokenFilter{Service: svcA, Status: tokens.StatusActive, Now: e.now}},
	} {
		_, err := e.s.ListTokens(e.ctx, tc.accountID, tc.filter, paging.Request{Limit: 10, Cursor: svcACursor})
		wantErr(t, "ListTokens("+tc.name+")", err, paging.ErrBadCursor)
	}
	_, err = e.s.ListUsers(e.ctx, b.ID, tokens.UserFilter{}, paging.Request{Limit: 10, Cursor: userCursor})
	wantErr(t, "ListUsers(cursor of account A in account B)", err, paging.ErrBadCursor)
	// The account's users and a service's access list are two listings of
	// the same users: a cursor of one is refused by the other, and by
	// another service's.
	svcUsers, err := e.s.ListUsers(e.ctx, a.ID, tokens.UserFilter{Service: svcA}, paging.Request{Limit: 1})
	wantErr(t, "ListUsers(service)", err, nil)
	for _, tc := range []struct {
		name, cursor string
		filter       tokens.UserFilter
	}{
		{"account users cursor in a service's list", userCursor, tokens.UserFilter{Service: svcA}},
		{"service's users cursor in the account's list", svcUsers.NextCursor, tokens.UserFilter{}},
		{"service's users cursor in another service's list", svcUsers.NextCursor, tokens.UserFilter{Service: svcB}},
	} {
		_, err := e.s.ListUsers(e.ctx, a.ID, tc.filter, paging.Request{Limit: 10, Cursor: tc.cursor})
		wantErr(t, "ListUsers("+tc.name+")", err, paging.ErrBadCursor)
	}
	_, err = e.s.ListUsers(e.ctx, a.ID, tokens.UserFilter{Service: svcA}, paging.Request{Limit: 10, Cursor: svcUsers.NextCursor})
	wantErr(t, "ListUsers(service's own cursor)", err, nil)
	// The cursor still works where it was issued.
	_, err = e.s.ListTokens(e.ctx, a.ID, filter(svcA, ""), paging.Request{Limit: 10, Cursor: svcACursor})
	wantErr(t, "ListTokens(its own cursor)", err, nil)
}

func testEarliestActiveToken(t *testing.T, e *env) {
	a, _ := e.account()
	f := tokens.TokenFilter{Service: svcA, Now: e.now, KeyGeneration: a.APIKey.Generation}
	_, err := e.s.EarliestActiveToken(e.ctx, a.ID, f)
	wantErr(t, "EarliestActiveToken(no tokens)", err, apperr.ErrNotFound)

	e.token(a, nil, svcB)
	e.token(a, nil, svcA, func(t *tokens.Token) { t.Enabled, t.DisabledReason = false, tokens.DisabledByAdmin })
	e.token(a, nil, svcA, func(t *tokens.Token) { t.ExpiresAt = ptr(e.now) })
	_, err = e.s.EarliestActiveToken(e.ctx, a.ID, f)
	wantErr(t, "EarliestActiveToken(none active)", err, apperr.ErrNotFound)

	first := e.token(a, nil, svcA, func(t *tokens.Token) { t.ExpiresAt = ptr(e.now.Add(time.Second)) })
	second := e.token(a, nil, svcA)
	a, _ = e.replaceKey(a)
	third := e.token(a, nil, svcA)
	cases := []struct {
		name string
		now  time.Time
		gen  int64
		want tokens.Token
	}{
		{"earliest active", e.now, 1, first},
		{"earliest has expired", e.now.Add(time.Second), 1, second},
		{"earliest of the current key", e.now, a.APIKey.Generation, third},
	}
	for _, tc := range cases {
		got, err := e.s.EarliestActiveToken(e.ctx, a.ID, tokens.TokenFilter{Service: svcA, Now: tc.now, KeyGeneration: tc.gen})
		wantErr(t, tc.name, err, nil)
		wantEqual(t, tc.name, got, tc.want)
	}
}

func testMarkUsed(t *testing.T, e *env) {
	a, _ := e.account()
	tok := e.token(a, nil, svcA)
	steps := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"first use", e.now.Add(10 * time.Second), e.now.Add(10 * time.Second)},
		{"later use", e.now.Add(20*time.Second + time.Millisecond), e.now.Add(20*time.Second + time.Millisecond)},
		{"earlier use arriving late", e.now.Add(15 * time.Second), e.now.Add(20*time.Second + time.Millisecond)},
		{"sub-second later", e.now.Add(20*time.Second + 2*time.Millisecond), e.now.Add(20*time.Second + 2*time.Millisecond)},
	}
	for _, s := range steps {
		wantErr(t, s.name, e.s.MarkUsed(e.ctx, a.ID, tok.ID, s.at), nil)
		got := e.getToken(tok)
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(s.want) {
			t.Fatalf("%s: LastUsedAt = %v, want %v", s.name, got.LastUsedAt, s.want)
		}
	}

	// An admin write after the use keeps it.
	wantErr(t, "MarkUsed", e.s.MarkUsed(e.ctx, a.ID, tok.ID, e.now.Add(time.Minute)), nil)
	_, err := e.s.UpdateToken(e.ctx, a.ID, tok.ID, 0, func(t *tokens.Token) error { t.Name = "renamed"; return nil }, e.rec(a.ID))
	wantErr(t, "UpdateToken after MarkUsed", err, nil)
	if got := e.getToken(tok); got.LastUsedAt == nil || !got.LastUsedAt.Equal(e.now.Add(time.Minute)) || got.Name != "renamed" {
		t.Fatalf("after UpdateToken: %+v, want renamed and the last use kept", got)
	}

	wantErr(t, "DeleteToken", e.s.DeleteToken(e.ctx, a.ID, tok.ID, anyToken, e.rec(a.ID)), nil)
	wantErr(t, "MarkUsed(deleted token)", e.s.MarkUsed(e.ctx, a.ID, tok.ID, e.now.Add(time.Hour)), nil)
	_, err = e.s.GetToken(e.ctx, a.ID, tok.ID)
	wantErr(t, "MarkUsed must not resurrect a token", err, apperr.ErrNotFound)
}
