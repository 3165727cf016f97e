package memstore

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

var _ plans.MarkerStore = (*Store)(nil)

// planRec is a stored plan and how many assignments it has.
type planRec struct {
	plans.Plan
	inUse int
}

func copyPlan(p plans.Plan) plans.Plan {
	if p.Quota != nil {
		q := *p.Quota
		p.Quota = &q
	}
	return p
}

func copyMarker(m plans.Marker) plans.Marker {
	m.Retire = slices.Clone(m.Retire)
	return m
}

// mark stores m, merging it into a pending marker of the same plan or
// assignment as the DynamoDB store's update does: the new plan and Seq,
// the union of keys to retire, the lease kept. The caller holds mu.
func (s *Store) mark(m plans.Marker) {
	if old, ok := s.markers[m.Ref()]; ok {
		m.Retire = append(m.Retire, old.Retire...)
		m.LeaseUntil = old.LeaseUntil
	}
	slices.Sort(m.Retire)
	m.Retire = slices.Compact(m.Retire)
	s.markers[m.Ref()] = copyMarker(m)
}

// CreatePlan implements tokens.PlanStore.
func (s *Store) CreatePlan(_ context.Context, p plans.Plan) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.plans[p.ID]; ok {
		return apperr.Conflict("plan_exists", "a plan with this ID exists")
	}
	if err := s.admit(); err != nil {
		return err
	}
	s.plans[p.ID] = planRec{Plan: copyPlan(p)}
	s.mark(plans.Marker{Kind: plans.MarkPlan, PlanID: p.ID, Seq: plans.NewSeq()})
	return nil
}

// GetPlan implements tokens.PlanStore.
func (s *Store) GetPlan(_ context.Context, planID string) (plans.Plan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.plans[planID]
	if !ok {
		return plans.Plan{}, apperr.NotFound("plan")
	}
	return copyPlan(p.Plan), nil
}

// Plan implements plans.MarkerStore.
func (s *Store) Plan(ctx context.Context, planID string) (plans.Plan, error) {
	return s.GetPlan(ctx, planID)
}

// ListPlans implements tokens.PlanStore: newest first.
func (s *Store) ListPlans(_ context.Context, page paging.Request) (paging.Page[plans.Plan], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]plans.Plan, 0, len(s.plans))
	for _, p := range s.plans {
		all = append(all, copyPlan(p.Plan))
	}
	slices.SortFunc(all, func(a, b plans.Plan) int { return cmp.Compare(b.ID, a.ID) })
	return paginate(all, paging.Scope("plans"), true, page, func(p plans.Plan) string { return p.ID })
}

// UpdatePlan implements tokens.PlanStore.
func (s *Store) UpdatePlan(_ context.Context, planID string, change func(*plans.Plan) error) (plans.Plan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.plans[planID]
	if !ok {
		return plans.Plan{}, apperr.NotFound("plan")
	}
	next := copyPlan(stored.Plan)
	if err := change(&next); err != nil {
		return plans.Plan{}, err
	}
	next.ID, next.CreatedAt = stored.ID, stored.CreatedAt
	if err := s.admit(); err != nil {
		return plans.Plan{}, err
	}
	stored.Plan = copyPlan(next)
	s.plans[planID] = stored
	s.mark(plans.Marker{Kind: plans.MarkPlan, PlanID: planID, Seq: plans.NewSeq()})
	return next, nil
}

// DeletePlan implements tokens.PlanStore.
func (s *Store) DeletePlan(_ context.Context, planID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.plans[planID]
	switch {
	case !ok:
		return apperr.NotFound("plan")
	case stored.inUse > 0:
		return tokens.ErrPlanInUse
	}
	if err := s.admit(); err != nil {
		return err
	}
	delete(s.plans, planID)
	s.mark(plans.Marker{Kind: plans.MarkPlan, PlanID: planID, Seq: plans.NewSeq()})
	return nil
}

// PlanInUse reports how many assignments the store counts for planID, for
// tests of the count itself.
func (s *Store) PlanInUse(planID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.plans[planID].inUse
}

// assign moves one assignment from plan prev to plan next in the in-use
// counts, or fails with NotFound if next does not exist. The caller holds
// mu and commits only if it returns nil.
func (s *Store) checkAssignable(next string) error {
	if _, ok := s.plans[next]; next != "" && !ok {
		return apperr.NotFound("plan")
	}
	return nil
}

func (s *Store) moveUse(prev, next string) {
	if prev == next {
		return
	}
	if p, ok := s.plans[prev]; ok {
		p.inUse--
		s.plans[prev] = p
	}
	if p, ok := s.plans[next]; ok {
		p.inUse++
		s.plans[next] = p
	}
}

// AssignServicePlan implements tokens.PlanStore.
func (s *Store) AssignServicePlan(_ context.Context, accountID, service, planID string, e audit.Entry) (tokens.Account, plans.Marker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.accounts[accountID]
	if !ok {
		return tokens.Account{}, plans.Marker{}, apperr.NotFound("account")
	}
	if err := s.checkAssignable(planID); err != nil {
		return tokens.Account{}, plans.Marker{}, err
	}
	if err := s.write(accountID, e); err != nil {
		return tokens.Account{}, plans.Marker{}, err
	}
	prev, usedKey := stored.Plans[service], stored.UsageKeys[service]
	a := copyAccount(stored.Account)
	if a.Plans == nil {
		a.Plans = map[string]string{}
	}
	if planID == "" {
		delete(a.Plans, service)
		delete(a.UsageKeys, service) // unlimited at once
	} else {
		a.Plans[service] = planID
	}
	s.moveUse(prev, planID)
	m := plans.Assigned(plans.Assignment{AccountID: accountID, Service: service}, planID, e.ID, usedKey, prev)
	s.mark(m)
	stored.Account = a
	s.accounts[accountID] = stored
	s.record(e.Diff(tokens.ServicePlanFields(service, prev), tokens.ServicePlanFields(service, planID)))
	return copyAccount(a), copyMarker(m), nil
}

// AssignTokenPlan implements tokens.PlanStore.
func (s *Store) AssignTokenPlan(_ context.Context, accountID, tokenID, planID string, e audit.Entry) (tokens.Token, plans.Marker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || t.AccountID != accountID {
		return tokens.Token{}, plans.Marker{}, apperr.NotFound("token")
	}
	if err := s.checkAssignable(planID); err != nil {
		return tokens.Token{}, plans.Marker{}, err
	}
	if err := s.write(accountID, e); err != nil {
		return tokens.Token{}, plans.Marker{}, err
	}
	prev, usedKey := t.PlanID, t.UsageKey
	t.PlanID = planID
	if planID == "" {
		t.UsageKey = "" // back to the service's plan at once
	}
	s.moveUse(prev, planID)
	m := plans.Assigned(plans.Assignment{AccountID: accountID, TokenID: tokenID}, planID, e.ID, usedKey, prev)
	s.mark(m)
	s.tokens[tokenID] = t
	s.record(e.Diff(tokens.TokenPlanFields(prev), tokens.TokenPlanFields(planID)))
	return copyToken(t), copyMarker(m), nil
}

// tokenMade counts a new token's own plan (a clone keeps its source's)
// and marks it for its key. The caller holds mu.
func (s *Store) tokenMade(t tokens.Token, seq string) {
	if t.PlanID == "" {
		return
	}
	s.moveUse("", t.PlanID)
	s.mark(plans.Assigned(plans.Assignment{AccountID: t.AccountID, TokenID: t.ID}, t.PlanID, seq, "", ""))
}

// tokenGone uncounts a deleted token's own plan and marks its key for
// deletion. The caller holds mu.
func (s *Store) tokenGone(t tokens.Token, seq string) {
	if t.PlanID == "" {
		return
	}
	s.moveUse(t.PlanID, "")
	s.mark(plans.Assigned(plans.Assignment{AccountID: t.AccountID, TokenID: t.ID}, "", seq, t.UsageKey, t.PlanID))
}

// PendingMarkers implements plans.MarkerStore: plan markers first.
func (s *Store) PendingMarkers(_ context.Context, limit int) ([]plans.Marker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	refs := slices.SortedFunc(maps.Keys(s.markers), func(a, b string) int {
		pa, pb := s.markers[a].Kind == plans.MarkPlan, s.markers[b].Kind == plans.MarkPlan
		if pa != pb {
			if pa {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	})
	out := []plans.Marker{}
	for _, r := range refs[:min(limit, len(refs))] {
		out = append(out, copyMarker(s.markers[r]))
	}
	return out, nil
}

// ClaimMarker implements plans.MarkerStore.
func (s *Store) ClaimMarker(_ context.Context, m plans.Marker, now, until time.Time) (plans.Marker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.markers[m.Ref()]
	switch {
	case !ok:
		return plans.Marker{}, apperr.NotFound("marker")
	case stored.LeaseUntil.After(now):
		return plans.Marker{}, apperr.ErrStale
	}
	if err := s.admit(); err != nil {
		return plans.Marker{}, err
	}
	stored.LeaseUntil = until
	s.markers[m.Ref()] = stored
	return copyMarker(stored), nil
}

// PointAt implements plans.MarkerStore.
func (s *Store) PointAt(_ context.Context, m plans.Marker, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := m.Assignment
	if m.Kind == plans.MarkToken {
		t, ok := s.tokens[a.TokenID]
		switch {
		case !ok || t.AccountID != a.AccountID:
			return apperr.NotFound("token")
		case t.PlanID != m.PlanID:
			return apperr.ErrStale
		}
		if err := s.admit(); err != nil {
			return err
		}
		t.UsageKey = key
		s.tokens[a.TokenID] = t
		return nil
	}
	stored, ok := s.accounts[a.AccountID]
	switch {
	case !ok:
		return apperr.NotFound("account")
	case stored.Plans[a.Service] != m.PlanID:
		return apperr.ErrStale
	}
	if err := s.admit(); err != nil {
		return err
	}
	acc := copyAccount(stored.Account)
	if acc.UsageKeys == nil {
		acc.UsageKeys = map[string]string{}
	}
	acc.UsageKeys[a.Service] = key
	stored.Account = acc
	s.accounts[a.AccountID] = stored
	return nil
}

// FinishMarker implements plans.MarkerStore.
func (s *Store) FinishMarker(_ context.Context, m plans.Marker) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.markers[m.Ref()]
	if !ok {
		return nil
	}
	if err := s.admit(); err != nil {
		return err
	}
	if stored.Seq == m.Seq {
		delete(s.markers, m.Ref())
		return nil
	}
	stored.LeaseUntil = time.Time{}
	s.markers[m.Ref()] = stored
	return nil
}

// Markers returns the pending markers, for tests.
func (s *Store) Markers() []plans.Marker {
	out, _ := s.PendingMarkers(context.Background(), 1<<30)
	return out
}
