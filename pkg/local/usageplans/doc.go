// Package usageplans is the local gateway twin's copy of API Gateway's usage
// plans: the limiter engine (plans.Engine) of the local stack, and the check
// the local gateway makes on every call a method with a required API key
// receives (Engine.Take).
//
// # What it does, as API Gateway does
//
// A plan has a rate (requests per second) with a burst, and optionally a
// quota per UTC day, week (from Monday) or month. Every key counted by a plan
// has a budget of its own: a token bucket of the plan's burst, refilled at
// the plan's rate, and a count of the calls served in the current quota
// period. Take answers, for one call with a key:
//
//   - UnknownKey: no such key, or none given. API Gateway answers 403 for a
//     call without a key in a usage plan on a method that requires one; the
//     local gateway does the same, so a local test catches a missing key.
//   - QuotaExceeded: the key's quota for the period is spent (429
//     quota_exceeded until the period ends).
//   - RateLimited: the bucket is empty (429 rate_limited).
//   - Allowed: the call takes one token from the bucket and counts one
//     against the quota.
//
// A refused call takes nothing: a rate_limited call does not count against
// the quota and a quota_exceeded call leaves the bucket alone. A plan with
// no rate (Rate 0, the deployment's unlimited plan) never throttles, and
// without a quota never counts; its keys answer Allowed without a lock.
//
// # Precision
//
// The bucket is golang.org/x/time/rate's Limiter, a well-kept token bucket
// (the Go team's, used across the ecosystem) with exactly API Gateway's
// model: a rate in events per second and a burst that bounds the bucket. It
// takes an explicit time (AllowN), which gives the twin an injected clock:
// the gateway passes the time it received the call, tests and the benchmark
// a fake one. Its arithmetic is float64 tokens over time.Duration, so over
// any interval a key is served at most burst + rate × elapsed calls, give or
// take rate × 1 ns per call of rounding; `make bench` (scripts/limitbench)
// drives 10,000 calls/s for 60 simulated seconds and prints how close. The
// limiter lets an earlier time move its clock backwards (re-crediting the
// interval); Take never passes it a time before the latest it has seen for
// the key, so concurrent callers with slightly out-of-order clocks cannot
// earn tokens twice.
//
// The quota is an integer count under the key's lock, checked and
// incremented with the bucket in one critical section: concurrent calls
// never serve one past the limit. Periods begin on UTC boundaries
// (plans.Period): midnight, Monday, the first of the month.
//
// # What persists and what a crash loses
//
// With Options.Path set, the plans, the keys and each key's count for its
// current period are kept in one JSON file (the local stack's is
// .local/usageplans.json). Every control-plane change (PutPlan, DeletePlan,
// PutKey, DeleteKey) is written before it returns; counts are written every
// Options.FlushInterval (1 s by default) when they changed, and on Close. A
// restart therefore keeps every quota; a crash (SIGKILL, power loss) loses
// at most the counts of the last flush interval, so a key may serve up to
// that interval's calls again past its quota. Buckets are not kept: a
// restart starts every key with a full bucket, at most burst calls more
// than an uninterrupted run would serve. The file is replaced atomically
// (written beside, synced, renamed), so a crash mid-write leaves the
// previous version whole.
//
// # Cost
//
// Take is one lock-free map read (the key set is a copy-on-write snapshot),
// then the key's mutex: no allocation, no I/O, no store. Keys of different
// plans never contend.
package usageplans
