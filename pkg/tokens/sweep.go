package tokens

import (
	"context"
	"errors"
	"time"
)

// SweepBatch is how many token items one Sweep call may remove: small
// enough that a call is a few transactions, so a run that its deadline
// stops loses little.
const SweepBatch = 100

// RunSweeps is the background half of DeleteUser and of expiry: it runs
// s.Sweep until no deleted user's token items remain, and s.SweepExpired
// until no token whose expiry passed before now is left among the live
// ones, or ctx ends. Nothing waits on either: the tokens stopped when
// their user was deleted or their time passed; this reclaims their items
// (and counts) and keeps listings from reading them. On AWS the sweeper
// function runs it on a schedule, on the local stack a ticker does.
func RunSweeps(ctx context.Context, s Sweeper, now time.Time) error {
	return errors.Join(
		repeat(ctx, func() (bool, error) { return s.Sweep(ctx, SweepBatch) }),
		repeat(ctx, func() (bool, error) { return s.SweepExpired(ctx, now, SweepBatch) }),
	)
}

// repeat calls step until it reports no more work, fails, or ctx ends.
func repeat(ctx context.Context, step func() (bool, error)) error {
	for {
		more, err := step()
		if err != nil || !more {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
