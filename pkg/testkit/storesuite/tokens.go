package storesuite

import (
	"encoding/base64"
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
		c, err := e.s.Credential(e.ctx, tok.SecretHash)
		wantErr(t, tc.name+": Credential", err, nil)
		wantEqual(t, tc.name+": Credential", c, tokens.Credential{
			Token: tok, AccountStatus: tokens.AccountStatusActive, AccountServices: a.Services,
			AccountKeyGeneration: a.APIKey.Generation, UserAccess: tc.user != nil,
		})
	}

	tok := e.token(a, nil, svcA)
	other, _ := e.account()
	_, err := e.s.GetToken(e.ctx, other.ID, tok.ID)
	wantErr(t, "GetToken(another account's token)", err, apperr.ErrNotFound)
	_, err = e.s.GetToken(e.ctx, a.ID, id.New(id.Token))
	wantErr(t, "GetToken(unknown)", err, apperr.ErrNotFound)
	_, err = e.s.TokenAccount(e.ctx, id.New(id.Token))
	wantErr(t, "TokenAccount(unknown)", err, apperr.ErrNotFound)
	_, err = e.s.Credential(e.ctx, e.newToken(a, nil, svcA).SecretHash)
	wantErr(t, "Credential(unknown)", err, apperr.ErrNotFound)
}

func testCreateTokenConditions(t *testing.T, e *env) {
	a, _ := e.account()
	u := e.user(a, svcA)
	src := e.token(a, &u, svcA)
	cases := []struct {
		name  string
		write func(tokens.Token) tokens.TokenWrite
	}{
		{"account changed", func(tok tokens.Token) tokens.TokenWrite {
			old := a
			old.Version--
			return tokens.TokenWrite{Token: tok, Account: old, User: &u}
		}},
		{"user changed", func(tok tokens.Token) tokens.TokenWrite {
			old := u
			old.Version--
			return tokens.TokenWrite{Token: tok, Account: a, User: &old}
		}},
		{"source changed", func(tok tokens.Token) tokens.TokenWrite {
			s := src // Version not incremented: the stored one is not s.Version-1
			s.ExpiresAt = ptr(e.now.Add(time.Hour))
			return tokens.TokenWrite{Token: tok, Account: a, User: &u, Source: &s}
		}},
		{"source deleted", func(tok tokens.Token) tokens.TokenWrite {
			s := e.newToken(a, &u, svcA)
			s.Version++
			return tokens.TokenWrite{Token: tok, Account: a, User: &u, Source: &s}
		}},
	}
	for _, tc := range cases {
		tok := e.newToken(a, &u, svcA)
		wantErr(t, tc.name, e.s.CreateToken(e.ctx, tc.write(tok)), apperr.ErrStale)
		_, err := e.s.GetToken(e.ctx, a.ID, tok.ID)
		wantErr(t, tc.name+": refused token", err, apperr.ErrNotFound)
		_, err = e.s.Credential(e.ctx, tok.SecretHash)
		wantErr(t, tc.name+": refused token's credential", err, apperr.ErrNotFound)
	}
	wantEqual(t, "source after refused clones", e.getToken(src), src)
}

func testCloneSavesSource(t *testing.T, e *env) {
	a, _ := e.account()
	u := e.user(a, svcA)
	src := e.token(a, &u, svcA)
	clone := e.newToken(a, &u, svcA)
	src.ExpiresAt = ptr(e.now.Add(time.Minute))
	src.Version++
	wantErr(t, "CreateToken(clone)", e.s.CreateToken(e.ctx, tokens.TokenWrite{Token: clone, Account: a, User: &u, Source: &src}), nil)

	wantEqual(t, "clone", e.getToken(clone), clone)
	wantEqual(t, "source", e.getToken(src), src)
	c, err := e.s.Credential(e.ctx, src.SecretHash)
	wantErr(t, "Credential(source)", err, nil)
	wantEqual(t, "source credential's token", c.Token, src)
}

func testSaveToken(t *testing.T, e *env) {
	a, _ := e.account()
	tok := e.token(a, nil, svcA)
	next := tok
	next.Name, next.Enabled, next.DisabledReason = "renamed", false, tokens.DisabledByAdmin
	next.Settings = tokens.Settings{"publicOnly": true}
	next.ExpiresAt = ptr(e.now.Add(time.Hour))
	next.Version++

	oldAccount := a
	oldAccount.Version--
	unknown := e.newToken(a, nil, svcA)
	unknown.Version++
	cases := []struct {
		name    string
		token   tokens.Token
		account tokens.Account
		want    error
	}{
		{"same version", tok, a, apperr.ErrStale},
		{"account changed", next, oldAccount, apperr.ErrStale},
		{"unknown token", unknown, a, apperr.ErrNotFound},
	}
	for _, tc := range cases {
		wantErr(t, tc.name, e.s.SaveToken(e.ctx, tc.token, tc.account), tc.want)
	}
	wantEqual(t, "token after refused saves", e.getToken(tok), tok)

	wantErr(t, "SaveToken", e.s.SaveToken(e.ctx, next, a), nil)
	wantEqual(t, "saved token", e.getToken(tok), next)
	c, err := e.s.Credential(e.ctx, tok.SecretHash)
	wantErr(t, "Credential", err, nil)
	wantEqual(t, "credential's token", c.Token, next)
	wantErr(t, "SaveToken(replayed)", e.s.SaveToken(e.ctx, next, a), apperr.ErrStale)

	cleared := next
	cleared.ExpiresAt, cleared.Enabled, cleared.DisabledReason = nil, true, ""
	cleared.Version++
	wantErr(t, "SaveToken(clear expiry)", e.s.SaveToken(e.ctx, cleared, a), nil)
	wantEqual(t, "token with expiry cleared", e.getToken(tok), cleared)
}

func testDeleteToken(t *testing.T, e *env) {
	a, _ := e.account()
	other, _ := e.account()
	tok := e.token(a, nil, svcA)

	wantErr(t, "DeleteToken(other account)", e.s.DeleteToken(e.ctx, other.ID, tok.ID), apperr.ErrNotFound)
	wantErr(t, "DeleteToken", e.s.DeleteToken(e.ctx, a.ID, tok.ID), nil)
	_, err := e.s.GetToken(e.ctx, a.ID, tok.ID)
	wantErr(t, "GetToken(deleted)", err, apperr.ErrNotFound)
	_, err = e.s.TokenAccount(e.ctx, tok.ID)
	wantErr(t, "TokenAccount(deleted)", err, apperr.ErrNotFound)
	_, err = e.s.Credential(e.ctx, tok.SecretHash)
	wantErr(t, "Credential(deleted)", err, apperr.ErrNotFound)
	wantErr(t, "DeleteToken(again)", e.s.DeleteToken(e.ctx, a.ID, tok.ID), apperr.ErrNotFound)
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
	}
	for _, tc := range cases {
		f := tc.filter
		if f.Service == "" {
			f.Service = svcA
		}
		if f.Now.IsZero() {
			f.Now = e.now
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
			p, err := e.s.ListTokens(e.ctx, a.ID, tokens.TokenFilter{Service: svcA, Status: tokens.StatusActive, Now: e.now}, paging.Request{Limit: limit, Cursor: cursor})
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
		return tokens.TokenFilter{Service: service, UserID: userID, Now: e.now}
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
	users, err := e.s.ListUsers(e.ctx, a.ID, paging.Request{Limit: 1})
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
		_, err := e.s.ListUsers(e.ctx, a.ID, paging.Request{Limit: 10, Cursor: c})
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
	_, err = e.s.ListUsers(e.ctx, b.ID, paging.Request{Limit: 10, Cursor: userCursor})
	wantErr(t, "ListUsers(cursor of account A in account B)", err, paging.ErrBadCursor)
	// The cursor still works where it was issued.
	_, err = e.s.ListTokens(e.ctx, a.ID, filter(svcA, ""), paging.Request{Limit: 10, Cursor: svcACursor})
	wantErr(t, "ListTokens(its own cursor)", err, nil)
}

func testEarliestActiveToken(t *testing.T, e *env) {
	a, _ := e.account()
	f := tokens.TokenFilter{Service: svcA, Now: e.now}
	_, err := e.s.EarliestActiveToken(e.ctx, a.ID, f)
	wantErr(t, "EarliestActiveToken(no tokens)", err, apperr.ErrNotFound)

	e.token(a, nil, svcB)
	e.token(a, nil, svcA, func(t *tokens.Token) { t.Enabled, t.DisabledReason = false, tokens.DisabledByAdmin })
	e.token(a, nil, svcA, func(t *tokens.Token) { t.ExpiresAt = ptr(e.now) })
	_, err = e.s.EarliestActiveToken(e.ctx, a.ID, f)
	wantErr(t, "EarliestActiveToken(none active)", err, apperr.ErrNotFound)

	first := e.token(a, nil, svcA, func(t *tokens.Token) { t.ExpiresAt = ptr(e.now.Add(time.Second)) })
	second := e.token(a, nil, svcA)
	cases := []struct {
		name string
		now  time.Time
		want tokens.Token
	}{
		{"earliest active", e.now, first},
		{"earliest has expired", e.now.Add(time.Second), second},
	}
	for _, tc := range cases {
		got, err := e.s.EarliestActiveToken(e.ctx, a.ID, tokens.TokenFilter{Service: svcA, Now: tc.now})
		wantErr(t, tc.name, err, nil)
		wantEqual(t, tc.name, got, tc.want)
	}
}

func testCountTokens(t *testing.T, e *env) {
	a, _ := e.account()
	other, _ := e.account()
	u := e.user(a, svcA)
	e.token(a, &u, svcA)
	e.token(a, &u, svcA)
	e.token(a, nil, svcA)
	e.token(a, nil, svcB)
	e.token(other, nil, svcA)
	for _, tc := range []struct {
		service        string
		user, userless int
	}{{svcA, 2, 1}, {svcB, 0, 1}, {"unknown", 0, 0}} {
		user, userless, err := e.s.CountTokens(e.ctx, a.ID, tc.service)
		wantErr(t, "CountTokens", err, nil)
		if user != tc.user || userless != tc.userless {
			t.Errorf("CountTokens(%s) = %d, %d; want %d, %d", tc.service, user, userless, tc.user, tc.userless)
		}
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
		if got.Version != tok.Version {
			t.Fatalf("%s: MarkUsed moved Version to %d", s.name, got.Version)
		}
	}

	// An admin write read before the use still succeeds and keeps the use.
	renamed := tok
	renamed.Name, renamed.Version = "renamed", tok.Version+1
	wantErr(t, "SaveToken after MarkUsed", e.s.SaveToken(e.ctx, renamed, a), nil)
	if got := e.getToken(tok); got.LastUsedAt == nil || got.Name != "renamed" {
		t.Fatalf("after SaveToken: %+v, want renamed and LastUsedAt kept", got)
	}

	wantErr(t, "DeleteToken", e.s.DeleteToken(e.ctx, a.ID, tok.ID), nil)
	wantErr(t, "MarkUsed(deleted token)", e.s.MarkUsed(e.ctx, a.ID, tok.ID, e.now.Add(time.Hour)), nil)
	_, err := e.s.GetToken(e.ctx, a.ID, tok.ID)
	wantErr(t, "MarkUsed must not resurrect a token", err, apperr.ErrNotFound)
}
