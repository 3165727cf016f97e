package tokens

import "context"

// SweepBatch is how many token items one Sweep call may remove: small
// enough that a call is a few transactions, so a run that its deadline
// stops loses little.
const SweepBatch = 100

// SweepDeletedUsers is the background half of DeleteUser: it runs s.Sweep
// until no deleted user's token items remain, or ctx ends. The tokens
// themselves stopped when their user was deleted; this only reclaims their
// items (and their counts). On AWS the sweeper function runs it on a
// schedule, on the local stack a ticker does.
func SweepDeletedUsers(ctx context.Context, s Sweeper) error {
	for {
		more, err := s.Sweep(ctx, SweepBatch)
		if err != nil || !more {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
