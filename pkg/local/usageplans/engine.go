package usageplans

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/acmedata/tokenservice/pkg/plans"
)

// Verdict is what Take answers for one call.
type Verdict uint8

// Verdicts.
const (
	Allowed       Verdict = iota // served: one token taken, one call counted
	RateLimited                  // the key's bucket is empty: 429 rate_limited
	QuotaExceeded                // the key's quota for the period is spent: 429 quota_exceeded
	UnknownKey                   // no key, or one in no plan: 403, as API Gateway answers
)

func (v Verdict) String() string {
	switch v {
	case Allowed:
		return "allowed"
	case RateLimited:
		return "rate_limited"
	case QuotaExceeded:
		return "quota_exceeded"
	case UnknownKey:
		return "unknown_key"
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// Errors of the control plane.
var (
	// ErrUnknownPlan: PutKey named a plan the engine does not have.
	ErrUnknownPlan = errors.New("usageplans: no such plan")
	// ErrInvalidPlan: PutPlan was given limits no bucket can have.
	ErrInvalidPlan = errors.New("usageplans: invalid plan")
)

// DefaultFlushInterval is how often changed quota counts are written.
const DefaultFlushInterval = time.Second

// Options configure an Engine.
type Options struct {
	// Path is the file that keeps plans, keys and quota counts across
	// restarts; "" keeps them in memory only.
	Path string
	// FlushInterval is how often changed counts are written to Path
	// (DefaultFlushInterval if zero): the most calls a crash can forget.
	FlushInterval time.Duration
	// Logger receives failed background writes (nothing if nil).
	Logger *slog.Logger
}

// Engine is the twin's usage plans. It is safe for concurrent use.
type Engine struct {
	opts Options
	log  *slog.Logger

	// mu serialises the control plane and the file's writes; Take never
	// takes it.
	mu    sync.Mutex
	plans map[string]plans.Plan
	// keys is a copy-on-write snapshot, replaced under mu, read by Take
	// without a lock.
	keys atomic.Pointer[map[string]*key]

	stop    chan struct{}
	flusher sync.WaitGroup
	closed  bool
}

var _ plans.Engine = (*Engine)(nil)

// key is one usage key's budget.
type key struct {
	value, planID string
	// open is set for a plan without rate and quota: Take answers
	// Allowed without the lock.
	open atomic.Bool

	mu      sync.Mutex
	deleted bool
	bucket  *rate.Limiter
	quota   *plans.Quota // nil: no quota
	// last is the latest time Take has seen: the bucket's clock never
	// goes back.
	last time.Time
	// The quota period the count is for, in UnixNano, and the count.
	periodStart, periodEnd int64
	used                   int64
	// What the file holds of the count, to write only what changed.
	savedStart, savedUsed int64
}

// Open returns an Engine with the state kept at opts.Path, if any, and
// starts writing changed counts there every FlushInterval. Close it.
func Open(opts Options) (*Engine, error) {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	e := &Engine{opts: opts, log: opts.Logger, plans: map[string]plans.Plan{}, stop: make(chan struct{})}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	keys := map[string]*key{}
	if opts.Path != "" {
		st, err := load(opts.Path)
		if err != nil {
			return nil, err
		}
		for _, p := range st.plans() {
			if err := validate(p); err != nil {
				return nil, fmt.Errorf("usageplans: %s: plan %s: %w", opts.Path, p.ID, err)
			}
			e.plans[p.ID] = p
		}
		for value, sk := range st.Keys {
			p, ok := e.plans[sk.PlanID]
			if !ok {
				continue // a key whose plan is gone counts nowhere
			}
			k := newKey(value, p)
			if p.Quota != nil && sk.QuotaPeriod == string(p.Quota.Period) && !sk.PeriodStart.IsZero() {
				start := sk.PeriodStart.UTC()
				k.periodStart, k.periodEnd = start.UnixNano(), p.Quota.Period.End(start).UnixNano()
				k.used = sk.Used
			}
			k.savedStart, k.savedUsed = k.periodStart, k.used
			keys[value] = k
		}
		e.flusher.Go(e.flushEvery)
	}
	e.keys.Store(&keys)
	return e, nil
}

func newKey(value string, p plans.Plan) *key {
	k := &key{value: value, planID: p.ID, bucket: rate.NewLimiter(limitOf(p), p.Burst)}
	k.quota = quotaOf(p)
	k.open.Store(p.Rate <= 0 && p.Quota == nil)
	return k
}

func limitOf(p plans.Plan) rate.Limit {
	if p.Rate <= 0 {
		return rate.Inf
	}
	return rate.Limit(p.Rate)
}

func quotaOf(p plans.Plan) *plans.Quota {
	if p.Quota == nil {
		return nil
	}
	q := *p.Quota
	return &q
}

// validate accepts what API Gateway's usage plans can hold: a rate of 0
// (none) or a positive one with a burst of at least one; a quota of a
// known period and a limit of at least zero.
func validate(p plans.Plan) error {
	switch {
	case p.ID == "":
		return fmt.Errorf("%w: no ID", ErrInvalidPlan)
	case p.Rate < 0, p.Rate > 0 && p.Burst < 1:
		return fmt.Errorf("%w: rate %g with burst %d", ErrInvalidPlan, p.Rate, p.Burst)
	case p.Quota != nil && (!p.Quota.Period.Valid() || p.Quota.Limit < 0):
		return fmt.Errorf("%w: quota %d per %q", ErrInvalidPlan, p.Quota.Limit, p.Quota.Period)
	}
	return nil
}

// Take decides one call with key value at now, and counts it if served.
// It never allocates, blocks only on the key's own lock, and touches no
// file.
func (e *Engine) Take(value string, now time.Time) Verdict {
	k := (*e.keys.Load())[value]
	if k == nil {
		return UnknownKey
	}
	if k.open.Load() {
		return Allowed
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.deleted {
		return UnknownKey
	}
	if now.Before(k.last) {
		now = k.last
	} else {
		k.last = now
	}
	if k.quota != nil {
		k.roll(now)
		if k.used >= k.quota.Limit {
			return QuotaExceeded
		}
	}
	if !k.bucket.AllowN(now, 1) {
		return RateLimited
	}
	if k.quota != nil {
		k.used++
	}
	return Allowed
}

// roll starts the quota period holding now if the count's has ended (or
// none was ever started). A time before the count's period (a clock set
// back across a restart) keeps the count. Called with k.mu held.
func (k *key) roll(now time.Time) {
	ns := now.UnixNano()
	if k.periodEnd != 0 && ns < k.periodEnd {
		return
	}
	start := k.quota.Period.Start(now)
	k.periodStart, k.periodEnd = start.UnixNano(), k.quota.Period.End(now).UnixNano()
	k.used = 0
}

// PutPlan creates plan p or changes its limits. Keys of a changed plan keep
// their bucket's tokens and, while the quota's period is the same, their
// count.
func (e *Engine) PutPlan(_ context.Context, p plans.Plan) error {
	if err := validate(p); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old, existed := e.plans[p.ID]
	e.plans[p.ID] = p
	if existed {
		for _, k := range *e.keys.Load() {
			if k.planID == p.ID {
				k.setPlan(old, p)
			}
		}
	}
	return e.saveLocked()
}

// setPlan moves k from plan old's limits to p's.
func (k *key) setPlan(old, p plans.Plan) {
	k.mu.Lock()
	defer k.mu.Unlock()
	// SetLimitAt and SetBurstAt first bring the bucket up to the given
	// time: the latest Take has seen, never later than a future call.
	k.bucket.SetLimitAt(k.last, limitOf(p))
	k.bucket.SetBurstAt(k.last, p.Burst)
	if old.Quota == nil || p.Quota == nil || old.Quota.Period != p.Quota.Period {
		k.periodStart, k.periodEnd, k.used = 0, 0, 0
	}
	k.quota = quotaOf(p)
	k.open.Store(p.Rate <= 0 && p.Quota == nil)
}

// DeletePlan removes plan planID and every key it counts (a key in no plan
// is refused, as on API Gateway).
func (e *Engine) DeletePlan(_ context.Context, planID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.plans[planID]; !ok {
		return nil
	}
	delete(e.plans, planID)
	e.replaceKeys(func(keys map[string]*key) {
		for v, k := range keys {
			if k.planID == planID {
				k.remove()
				delete(keys, v)
			}
		}
	})
	return e.saveLocked()
}

// PutKey makes k.Value a key of plan k.PlanID. A key already in that plan
// keeps its budget; one in another plan starts afresh in the new one.
func (e *Engine) PutKey(_ context.Context, k plans.Key) error {
	if err := plans.CheckKeyValue(k.Value); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.plans[k.PlanID]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownPlan, k.PlanID)
	}
	if cur := (*e.keys.Load())[k.Value]; cur != nil && cur.planID == k.PlanID {
		return nil
	}
	e.replaceKeys(func(keys map[string]*key) {
		if cur := keys[k.Value]; cur != nil {
			cur.remove()
		}
		keys[k.Value] = newKey(k.Value, p)
	})
	return e.saveLocked()
}

// DeleteKey removes key value; nothing if there is none.
func (e *Engine) DeleteKey(_ context.Context, value string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if (*e.keys.Load())[value] == nil {
		return nil
	}
	e.replaceKeys(func(keys map[string]*key) {
		keys[value].remove()
		delete(keys, value)
	})
	return e.saveLocked()
}

// replaceKeys publishes a changed copy of the key set. Called with e.mu
// held.
func (e *Engine) replaceKeys(change func(map[string]*key)) {
	keys := maps.Clone(*e.keys.Load())
	change(keys)
	e.keys.Store(&keys)
}

// remove makes a key that a Take may still hold from an older snapshot
// answer UnknownKey.
func (k *key) remove() {
	k.mu.Lock()
	k.deleted = true
	k.mu.Unlock()
	k.open.Store(false)
}

// QuotaUsage is how many calls key k served in the quota period holding
// now: 0 for a plan without quota, a key the engine does not have (yet),
// or a period with no call.
func (e *Engine) QuotaUsage(_ context.Context, pk plans.Key, now time.Time) (int64, error) {
	k := (*e.keys.Load())[pk.Value]
	if k == nil || k.planID != pk.PlanID {
		return 0, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.quota == nil || k.deleted {
		return 0, nil
	}
	ns := now.UnixNano()
	if ns < k.periodStart || ns >= k.periodEnd {
		return 0, nil
	}
	return k.used, nil
}

// Flush writes the counts that changed since the last write.
func (e *Engine) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.opts.Path == "" || !e.changedLocked() {
		return nil
	}
	return e.saveLocked()
}

// changedLocked reports whether any count differs from the file's.
func (e *Engine) changedLocked() bool {
	for _, k := range *e.keys.Load() {
		k.mu.Lock()
		changed := k.used != k.savedUsed || k.periodStart != k.savedStart
		k.mu.Unlock()
		if changed {
			return true
		}
	}
	return false
}

func (e *Engine) flushEvery() {
	tick := time.NewTicker(e.opts.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-tick.C:
			if err := e.Flush(); err != nil {
				e.log.Warn("usage plans: counts not written; the next flush retries", slog.Any("error", err))
			}
		}
	}
}

// Close stops the background writes and writes the counts a last time.
// Take still answers after Close, but its counts are no longer written.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.stop)
	e.mu.Unlock()
	e.flusher.Wait()
	return e.Flush()
}
