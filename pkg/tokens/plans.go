package tokens

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/plans"
)

// Plans (pkg/plans) are kept by the store beside accounts and tokens: an
// assignment changes the account item (Plans[service]) or the token's
// items (PlanID) in the same transaction as its audit entry, the plans'
// in-use counters and a pending marker, whatever the account holds. The
// engine that enforces plans at the gateway follows through the
// reconciler (plans.Reconciler), inline after each write here and from the
// sweeper every minute. docs/limits.md tells the whole design.

// PlanStore keeps plans and their assignments.
type PlanStore interface {
	// CreatePlan stores a new plan and its marker.
	CreatePlan(ctx context.Context, p plans.Plan) error
	// GetPlan reads a plan; NotFound if there is none.
	GetPlan(ctx context.Context, planID string) (plans.Plan, error)
	// ListPlans lists the deployment's plans, newest first.
	ListPlans(ctx context.Context, page paging.Request) (paging.Page[plans.Plan], error)
	// UpdatePlan applies change to the stored plan (name, rate, burst,
	// quota, UpdatedAt) and saves it with its marker.
	UpdatePlan(ctx context.Context, planID string, change func(*plans.Plan) error) (plans.Plan, error)
	// DeletePlan deletes a plan that nothing is assigned (ErrPlanInUse
	// otherwise), leaving its marker for the engine.
	DeletePlan(ctx context.Context, planID string) error
	// AssignServicePlan makes planID ("" for none) the account's plan for
	// service, in one transaction with e, the plans' in-use counts and
	// the assignment's marker (NotFound "plan" for a plan that does not
	// exist). Taking the plan off clears the service's usage key in the
	// same write. It returns the marker to reconcile.
	AssignServicePlan(ctx context.Context, accountID, service, planID string, e audit.Entry) (Account, plans.Marker, error)
	// AssignTokenPlan is AssignServicePlan for a token's own plan.
	AssignTokenPlan(ctx context.Context, accountID, tokenID, planID string, e audit.Entry) (Token, plans.Marker, error)
}

// ErrPlanInUse refuses the deletion of a plan assigned to something.
var ErrPlanInUse = apperr.Conflict("plan_in_use", "the plan is assigned to an account's service or a token; assign another plan (or none) first")

// PlanInput is a plan to make.
type PlanInput struct {
	Name  string
	Rate  float64
	Burst int
	Quota *plans.Quota // nil: no quota
}

// PlanChange is a partial update of a plan; nil fields are kept, and
// RemoveQuota takes the quota off.
type PlanChange struct {
	Name        *string
	Rate        *float64
	Burst       *int
	Quota       *plans.Quota
	RemoveQuota bool
}

// QuotaUse is how much of its quota an account's service (or a token)
// has used in the current period.
type QuotaUse struct {
	Limit    int64
	Used     int64
	Period   plans.Period
	ResetsAt time.Time
}

func validPlanID(planID string) bool { return id.Valid(plans.IDPrefix, planID) }

// CreatePlan makes a plan (operators only).
func (m *Manager) CreatePlan(ctx context.Context, in PlanInput) (plans.Plan, error) {
	name, err := ValidateName("name", in.Name)
	if err != nil {
		return plans.Plan{}, err
	}
	now := m.clock()
	p := plans.Plan{ID: id.New(plans.IDPrefix), Name: name, Rate: in.Rate, Burst: in.Burst, Quota: in.Quota, CreatedAt: now, UpdatedAt: now}
	if err := plans.Validate(p); err != nil {
		return plans.Plan{}, err
	}
	if err := m.store.CreatePlan(ctx, p); err != nil {
		return plans.Plan{}, fmt.Errorf("create plan: %w", err)
	}
	m.reconcile(ctx, plans.Marker{Kind: plans.MarkPlan, PlanID: p.ID})
	return p, nil
}

// Plan returns a plan.
func (m *Manager) Plan(ctx context.Context, planID string) (plans.Plan, error) {
	if !validPlanID(planID) {
		return plans.Plan{}, apperr.NotFound("plan")
	}
	return m.store.GetPlan(ctx, planID)
}

// Plans lists the deployment's plans, newest first.
func (m *Manager) Plans(ctx context.Context, page paging.Request) (paging.Page[plans.Plan], error) {
	page, err := paging.Validate(page)
	if err != nil {
		return paging.Page[plans.Plan]{}, err
	}
	return m.store.ListPlans(ctx, page)
}

// UpdatePlan changes a plan's name or limits; every assignment of the plan
// follows within 60 s (the engine's plan is changed, its keys stay).
func (m *Manager) UpdatePlan(ctx context.Context, planID string, c PlanChange) (plans.Plan, error) {
	var name string
	if c.Name != nil {
		var err error
		if name, err = ValidateName("name", *c.Name); err != nil {
			return plans.Plan{}, err
		}
	}
	if !validPlanID(planID) {
		return plans.Plan{}, apperr.NotFound("plan")
	}
	now := m.clock()
	p, err := m.store.UpdatePlan(ctx, planID, func(p *plans.Plan) error {
		if c.Name != nil {
			p.Name = name
		}
		if c.Rate != nil {
			p.Rate = *c.Rate
		}
		if c.Burst != nil {
			p.Burst = *c.Burst
		}
		if c.RemoveQuota {
			p.Quota = nil
		} else if c.Quota != nil {
			q := *c.Quota
			p.Quota = &q
		}
		p.UpdatedAt = now
		return plans.Validate(*p)
	})
	if err != nil {
		return plans.Plan{}, fmt.Errorf("update plan: %w", err)
	}
	m.reconcile(ctx, plans.Marker{Kind: plans.MarkPlan, PlanID: p.ID})
	return p, nil
}

// DeletePlan deletes a plan nothing is assigned (409 plan_in_use
// otherwise).
func (m *Manager) DeletePlan(ctx context.Context, planID string) error {
	if !validPlanID(planID) {
		return apperr.NotFound("plan")
	}
	if err := m.store.DeletePlan(ctx, planID); err != nil {
		return fmt.Errorf("delete plan: %w", err)
	}
	m.reconcile(ctx, plans.Marker{Kind: plans.MarkPlan, PlanID: planID})
	return nil
}

// assignable checks a plan ID from a caller's body ("" for none).
func assignable(planID string) error {
	if planID != "" && !validPlanID(planID) {
		return apperr.Invalid("invalid_plan_id", "planId must be a plan's ID or null")
	}
	return nil
}

// SetServicePlan makes planID ("" for none) the plan of every token of
// the account's service that has no plan of its own (operators only): one
// transaction whatever the account holds, audited in the account's log.
// It answers the service as its admins see it.
func (m *Manager) SetServicePlan(ctx context.Context, accountID, service, planID string) (ServiceSummary, error) {
	if err := assignable(planID); err != nil {
		return ServiceSummary{}, err
	}
	if !id.Valid(id.Account, accountID) {
		return ServiceSummary{}, apperr.NotFound("account")
	}
	s, _, err := m.subscribedService(ctx, accountID, service)
	if err != nil {
		return ServiceSummary{}, err
	}
	e, err := m.entry(ctx, accountID, audit.PlanAssign, audit.TargetAccount, accountID)
	if err != nil {
		return ServiceSummary{}, err
	}
	a, marker, err := m.store.AssignServicePlan(ctx, accountID, service, planID, e)
	if err != nil {
		return ServiceSummary{}, fmt.Errorf("assign service plan: %w", err)
	}
	m.reconcile(ctx, marker)
	if a2, err := m.store.GetAccount(ctx, accountID); err == nil {
		a = a2 // with the usage key the reconciler just made
	}
	return m.summarise(ctx, a, s)
}

// SetTokenPlan gives a token a plan of its own ("" for none), which
// overrides its service's (operators only). The token is found by ID alone.
func (m *Manager) SetTokenPlan(ctx context.Context, tokenID, planID string) (TokenView, error) {
	if err := assignable(planID); err != nil {
		return TokenView{}, err
	}
	if !id.Valid(id.Token, tokenID) {
		return TokenView{}, apperr.NotFound("token")
	}
	accountID, err := m.store.TokenAccount(ctx, tokenID)
	if err != nil {
		return TokenView{}, err
	}
	if _, err := m.token(ctx, accountID, tokenID); err != nil {
		return TokenView{}, err
	}
	e, err := m.entry(ctx, accountID, audit.PlanAssign, audit.TargetToken, tokenID)
	if err != nil {
		return TokenView{}, err
	}
	t, marker, err := m.store.AssignTokenPlan(ctx, accountID, tokenID, planID, e)
	if err != nil {
		return TokenView{}, fmt.Errorf("assign token plan: %w", err)
	}
	m.reconcile(ctx, marker)
	a, err := m.store.GetAccount(ctx, accountID)
	if err != nil {
		return TokenView{}, err
	}
	return m.view(ctx, t, a)
}

// inlineReconcile bounds the reconciliation an operator's write waits for.
const inlineReconcile = 10 * time.Second

// reconcile brings the engine to marker at once, best effort: what fails
// here the sweeper finishes within a minute, so the operator's write,
// which has committed, still succeeds.
func (m *Manager) reconcile(ctx context.Context, marker plans.Marker) {
	if m.reconciler == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), inlineReconcile)
	defer cancel()
	if err := m.reconciler.Reconcile(ctx, marker); err != nil {
		m.log.LogAttrs(ctx, slog.LevelWarn, "inline plan reconciliation failed; the sweeper finishes it",
			slog.String("kind", string(marker.Kind)), slog.String("error", err.Error()))
	}
}

// planCache reads each plan once per request.
type planCache map[string]*plans.Plan

// plan returns the plan planID ("" for none: nil). A plan deleted under
// an assignment (which the in-use count prevents) reads as its ID alone.
func (m *Manager) plan(ctx context.Context, cache planCache, planID string) (*plans.Plan, error) {
	if planID == "" {
		return nil, nil
	}
	if p, ok := cache[planID]; ok {
		return p, nil
	}
	p, err := m.store.GetPlan(ctx, planID)
	if errors.Is(err, apperr.ErrNotFound) {
		p, err = plans.Plan{ID: planID}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	cache[planID] = &p
	return &p, nil
}

// quotaUse is the quota use of an assignment of p whose usage key is key
// ("" until the reconciler made it: nothing counted yet).
func (m *Manager) quotaUse(ctx context.Context, p *plans.Plan, key string) (*QuotaUse, error) {
	if p == nil || p.Quota == nil {
		return nil, nil
	}
	now := m.clock()
	q := &QuotaUse{Limit: p.Quota.Limit, Period: p.Quota.Period, ResetsAt: p.Quota.Period.End(now)}
	if key == "" || m.engine == nil {
		return q, nil
	}
	used, err := m.engine.QuotaUsage(ctx, plans.Key{Value: key, PlanID: p.ID}, now)
	if err != nil {
		// The engine's control plane, not the store: a retry may cure it.
		return nil, apperr.Unavailable(fmt.Errorf("quota usage: %w", err))
	}
	q.Used = used
	return q, nil
}

// ServicePlanFields are the recorded fields of an account's plan for a
// service, for the audit entry of an assignment (plan.assign).
func ServicePlanFields(service, planID string) audit.Fields {
	return audit.Fields{"plans." + service: optional(planID)}
}

// TokenPlanFields are the recorded fields of a token's own plan.
func TokenPlanFields(planID string) audit.Fields {
	return audit.Fields{"plan": optional(planID)}
}

// reconcileBatch is how many markers one reconciler run takes on.
const reconcileBatch = 25

// ReconcilePlans brings the engine to every pending change of plans and
// assignments, as the sweeper does every minute (and the local stack's
// sweep loop more often); nothing without an engine. A marker that fails
// stays for the next call.
func (m *Manager) ReconcilePlans(ctx context.Context) error {
	if m.reconciler == nil {
		return nil
	}
	var errs []error
	for range 1000 {
		n, err := m.reconciler.Run(ctx, reconcileBatch)
		if err != nil {
			errs = append(errs, err)
		}
		if n < reconcileBatch || ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}
