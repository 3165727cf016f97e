package storesuite

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/testkit/fakeengine"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// plan stores a plan (with a daily quota if quota > 0).
func (e *env) plan(name string, quota int64) plans.Plan {
	e.t.Helper()
	p := plans.Plan{ID: id.New(plans.IDPrefix), Name: name, Rate: 10, Burst: 20, CreatedAt: e.now, UpdatedAt: e.now}
	if quota > 0 {
		p.Quota = &plans.Quota{Limit: quota, Period: plans.Day}
	}
	if err := e.s.CreatePlan(e.ctx, p); err != nil {
		e.t.Fatalf("CreatePlan: %v", err)
	}
	return p
}

// assignEntry is the audit entry of an assignment to target.
func (e *env) assignEntry(accountID string, target audit.TargetType, targetID string) audit.Entry {
	r := e.rec(accountID)
	r.Action, r.TargetType, r.TargetID = audit.PlanAssign, target, targetID
	return r
}

func (e *env) assignService(a tokens.Account, service, planID string) plans.Marker {
	e.t.Helper()
	_, m, err := e.s.AssignServicePlan(e.ctx, a.ID, service, planID, e.assignEntry(a.ID, audit.TargetAccount, a.ID))
	if err != nil {
		e.t.Fatalf("AssignServicePlan: %v", err)
	}
	return m
}

func (e *env) assignToken(t tokens.Token, planID string) plans.Marker {
	e.t.Helper()
	_, m, err := e.s.AssignTokenPlan(e.ctx, t.AccountID, t.ID, planID, e.assignEntry(t.AccountID, audit.TargetToken, t.ID))
	if err != nil {
		e.t.Fatalf("AssignTokenPlan: %v", err)
	}
	return m
}

// reconciler reconciles the store into engine on a clock the test moves.
func (e *env) reconciler(engine plans.Engine, now *time.Time) *plans.Reconciler {
	e.t.Helper()
	r, err := plans.NewReconciler(e.s, engine, plans.ReconcilerOptions{Now: func() time.Time { return *now }})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// usageKey is the key a decision of t for its service returns.
func (e *env) usageKey(t tokens.Token) string {
	e.t.Helper()
	c, err := tokens.LoadCredential(e.ctx, e.s, t.SecretHash)
	if err != nil {
		e.t.Fatalf("LoadCredential: %v", err)
	}
	return c.UsageKey(t.Service)
}

func testPlanRoundTrip(t *testing.T, e *env) {
	p := e.plan("Gold", 100_000)
	got, err := e.s.GetPlan(e.ctx, p.ID)
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("GetPlan = %+v, %v; want %+v", got, err, p)
	}
	q := e.plan("Free", 0)
	page, err := e.s.ListPlans(e.ctx, paging.Request{Limit: 1})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != q.ID || page.NextCursor == "" {
		t.Fatalf("ListPlans first page = %+v, %v; want the newest plan and a cursor", page, err)
	}
	page, err = e.s.ListPlans(e.ctx, paging.Request{Limit: 1, Cursor: page.NextCursor})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != p.ID {
		t.Fatalf("ListPlans second page = %+v, %v; want the older plan", page, err)
	}
	later := e.now.Add(time.Minute)
	upd, err := e.s.UpdatePlan(e.ctx, p.ID, func(p *plans.Plan) error {
		p.Name, p.Rate, p.Burst, p.Quota, p.UpdatedAt = "Gold+", 2.5, 5, nil, later
		return nil
	})
	if err != nil || upd.Name != "Gold+" || upd.Rate != 2.5 || upd.Burst != 5 || upd.Quota != nil {
		t.Fatalf("UpdatePlan = %+v, %v", upd, err)
	}
	if got, _ := e.s.GetPlan(e.ctx, p.ID); !reflect.DeepEqual(got, upd) {
		t.Fatalf("after UpdatePlan GetPlan = %+v, want %+v", got, upd)
	}
	refused := errors.New("refused")
	if _, err := e.s.UpdatePlan(e.ctx, p.ID, func(*plans.Plan) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("a refused change = %v, want it as is", err)
	}
	if err := e.s.DeletePlan(e.ctx, p.ID); err != nil {
		t.Fatalf("DeletePlan: %v", err)
	}
	for name, err := range map[string]error{
		"GetPlan": func() error { _, err := e.s.GetPlan(e.ctx, p.ID); return err }(),
		"UpdatePlan": func() error {
			_, err := e.s.UpdatePlan(e.ctx, p.ID, func(*plans.Plan) error { return nil })
			return err
		}(),
		"DeletePlan": e.s.DeletePlan(e.ctx, p.ID),
	} {
		if !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("%s of a deleted plan = %v, want NotFound", name, err)
		}
	}
}

func testPlanInUseCannotBeDeleted(t *testing.T, e *env) {
	a, _ := e.account()
	tok := e.token(a, nil, svcA)
	tests := []struct {
		name            string
		assign, release func(p plans.Plan)
	}{
		{"an account's service", func(p plans.Plan) { e.assignService(a, svcA, p.ID) }, func(plans.Plan) { e.assignService(a, svcA, "") }},
		{"a token", func(p plans.Plan) { e.assignToken(tok, p.ID) }, func(plans.Plan) { e.assignToken(tok, "") }},
		{"a token, then another plan", func(p plans.Plan) { e.assignToken(tok, p.ID) }, func(plans.Plan) { e.assignToken(tok, e.plan("other", 0).ID) }},
	}
	var made tokens.Token
	tests = append(tests, struct {
		name            string
		assign, release func(p plans.Plan)
	}{"a token made on it (a clone keeps its source's)", func(p plans.Plan) {
		made = e.token(a, nil, svcA, func(t *tokens.Token) { t.PlanID = p.ID })
	}, func(plans.Plan) { e.assignToken(made, "") }})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := e.plan(tc.name, 0)
			tc.assign(p)
			if err := e.s.DeletePlan(e.ctx, p.ID); !errors.Is(err, tokens.ErrPlanInUse) {
				t.Fatalf("DeletePlan in use = %v, want plan_in_use", err)
			}
			tc.release(p)
			if err := e.s.DeletePlan(e.ctx, p.ID); err != nil {
				t.Fatalf("DeletePlan once released: %v", err)
			}
		})
	}
	t.Run("a deleted token releases its plan", func(t *testing.T) {
		p := e.plan("deleted", 0)
		doomed := e.token(a, nil, svcA, func(t *tokens.Token) { t.PlanID = p.ID })
		if err := e.s.DeleteToken(e.ctx, a.ID, doomed.ID, func(tokens.Token) error { return nil }, e.rec(a.ID)); err != nil {
			t.Fatal(err)
		}
		if err := e.s.DeletePlan(e.ctx, p.ID); err != nil {
			t.Fatalf("DeletePlan after its only token went: %v", err)
		}
	})
	t.Run("a plan that does not exist cannot be assigned", func(t *testing.T) {
		ghost := id.New(plans.IDPrefix)
		if _, _, err := e.s.AssignServicePlan(e.ctx, a.ID, svcA, ghost, e.assignEntry(a.ID, audit.TargetAccount, a.ID)); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("AssignServicePlan of no plan = %v, want NotFound", err)
		}
		if _, _, err := e.s.AssignTokenPlan(e.ctx, a.ID, tok.ID, ghost, e.assignEntry(a.ID, audit.TargetToken, tok.ID)); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("AssignTokenPlan of no plan = %v, want NotFound", err)
		}
	})
}

// testAssignmentCostsTheSameWhateverTheAccountHolds protects "assigning
// or changing a plan costs the same whatever the account holds".
func testAssignmentCostsTheSameWhateverTheAccountHolds(t *testing.T, e *env) {
	const many = 40
	p, q := e.plan("p", 0), e.plan("q", 0)
	writes := map[string]map[int]int{}
	for _, n := range []int{1, many} {
		w := e.world(n)
		steps := []struct {
			name string
			run  func()
		}{
			{"assign a service's plan", func() { e.assignService(w.a, svcA, p.ID) }},
			{"change a service's plan", func() { e.assignService(w.a, svcA, q.ID) }},
			{"take a service's plan off", func() { e.assignService(w.a, svcA, "") }},
			{"assign a token's plan", func() { e.assignToken(w.userless[0], p.ID) }},
			{"take a token's plan off", func() { e.assignToken(w.userless[0], "") }},
		}
		for _, s := range steps {
			before := e.faults.Writes()
			s.run()
			if writes[s.name] == nil {
				writes[s.name] = map[int]int{}
			}
			writes[s.name][n] = e.faults.Writes() - before
		}
	}
	for name, w := range writes {
		if w[1] != w[many] || w[1] != 1 {
			t.Errorf("%s: %d write(s) with 1 token, %d with %d: want one atomic write either way", name, w[1], w[many], many)
		}
	}
}

func testAssignmentCommitsWithItsAuditEntry(t *testing.T, e *env) {
	a, _ := e.account()
	tok := e.token(a, nil, svcA)
	p := e.plan("p", 0)
	e.assignService(a, svcA, p.ID)
	e.assignToken(tok, p.ID)
	e.assignService(a, svcA, "")
	page, err := e.s.ListAudit(e.ctx, a.ID, audit.Filter{Action: audit.PlanAssign}, paging.Request{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		target  string
		changes audit.Changes
	}{
		{a.ID, audit.Changes{"plans." + svcA: {Before: p.ID, After: nil}}},
		{tok.ID, audit.Changes{"plan": {Before: nil, After: p.ID}}},
		{a.ID, audit.Changes{"plans." + svcA: {Before: nil, After: p.ID}}},
	}
	if len(page.Items) != len(want) {
		t.Fatalf("plan.assign entries = %d, want %d", len(page.Items), len(want))
	}
	for i, w := range want {
		got := page.Items[i]
		if got.TargetID != w.target || !reflect.DeepEqual(got.Changes, w.changes) {
			t.Errorf("entry %d = %s %+v, want %s %+v", i, got.TargetID, got.Changes, w.target, w.changes)
		}
	}
	e.faults.FailWritesAfter(0)
	_, _, err = e.s.AssignServicePlan(e.ctx, a.ID, svcA, p.ID, e.assignEntry(a.ID, audit.TargetAccount, a.ID))
	e.faults.FailWritesAfter(-1)
	if err == nil {
		t.Fatal("a failed assignment succeeded")
	}
	if got := e.getAccount(a.ID); got.Plans[svcA] != "" {
		t.Errorf("a failed assignment left the plan %q", got.Plans[svcA])
	}
	if again, _ := e.s.ListAudit(e.ctx, a.ID, audit.Filter{Action: audit.PlanAssign}, paging.Request{Limit: 10}); len(again.Items) != len(want) {
		t.Errorf("a failed assignment left an audit entry")
	}
}

// consistent checks the invariant a reconciler keeps at every step: a key
// a decision returns exists in the engine, in the plan its assignment
// wants or wanted.
func (e *env) consistent(t *testing.T, engine *fakeengine.Engine, tok tokens.Token) {
	t.Helper()
	if k := e.usageKey(tok); k != "" {
		if _, ok := engine.PlanOfKey(k); !ok {
			t.Fatalf("a decision returns a key the engine does not have")
		}
	}
}

func testReconcilerBringsTheEngineToTheStore(t *testing.T, e *env) {
	engine := fakeengine.New()
	now := e.now
	r := e.reconciler(engine, &now)
	a, _ := e.account()
	tok, own := e.token(a, nil, svcA), e.token(a, nil, svcA)
	p, q := e.plan("p", 1000), e.plan("q", 0)
	run := func() {
		t.Helper()
		if _, err := r.Run(e.ctx, 100); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if left, err := e.s.PendingMarkers(e.ctx, 100); err != nil || len(left) != 0 {
			t.Fatalf("markers left after a run: %+v, %v", left, err)
		}
	}
	svcKey := func(planID string) string {
		return plans.KeyFor(plans.Assignment{AccountID: a.ID, Service: svcA}, planID)
	}
	tokKey := func(planID string) string {
		return plans.KeyFor(plans.Assignment{AccountID: a.ID, TokenID: own.ID}, planID)
	}

	e.assignService(a, svcA, p.ID)
	if k := e.usageKey(tok); k != "" {
		t.Fatal("a plan's key is returned before the engine has it")
	}
	run()
	if got := e.usageKey(tok); got != svcKey(p.ID) {
		t.Fatalf("after a run a decision returns %q, want the service's key", got)
	}
	if plan, _ := engine.PlanOfKey(svcKey(p.ID)); plan != p.ID {
		t.Fatalf("the engine counts the service's key in %q, want %s", plan, p.ID)
	}
	if ep, ok := engine.Plan(p.ID); !ok || !reflect.DeepEqual(ep.Quota, p.Quota) || ep.Rate != p.Rate || ep.Burst != p.Burst {
		t.Fatalf("the engine's plan = %+v, want %+v", ep, p)
	}
	calls := engine.Calls()
	run()
	if engine.Calls() != calls {
		t.Errorf("a run with nothing pending called the engine %d times", engine.Calls()-calls)
	}

	e.assignToken(own, q.ID)
	run()
	if got := e.usageKey(own); got != tokKey(q.ID) {
		t.Errorf("a token's own plan: decision returns %q, want its own key", got)
	}
	if got := e.usageKey(tok); got != svcKey(p.ID) {
		t.Errorf("a token without a plan of its own: decision returns %q, want the service's key", got)
	}

	e.assignService(a, svcA, q.ID)
	if got := e.usageKey(tok); got != svcKey(p.ID) {
		t.Errorf("before the run a changed plan still counts under the old key, got %q", got)
	}
	run()
	if got := e.usageKey(tok); got != svcKey(q.ID) {
		t.Errorf("after a change of plan a decision returns %q, want the new plan's key", got)
	}
	if _, ok := engine.PlanOfKey(svcKey(p.ID)); ok {
		t.Error("the old plan's key is still in the engine")
	}

	e.assignToken(own, "")
	if got := e.usageKey(own); got != svcKey(q.ID) {
		t.Errorf("a token's plan taken off: decision returns %q at once, want the service's key", got)
	}
	e.assignService(a, svcA, "")
	if got := e.usageKey(tok); got != "" {
		t.Errorf("a service's plan taken off: decision returns %q at once, want none (unlimited)", got)
	}
	run()
	if n := engine.Keys(); n != 0 {
		t.Errorf("%d keys left in the engine with no plan assigned", n)
	}
	if err := e.s.DeletePlan(e.ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	run()
	if _, ok := engine.Plan(p.ID); ok {
		t.Error("a deleted plan is still in the engine")
	}
}

// testCrashBetweenStoreAndEngineIsHealed protects "a crash at any point
// never leaves a token limited wrongly for longer than 60 s": the engine
// or the store fails at every step of a reconciliation in turn, and the
// next run (after the lease lapses) finishes it; at no step does a
// decision return a key the engine lacks.
func testCrashBetweenStoreAndEngineIsHealed(t *testing.T, e *env) {
	for _, side := range []string{"engine", "store"} {
		for step := 0; step < 8; step++ {
			t.Run(fmt.Sprintf("%s fails after %d calls", side, step), func(t *testing.T) {
				e := &env{t: t, s: e.s, faults: e.faults, ctx: t.Context(), now: e.now}
				engine := fakeengine.New()
				now := e.now
				r := e.reconciler(engine, &now)
				a, _ := e.account()
				tok := e.token(a, nil, svcA)
				p, q := e.plan("p", 0), e.plan("q", 0)
				e.assignService(a, svcA, p.ID)
				if _, err := r.Run(e.ctx, 100); err != nil {
					t.Fatal(err)
				}
				e.assignService(a, svcA, q.ID)
				if side == "engine" {
					engine.FailCallsAfter(step)
				} else {
					e.faults.FailWritesAfter(step)
				}
				_, _ = r.Run(e.ctx, 100) // crashes part-way
				engine.FailCallsAfter(-1)
				e.faults.FailWritesAfter(-1)
				e.consistent(t, engine, tok)
				now = now.Add(plans.DefaultLease + time.Second) // the next minute's run
				if _, err := r.Run(e.ctx, 100); err != nil {
					t.Fatalf("the next run: %v", err)
				}
				want := plans.KeyFor(plans.Assignment{AccountID: a.ID, Service: svcA}, q.ID)
				if got := e.usageKey(tok); got != want {
					t.Fatalf("after the next run a decision returns another key than the new plan's")
				}
				if plan, ok := engine.PlanOfKey(want); !ok || plan != q.ID {
					t.Fatalf("the engine has the key in %q, want %s", plan, q.ID)
				}
				if engine.Keys() != 1 {
					t.Errorf("%d keys in the engine, want the one in use", engine.Keys())
				}
				if left, _ := e.s.PendingMarkers(e.ctx, 100); len(left) != 0 {
					t.Errorf("markers left: %+v", left)
				}
			})
		}
	}
}

// testReconcilersNeverWorkOnOneMarkerAtOnce: a claimed marker is not
// claimed again until its lease lapses, and a newer write's marker is not
// finished by a reconciler that read an older one.
func testReconcilersNeverWorkOnOneMarkerAtOnce(t *testing.T, e *env) {
	a, _ := e.account()
	p, q := e.plan("p", 0), e.plan("q", 0)
	m := e.assignService(a, svcA, p.ID)
	now := e.now
	claimed, err := e.s.ClaimMarker(e.ctx, m, now, now.Add(time.Minute))
	if err != nil || claimed.PlanID != p.ID {
		t.Fatalf("ClaimMarker = %+v, %v", claimed, err)
	}
	if _, err := e.s.ClaimMarker(e.ctx, m, now.Add(time.Second), now.Add(time.Minute)); !errors.Is(err, apperr.ErrStale) {
		t.Fatalf("a second claim within the lease = %v, want ErrStale", err)
	}
	e.assignService(a, svcA, q.ID) // a newer write meanwhile
	if err := e.s.FinishMarker(e.ctx, claimed); err != nil {
		t.Fatal(err)
	}
	pending, err := e.s.PendingMarkers(e.ctx, 10)
	var left []plans.Marker
	for _, m := range pending {
		if m.Kind == plans.MarkService {
			left = append(left, m)
		}
	}
	if err != nil || len(left) != 1 || left[0].PlanID != q.ID || !left[0].LeaseUntil.IsZero() {
		t.Fatalf("after finishing an older claim the markers are %+v, %v; want the newer one, released", left, err)
	}
	if err := e.s.PointAt(e.ctx, claimed, "tkp_stale"); !errors.Is(err, apperr.ErrStale) {
		t.Errorf("PointAt for a plan no longer wanted = %v, want ErrStale", err)
	}
}
