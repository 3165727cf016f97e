package storesuite

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// testConcurrentUpdatesAuditEachCommit protects the same-write rule under
// contention: concurrent updates of one token, each retried by the store
// until it commits, leave exactly one entry per committed change (none
// for an attempt that lost a race), and each entry's before and after are
// the state its committing attempt read and wrote, so the entries chain
// from the first state to the last.
func testConcurrentUpdatesAuditEachCommit(t *testing.T, e *env) {
	const writers = 8
	a, _ := e.account()
	tok := e.token(a, nil, svcA)
	sent := make([]string, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		entry := audit.Entry{
			AccountID: a.ID, ID: audit.NewID(), Time: e.now, Actor: audit.Operator("storesuite"),
			Action: audit.TokenUpdate, TargetType: audit.TargetToken, TargetID: tok.ID,
		}
		sent[i] = entry.ID
		wg.Go(func() {
			_, errs[i] = e.s.UpdateToken(e.ctx, a.ID, tok.ID, 0, func(t *tokens.Token) error {
				t.Settings[fmt.Sprintf("writer%02d", i)] = true
				return nil
			}, entry)
		})
	}
	wg.Wait()
	for i, err := range errs {
		wantErr(t, fmt.Sprintf("writer %d", i), err, nil)
	}

	var got []audit.Entry
	page := paging.Request{Limit: 3}
	for {
		p, err := e.s.ListAudit(e.ctx, a.ID, audit.Filter{TargetID: tok.ID}, page)
		if err != nil {
			t.Fatalf("list audit: %v", err)
		}
		got = append(got, p.Items...)
		if p.NextCursor == "" {
			break
		}
		page.Cursor = p.NextCursor
	}
	ids := make([]string, len(got))
	for i, en := range got {
		ids[i] = en.ID
	}
	slices.Sort(ids)
	slices.Sort(sent)
	if !slices.Equal(ids, sent) {
		t.Fatalf("entries %v after %d committed updates, want exactly the %d sent %v", ids, writers, writers, sent)
	}

	// Each committed change added one setting to the state it read: the
	// befores hold 0..writers-1 settings, each after one more.
	seen := make([]bool, writers)
	for _, en := range got {
		c, ok := en.Changes["settings"]
		if len(en.Changes) != 1 || !ok {
			t.Fatalf("entry %s changes %v, want settings alone", en.ID, en.Changes)
		}
		before, after := settingsLen(t, c.Before), settingsLen(t, c.After)
		if after != before+1 || before >= writers || seen[before] {
			t.Fatalf("entry %s settings %v → %v: not one committed step of the chain", en.ID, c.Before, c.After)
		}
		seen[before] = true
	}
}

// settingsLen is the number of settings of a recorded value (nil: none).
func settingsLen(t *testing.T, v any) int {
	t.Helper()
	if v == nil {
		return 0
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("settings recorded as %T, want an object", v)
	}
	return len(m)
}
