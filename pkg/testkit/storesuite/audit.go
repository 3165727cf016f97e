package storesuite

import (
	"testing"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// testAuditEntriesCommitWithTheirChangeOnly: a committed change leaves its
// entry with the exact before/after of what it changed; a refused one
// (a protected delete, a failed change function) leaves none; another
// account's log stays empty.
func testAuditEntriesCommitWithTheirChangeOnly(t *testing.T, e *env) {
	a, _ := e.account()
	other, _ := e.account()
	tok := e.token(a, nil, svcA, func(t *tokens.Token) { t.Protected = true })
	before := len(e.auditLog(a.ID, audit.Filter{}))

	rename := e.rec(a.ID)
	rename.Action, rename.TargetType, rename.TargetID = audit.TokenUpdate, audit.TargetToken, tok.ID
	if _, err := e.s.UpdateToken(e.ctx, a.ID, tok.ID, 0, func(t *tokens.Token) error { t.Name = "renamed"; return nil }, rename); err != nil {
		t.Fatalf("UpdateToken: %v", err)
	}
	wantErr(t, "DeleteToken(protected)", e.s.DeleteToken(e.ctx, a.ID, tok.ID, func(t tokens.Token) error {
		if t.Protected {
			return tokens.ErrTokenProtected
		}
		return nil
	}, e.rec(a.ID)), tokens.ErrTokenProtected)

	got := e.auditLog(a.ID, audit.Filter{TargetID: tok.ID, Action: audit.TokenUpdate})
	if len(got) != 1 {
		t.Fatalf("%d token.update entries, want 1: %+v", len(got), got)
	}
	wantEqual(t, "changes", got[0].Changes, audit.Changes{"name": {Before: "t", After: "renamed"}})
	wantEqual(t, "entry ID", got[0].ID, rename.ID)
	if n := len(e.auditLog(a.ID, audit.Filter{})); n != before+1 {
		t.Fatalf("%d entries after one committed and one refused change, want %d", n, before+1)
	}
	if n := len(e.auditLog(other.ID, audit.Filter{TargetID: tok.ID})); n != 0 {
		t.Fatalf("another account sees %d entries of this token", n)
	}
}

func (e *env) auditLog(accountID string, f audit.Filter) []audit.Entry {
	e.t.Helper()
	p, err := e.s.ListAudit(e.ctx, accountID, f, paging.Request{Limit: 100})
	if err != nil {
		e.t.Fatalf("ListAudit: %v", err)
	}
	return p.Items
}
