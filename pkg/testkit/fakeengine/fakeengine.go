// Package fakeengine is an in-memory plans.Engine for tests of the store
// and the reconciler: it keeps plans and keys as API Gateway's usage plans
// would, refuses what API Gateway would (a key in a plan that does not
// exist, a key moved to another plan), counts its calls and fails them on
// demand, as a control plane that is down or a reconciler that crashed
// between two calls would leave things. The gateway twin (pkg/local) is
// the engine that enforces; this one only remembers.
package fakeengine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/acmedata/tokenservice/pkg/plans"
)

// Engine is the fake. Its zero value is not ready: use New.
type Engine struct {
	mu        sync.Mutex
	plans     map[string]plans.Plan
	keys      map[string]string // key value -> plan ID
	used      map[string]int64  // key value -> quota use
	calls     int
	failAfter int
}

var _ plans.Engine = (*Engine)(nil)

// ErrDown is the failure of a call after FailCallsAfter ran out.
var ErrDown = errors.New("fakeengine: control plane unavailable")

// New returns an empty engine.
func New() *Engine {
	return &Engine{plans: map[string]plans.Plan{}, keys: map[string]string{}, used: map[string]int64{}, failAfter: -1}
}

// FailCallsAfter lets the next n calls through and fails every later one
// with ErrDown; a negative n lets all through again.
func (e *Engine) FailCallsAfter(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failAfter = n
}

// Calls is how many calls the engine has served.
func (e *Engine) Calls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls
}

// call admits one call, or fails it; the caller holds mu.
func (e *Engine) call() error {
	if e.failAfter == 0 {
		return ErrDown
	}
	if e.failAfter > 0 {
		e.failAfter--
	}
	e.calls++
	return nil
}

// PlanOfKey reports the plan the key value counts in, if it exists.
func (e *Engine) PlanOfKey(value string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.keys[value]
	return p, ok
}

// Keys is how many keys exist.
func (e *Engine) Keys() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.keys)
}

// Plan returns the engine's copy of a plan.
func (e *Engine) Plan(planID string) (plans.Plan, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.plans[planID]
	return p, ok
}

// SetUsed sets the quota use the engine reports for a key.
func (e *Engine) SetUsed(value string, n int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.used[value] = n
}

// PutPlan implements plans.Engine.
func (e *Engine) PutPlan(_ context.Context, p plans.Plan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.call(); err != nil {
		return err
	}
	if p.Quota != nil {
		q := *p.Quota
		p.Quota = &q
	}
	e.plans[p.ID] = p
	return nil
}

// DeletePlan implements plans.Engine; like API Gateway it refuses to
// delete a plan that still has keys.
func (e *Engine) DeletePlan(_ context.Context, planID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.call(); err != nil {
		return err
	}
	for _, p := range e.keys {
		if p == planID {
			return fmt.Errorf("fakeengine: plan %s still has keys", planID)
		}
	}
	delete(e.plans, planID)
	return nil
}

// PutKey implements plans.Engine.
func (e *Engine) PutKey(_ context.Context, k plans.Key) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.call(); err != nil {
		return err
	}
	if _, ok := e.plans[k.PlanID]; !ok {
		return fmt.Errorf("fakeengine: no plan %s for a key", k.PlanID)
	}
	if p, ok := e.keys[k.Value]; ok && p != k.PlanID {
		return fmt.Errorf("fakeengine: a key may not move from plan %s to %s", p, k.PlanID)
	}
	e.keys[k.Value] = k.PlanID
	return nil
}

// DeleteKey implements plans.Engine.
func (e *Engine) DeleteKey(_ context.Context, value string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.call(); err != nil {
		return err
	}
	delete(e.keys, value)
	delete(e.used, value)
	return nil
}

// QuotaUsage implements plans.Engine.
func (e *Engine) QuotaUsage(_ context.Context, k plans.Key, _ time.Time) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.call(); err != nil {
		return 0, err
	}
	if e.keys[k.Value] != k.PlanID {
		return 0, fmt.Errorf("fakeengine: no key in plan %s", k.PlanID)
	}
	return e.used[k.Value], nil
}
