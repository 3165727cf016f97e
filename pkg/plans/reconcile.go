package plans

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/id"
)

// The store and the engine cannot change in one transaction. So every
// write that the engine must follow (a plan made, changed or deleted; a
// plan assigned to an account's service or to a token, or taken off it)
// leaves a pending Marker in the same transaction as the change, and the
// Reconciler brings the engine to what the store says, marker by marker:
//
//  1. claim the marker (a lease: two reconcilers never work on one at once);
//  2. PutPlan, and for an assignment PutKey of its key (KeyFor) in its plan;
//  3. point the assignment at the key, while it still wants that plan;
//  4. DeleteKey of the keys the assignment used before (Marker.Retire);
//  5. finish the marker: delete it unless a newer write rewrote it
//     meanwhile (then only release the lease, and the next run carries on).
//
// Every step is idempotent, so a crash anywhere leaves a marker that the
// next run (the sweeper's, every minute) finishes. Work is O(markers),
// never O(tokens). docs/limits.md tells what each crash leaves.

// MarkerKind says what a marker asks the engine to follow.
type MarkerKind string

// Marker kinds.
const (
	MarkPlan    MarkerKind = "plan"    // a plan made, changed or deleted
	MarkService MarkerKind = "service" // an account's plan for a service
	MarkToken   MarkerKind = "token"   // a token's own plan
)

// Marker is a pending reconciliation. Its identity is Kind with PlanID (a
// plan marker) or with Assignment (an assignment marker): a later write of
// the same thing rewrites the marker, with a new Seq.
type Marker struct {
	Kind MarkerKind
	// PlanID is the plan of a plan marker, or the plan an assignment wants
	// ("" for none).
	PlanID     string
	Assignment Assignment
	// Seq names the write that left the marker as it is.
	Seq string
	// Retire are usage keys the assignment used, or may have had made,
	// before: deleted from the engine once it is on its own key.
	Retire []string
	// LeaseUntil is when a reconciler's claim lapses (zero: unclaimed).
	LeaseUntil time.Time
}

// MarkerStore is what the Reconciler needs of the store.
type MarkerStore interface {
	// PendingMarkers lists up to limit markers, plan markers first.
	PendingMarkers(ctx context.Context, limit int) ([]Marker, error)
	// ClaimMarker leases the marker with m's identity until until, if no
	// lease holds at now, and returns it as stored; ErrStale if another
	// reconciler holds it, NotFound if there is none.
	ClaimMarker(ctx context.Context, m Marker, now, until time.Time) (Marker, error)
	// Plan reads a plan; NotFound if there is none.
	Plan(ctx context.Context, planID string) (Plan, error)
	// PointAt makes key the usage key of m's assignment, on condition that
	// it still wants m.PlanID: ErrStale (or NotFound, for a token deleted
	// meanwhile) if not.
	PointAt(ctx context.Context, m Marker, key string) error
	// FinishMarker deletes the marker if it still has m.Seq, and else
	// releases m's lease for the next run.
	FinishMarker(ctx context.Context, m Marker) error
}

// ReconcilerOptions configure a Reconciler.
type ReconcilerOptions struct {
	Logger *slog.Logger
	Now    func() time.Time // time.Now if nil
	// Lease is how long a claim holds (DefaultLease if zero); it must
	// exceed the time a reconciliation of one marker takes.
	Lease time.Duration
}

// DefaultLease is a claim's length: far longer than the few engine calls
// of one marker, far shorter than the 60 s a change may take.
const DefaultLease = 30 * time.Second

// Reconciler brings the engine to what the store says.
type Reconciler struct {
	store  MarkerStore
	engine Engine
	log    *slog.Logger
	now    func() time.Time
	lease  time.Duration
}

// NewReconciler returns a Reconciler of store's markers into engine.
func NewReconciler(store MarkerStore, engine Engine, o ReconcilerOptions) (*Reconciler, error) {
	if store == nil || engine == nil {
		return nil, errors.New("plans: a reconciler needs a store and an engine")
	}
	r := &Reconciler{store: store, engine: engine, log: o.Logger, now: o.Now, lease: o.Lease}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.lease <= 0 {
		r.lease = DefaultLease
	}
	return r, nil
}

// Reconcile brings the engine to the marker with m's identity, if it is
// still pending and nobody else holds it: the inline run after an
// operator's write. A marker gone or claimed is not an error.
func (r *Reconciler) Reconcile(ctx context.Context, m Marker) error {
	_, err := r.reconcile(ctx, m)
	return err
}

// reconcile is Reconcile, reporting whether it did the marker's work.
func (r *Reconciler) reconcile(ctx context.Context, m Marker) (bool, error) {
	now := r.now()
	claimed, err := r.store.ClaimMarker(ctx, m, now, now.Add(r.lease))
	switch {
	case errors.Is(err, apperr.ErrNotFound), errors.Is(err, apperr.ErrStale):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("claim marker: %w", err)
	}
	return true, r.apply(ctx, claimed)
}

// Run reconciles up to limit pending markers and reports how many it
// finished (not those another reconciler holds); a marker that fails is left for the next run, and the others
// are still tried. The sweeper calls it every minute, the local stack's
// sweep loop more often.
func (r *Reconciler) Run(ctx context.Context, limit int) (int, error) {
	pending, err := r.store.PendingMarkers(ctx, limit)
	if err != nil {
		return 0, fmt.Errorf("pending markers: %w", err)
	}
	var errs []error
	done := 0
	for _, m := range pending {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		did, err := r.reconcile(ctx, m)
		if err != nil {
			r.log.LogAttrs(ctx, slog.LevelWarn, "plan reconciliation failed; the next run retries",
				slog.String("kind", string(m.Kind)), slog.String("planId", m.PlanID), slog.String("error", err.Error()))
			errs = append(errs, err)
			continue
		}
		if did {
			done++
		}
	}
	return done, errors.Join(errs...)
}

// apply does the engine's part of a claimed marker, then finishes it. On
// an error the marker stays claimed until its lease lapses: the next run
// after that retries it.
func (r *Reconciler) apply(ctx context.Context, m Marker) error {
	switch m.Kind {
	case MarkPlan:
		p, err := r.store.Plan(ctx, m.PlanID)
		switch {
		case errors.Is(err, apperr.ErrNotFound):
			if err := r.engine.DeletePlan(ctx, m.PlanID); err != nil {
				return fmt.Errorf("engine: delete plan: %w", err)
			}
		case err != nil:
			return err
		default:
			if err := r.engine.PutPlan(ctx, p); err != nil {
				return fmt.Errorf("engine: put plan: %w", err)
			}
		}
	case MarkService, MarkToken:
		var key string
		if m.PlanID != "" {
			p, err := r.store.Plan(ctx, m.PlanID)
			if err != nil {
				return fmt.Errorf("plan of an assignment: %w", err)
			}
			if err := r.engine.PutPlan(ctx, p); err != nil {
				return fmt.Errorf("engine: put plan: %w", err)
			}
			key = KeyFor(m.Assignment, m.PlanID)
			if err := r.engine.PutKey(ctx, Key{Value: key, PlanID: m.PlanID}); err != nil {
				return fmt.Errorf("engine: put key: %w", err)
			}
			err = r.store.PointAt(ctx, m, key)
			if errors.Is(err, apperr.ErrStale) || errors.Is(err, apperr.ErrNotFound) {
				// A newer write wants something else (and left its own
				// marker, with these keys to retire): nothing of ours
				// may be deleted now.
				return r.store.FinishMarker(ctx, m)
			}
			if err != nil {
				return fmt.Errorf("point at key: %w", err)
			}
		}
		for _, old := range slices.Compact(slices.Sorted(slices.Values(m.Retire))) {
			if old == key || old == "" {
				continue
			}
			if err := r.engine.DeleteKey(ctx, old); err != nil {
				return fmt.Errorf("engine: delete key: %w", err)
			}
		}
	default:
		return fmt.Errorf("plans: unknown marker kind %q", m.Kind)
	}
	return r.store.FinishMarker(ctx, m)
}

// Ref is the marker's identity, the same for every write of the same plan
// or assignment: "plan/<planId>", "service/<accountId>/<service>",
// "token/<accountId>/<tokenId>".
func (m Marker) Ref() string {
	switch m.Kind {
	case MarkPlan:
		return "plan/" + m.PlanID
	case MarkToken:
		return "token/" + m.Assignment.AccountID + "/" + m.Assignment.TokenID
	}
	return "service/" + m.Assignment.AccountID + "/" + m.Assignment.Service
}

// Assigned returns the marker of an assignment that now wants planID ("":
// none) and whose earlier keys (the current usage key, and the key of the
// plan it wanted before, made or not) are to be retired.
func Assigned(a Assignment, planID, seq, usedKey, wantedBefore string) Marker {
	kind := MarkService
	if a.TokenID != "" {
		kind = MarkToken
	}
	m := Marker{Kind: kind, PlanID: planID, Assignment: a, Seq: seq}
	if usedKey != "" {
		m.Retire = append(m.Retire, usedKey)
	}
	if wantedBefore != "" {
		if k := KeyFor(a, wantedBefore); k != usedKey {
			m.Retire = append(m.Retire, k)
		}
	}
	return m
}

// NewSeq names a write of a marker that no audit entry names (a plan's).
func NewSeq() string { return id.New("mrk_") }
