package usageplans

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/plans"
)

// t0 is a Sunday afternoon, UTC.
var t0 = time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// newEngine opens an engine kept at path ("" for memory only), closed
// when the test ends.
func newEngine(t *testing.T, path string) *Engine {
	t.Helper()
	e, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return e
}

// withKey puts plan p and one key in it, and returns the key.
func withKey(t *testing.T, e *Engine, p plans.Plan) plans.Key {
	t.Helper()
	if err := e.PutPlan(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	k := plans.Key{Value: "usageKeyOfThePlanNamed" + p.ID, PlanID: p.ID}
	if err := e.PutKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	return k
}

func quota(limit int64, period plans.Period) *plans.Quota {
	return &plans.Quota{Limit: limit, Period: period}
}

// served counts the Allowed verdicts of n calls, one every step from start.
func served(e *Engine, key string, start time.Time, step time.Duration, n int) (allowed int, last time.Time) {
	now := start
	for i := range n {
		now = start.Add(time.Duration(i) * step)
		if e.Take(key, now) == Allowed {
			allowed++
		}
	}
	return allowed, now
}

func TestABucketServesAtMostBurstPlusRateTimesElapsed(t *testing.T) {
	cases := []struct {
		rate  float64
		burst int
		step  time.Duration // between calls
		n     int
	}{
		{0.1, 1, 100 * time.Millisecond, 6000},
		{1, 1, 10 * time.Millisecond, 10_000},
		{10, 20, time.Millisecond, 30_000},
		{100, 200, 100 * time.Microsecond, 100_000},
		{333.3, 7, 37 * time.Microsecond, 100_000},
		{5000, 5000, 50 * time.Microsecond, 100_000},
		{10_000, 1, 10 * time.Microsecond, 100_000},
	}
	for _, tc := range cases {
		e := newEngine(t, "")
		k := withKey(t, e, plans.Plan{ID: "p", Rate: tc.rate, Burst: tc.burst})
		got, last := served(e, k.Value, t0, tc.step, tc.n)
		bound := float64(tc.burst) + tc.rate*last.Sub(t0).Seconds()
		// Never more than the bound; and at most one call short of it
		// (the one whose token is still filling at the end).
		if float64(got) > bound+1e-6 || float64(got) < math.Floor(bound)-1 {
			t.Errorf("rate %g burst %d, a call every %s for %s: served %d, want <= %.4f and >= %.0f",
				tc.rate, tc.burst, tc.step, last.Sub(t0), got, bound, math.Floor(bound)-1)
		}
	}
}

func TestABurstIsServedAtOnceThenOneCallPerRateInterval(t *testing.T) {
	e := newEngine(t, "")
	k := withKey(t, e, plans.Plan{ID: "p", Rate: 2, Burst: 3})
	for i := range 3 {
		if v := e.Take(k.Value, t0); v != Allowed {
			t.Fatalf("call %d of the burst: %s", i+1, v)
		}
	}
	if v := e.Take(k.Value, t0); v != RateLimited {
		t.Fatalf("call past the burst: %s, want rate_limited", v)
	}
	if v := e.Take(k.Value, t0.Add(499*time.Millisecond)); v != RateLimited {
		t.Fatalf("before a token refilled (2/s): %s, want rate_limited", v)
	}
	if v := e.Take(k.Value, t0.Add(500*time.Millisecond)); v != Allowed {
		t.Fatalf("once a token refilled: %s, want allowed", v)
	}
}

func TestAClockGoingBackEarnsNoTokens(t *testing.T) {
	e := newEngine(t, "")
	k := withKey(t, e, plans.Plan{ID: "p", Rate: 1, Burst: 1})
	// Concurrent callers hand Take times slightly out of order; the
	// bucket must not credit the same interval twice.
	times := []time.Duration{0, 1000, 500, 1000, 1500, 2000, 1200, 2000}
	got := 0
	for _, ms := range times {
		if e.Take(k.Value, t0.Add(ms*time.Millisecond)) == Allowed {
			got++
		}
	}
	if want := 3; got != want { // burst 1 + 1/s over 2 s
		t.Errorf("served %d over 2 s at 1/s with burst 1, want %d", got, want)
	}
}

func TestAQuotaStopsAtExactlyItsLimit(t *testing.T) {
	e := newEngine(t, "")
	k := withKey(t, e, plans.Plan{ID: "p", Rate: 10_000, Burst: 5000, Quota: quota(1000, plans.Day)})
	got, _ := served(e, k.Value, t0, 0, 1500)
	if got != 1000 {
		t.Fatalf("served %d, want exactly the quota's 1000", got)
	}
	if v := e.Take(k.Value, t0.Add(time.Hour)); v != QuotaExceeded {
		t.Errorf("later the same day: %s, want quota_exceeded", v)
	}
	if n, err := e.QuotaUsage(t.Context(), k, t0); err != nil || n != 1000 {
		t.Errorf("QuotaUsage = %d, %v; want 1000", n, err)
	}
}

func TestQuotasStartAgainOnUTCBoundaries(t *testing.T) {
	cases := []struct {
		period      plans.Period
		spent, same string // spent the quota at; still the same period at
		next        string // the next period's first instant
	}{
		{plans.Day, "2026-12-06T00:00:00Z", "2026-12-06T23:59:59.999999999Z", "2026-12-07T00:00:00Z"},
		{plans.Day, "2026-12-06T22:30:00-02:00", "2026-12-07T23:59:59Z", "2026-12-08T00:00:00Z"}, // UTC's day, not the caller's
		{plans.Week, "2026-12-07T00:00:00Z", "2026-12-13T23:59:59.999Z", "2026-12-14T00:00:00Z"}, // Monday to Sunday
		{plans.Week, "2026-12-06T12:00:00Z", "2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z"},     // a Sunday: the week began Monday
		{plans.Month, "2026-12-01T00:00:00Z", "2026-12-31T23:59:59.999Z", "2027-01-01T00:00:00Z"},
		{plans.Month, "2028-02-15T00:00:00Z", "2028-02-29T23:00:00Z", "2028-03-01T00:00:00Z"}, // a leap February
	}
	for _, tc := range cases {
		e := newEngine(t, "")
		k := withKey(t, e, plans.Plan{ID: "p", Rate: 1000, Burst: 1000, Quota: quota(3, tc.period)})
		spent := at(t, tc.spent)
		for range 3 {
			if v := e.Take(k.Value, spent); v != Allowed {
				t.Fatalf("%s quota: %s within the quota", tc.period, v)
			}
		}
		// A time before the first call of the period (the clock set back)
		// keeps the count too.
		if v := e.Take(k.Value, at(t, tc.same)); v != QuotaExceeded {
			t.Errorf("%s quota spent at %s: at %s %s, want quota_exceeded", tc.period, tc.spent, tc.same, v)
		}
		next := at(t, tc.next)
		if v := e.Take(k.Value, next); v != Allowed {
			t.Errorf("%s quota spent at %s: at %s %s, want allowed (a new period)", tc.period, tc.spent, tc.next, v)
		}
		if n, _ := e.QuotaUsage(t.Context(), k, next); n != 1 {
			t.Errorf("%s quota: %d used in the new period, want 1", tc.period, n)
		}
		if n, _ := e.QuotaUsage(t.Context(), k, spent); n != 0 {
			t.Errorf("%s quota: the past period reads %d, want 0 (only the current one is kept)", tc.period, n)
		}
	}
}

func TestARefusedCallTakesNothing(t *testing.T) {
	e := newEngine(t, "")
	k := withKey(t, e, plans.Plan{ID: "p", Rate: 1, Burst: 2, Quota: quota(3, plans.Day)})
	verdicts := []Verdict{
		e.Take(k.Value, t0), e.Take(k.Value, t0), e.Take(k.Value, t0), // the third is over the burst
	}
	if verdicts[2] != RateLimited {
		t.Fatalf("verdicts %v, want the third rate_limited", verdicts)
	}
	if n, _ := e.QuotaUsage(t.Context(), k, t0); n != 2 {
		t.Fatalf("a rate_limited call counted against the quota: used %d, want 2", n)
	}
	if v := e.Take(k.Value, t0.Add(time.Second)); v != Allowed {
		t.Fatalf("third call within the quota: %s", v)
	}
	// Quota spent, bucket refilled to 2: refusals leave the bucket full.
	for range 5 {
		if v := e.Take(k.Value, t0.Add(3*time.Second)); v != QuotaExceeded {
			t.Fatalf("over the quota: %s", v)
		}
	}
	if err := e.PutPlan(t.Context(), plans.Plan{ID: "p", Rate: 1, Burst: 2, Quota: quota(100, plans.Day)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := served(e, k.Value, t0.Add(3*time.Second), 0, 5); got != 2 {
		t.Errorf("after the quota was raised, served %d at once, want the full burst of 2", got)
	}
}

func TestUnknownDeletedAndPlanlessKeysAreRefused(t *testing.T) {
	ctx := t.Context()
	e := newEngine(t, "")
	k := withKey(t, e, plans.Plan{ID: "p", Rate: 5, Burst: 5})
	for _, v := range []string{"", "never-made"} {
		if got := e.Take(v, t0); got != UnknownKey {
			t.Errorf("key %q: %s, want unknown_key", v, got)
		}
	}
	if err := e.DeleteKey(ctx, k.Value); err != nil {
		t.Fatal(err)
	}
	if got := e.Take(k.Value, t0); got != UnknownKey {
		t.Errorf("deleted key: %s, want unknown_key", got)
	}
	if err := e.DeleteKey(ctx, k.Value); err != nil {
		t.Errorf("deleting a key twice: %v, want nothing", err)
	}
	k = withKey(t, e, plans.Plan{ID: "q", Rate: 5, Burst: 5})
	if err := e.DeletePlan(ctx, "q"); err != nil {
		t.Fatal(err)
	}
	if got := e.Take(k.Value, t0); got != UnknownKey {
		t.Errorf("key of a deleted plan: %s, want unknown_key", got)
	}
	if err := e.DeletePlan(ctx, "q"); err != nil {
		t.Errorf("deleting a plan twice: %v, want nothing", err)
	}
	if err := e.PutKey(ctx, plans.Key{Value: "usageKeyOfAnUnknownPlan", PlanID: "q"}); !errors.Is(err, ErrUnknownPlan) {
		t.Errorf("PutKey in a missing plan: %v, want ErrUnknownPlan", err)
	}
}

func TestPutKeyIsIdempotentAndAKeyMovedToAnotherPlanStartsAfresh(t *testing.T) {
	ctx := t.Context()
	e := newEngine(t, "")
	k := withKey(t, e, plans.Plan{ID: "p", Rate: 100, Burst: 100, Quota: quota(10, plans.Month)})
	served(e, k.Value, t0, 0, 4)
	if err := e.PutKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.QuotaUsage(ctx, k, t0); n != 4 {
		t.Errorf("PutKey again in the same plan reset the count to %d, want 4", n)
	}
	if err := e.PutPlan(ctx, plans.Plan{ID: "r", Rate: 100, Burst: 100, Quota: quota(10, plans.Month)}); err != nil {
		t.Fatal(err)
	}
	moved := plans.Key{Value: k.Value, PlanID: "r"}
	if err := e.PutKey(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.QuotaUsage(ctx, moved, t0); n != 0 {
		t.Errorf("a key put in another plan counts %d, want 0", n)
	}
	if n, _ := e.QuotaUsage(ctx, k, t0); n != 0 {
		t.Errorf("the key read under its old plan counts %d, want 0", n)
	}
}

func TestAChangedPlanAppliesToItsKeysAtOnce(t *testing.T) {
	ctx := t.Context()
	e := newEngine(t, "")
	k := withKey(t, e, plans.Plan{ID: "p", Rate: 1, Burst: 1, Quota: quota(2, plans.Day)})
	served(e, k.Value, t0, time.Second, 2)
	if v := e.Take(k.Value, t0.Add(10*time.Second)); v != QuotaExceeded {
		t.Fatalf("%s, want quota_exceeded", v)
	}
	// Rate and quota raised, same period: the count stays, the new limits
	// hold from now.
	if err := e.PutPlan(ctx, plans.Plan{ID: "p", Rate: 1000, Burst: 10, Quota: quota(12, plans.Day)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := served(e, k.Value, t0.Add(20*time.Second), time.Microsecond, 100); got != 10 {
		t.Errorf("after raising the quota to 12 with 2 used: served %d, want 10", got)
	}
	// The period changed: a new count.
	if err := e.PutPlan(ctx, plans.Plan{ID: "p", Rate: 1000, Burst: 10, Quota: quota(3, plans.Week)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := served(e, k.Value, t0.Add(time.Minute), time.Millisecond, 100); got != 3 {
		t.Errorf("after changing the period to a week: served %d, want 3", got)
	}
	// No quota, no rate: never refused.
	if err := e.PutPlan(ctx, plans.Plan{ID: "p"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := served(e, k.Value, t0.Add(2*time.Minute), 0, 10_000); got != 10_000 {
		t.Errorf("a plan without limits served %d of 10000", got)
	}
}

func TestAnUnlimitedPlanNeverRefuses(t *testing.T) {
	e := newEngine(t, "")
	k := withKey(t, e, plans.Plan{ID: "unlimited"})
	if got, _ := served(e, k.Value, t0, 0, 100_000); got != 100_000 {
		t.Errorf("served %d of 100000 at one instant", got)
	}
	if n, _ := e.QuotaUsage(t.Context(), k, t0); n != 0 {
		t.Errorf("QuotaUsage of a plan without quota: %d, want 0", n)
	}
}

func TestInvalidPlansAreRefused(t *testing.T) {
	e := newEngine(t, "")
	for _, p := range []plans.Plan{
		{ID: "", Rate: 1, Burst: 1},
		{ID: "p", Rate: -1, Burst: 1},
		{ID: "p", Rate: 1, Burst: 0},
		{ID: "p", Rate: 1, Burst: 1, Quota: quota(10, "year")},
		{ID: "p", Rate: 1, Burst: 1, Quota: quota(-1, plans.Day)},
	} {
		if err := e.PutPlan(t.Context(), p); !errors.Is(err, ErrInvalidPlan) {
			t.Errorf("PutPlan(%+v) = %v, want ErrInvalidPlan", p, err)
		}
	}
}

func TestARestartKeepsPlansKeysAndQuotaCounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usageplans.json")
	ctx := t.Context()
	e, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	k := withKey(t, e, plans.Plan{ID: "p", Name: "Basic", Rate: 100, Burst: 100, Quota: quota(10, plans.Week)})
	open := withKey(t, e, plans.Plan{ID: "unlimited"})
	if got, _ := served(e, k.Value, t0, time.Second, 7); got != 7 {
		t.Fatalf("served %d of 7", got)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e = newEngine(t, path)
	if n, err := e.QuotaUsage(ctx, k, t0); err != nil || n != 7 {
		t.Fatalf("after a restart QuotaUsage = %d, %v; want 7", n, err)
	}
	if got, _ := served(e, k.Value, t0.Add(time.Hour), time.Second, 10); got != 3 {
		t.Errorf("after a restart served %d more, want the 3 left of the quota", got)
	}
	if v := e.Take(open.Value, t0); v != Allowed {
		t.Errorf("the unlimited key after a restart: %s", v)
	}
	if v := e.Take("never-made", t0); v != UnknownKey {
		t.Errorf("an unknown key after a restart: %s", v)
	}
}

func TestACrashLosesAtMostTheCountsSinceTheLastFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usageplans.json")
	e := newEngine(t, path)
	k := withKey(t, e, plans.Plan{ID: "p", Rate: 1000, Burst: 1000, Quota: quota(100, plans.Day)})
	served(e, k.Value, t0, 0, 40)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	served(e, k.Value, t0, 0, 5)
	// The process dies here: another engine reads the file as it is.
	after := newEngine(t, path)
	if n, _ := after.QuotaUsage(t.Context(), k, t0); n != 40 {
		t.Errorf("after a crash the count is %d, want the 40 of the last flush", n)
	}
}

func TestControlPlaneChangesAreWrittenBeforeTheyReturn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usageplans.json")
	ctx := t.Context()
	e := newEngine(t, path)
	k := withKey(t, e, plans.Plan{ID: "p", Rate: 1, Burst: 1})
	gone := withKey(t, e, plans.Plan{ID: "q", Rate: 1, Burst: 1})
	if err := e.DeleteKey(ctx, gone.Value); err != nil {
		t.Fatal(err)
	}
	// Read by another engine without a Close or Flush of the first.
	after := newEngine(t, path)
	if v := after.Take(k.Value, t0); v != Allowed {
		t.Errorf("a key put before the crash: %s, want allowed", v)
	}
	if v := after.Take(gone.Value, t0); v != UnknownKey {
		t.Errorf("a key deleted before the crash: %s, want unknown_key", v)
	}
}

func TestConcurrentCallsNeverServePastTheBurstOrTheQuota(t *testing.T) {
	e := newEngine(t, filepath.Join(t.TempDir(), "usageplans.json"))
	bucket := withKey(t, e, plans.Plan{ID: "bucket", Rate: 1, Burst: 500})
	quota := withKey(t, e, plans.Plan{ID: "quota", Rate: 10_000, Burst: 5000, Quota: quota(777, plans.Day)})
	var servedBucket, servedQuota atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				// Every caller within the same millisecond, in any order.
				now := t0.Add(time.Duration((g*1000+i)%1000) * time.Microsecond)
				if e.Take(bucket.Value, now) == Allowed {
					servedBucket.Add(1)
				}
				if e.Take(quota.Value, now) == Allowed {
					servedQuota.Add(1)
				}
				if i%100 == 0 {
					_ = e.Flush() // writes race with calls
				}
			}
		})
	}
	// The control plane changes other keys meanwhile.
	wg.Go(func() {
		for i := range 50 {
			_ = e.PutKey(t.Context(), plans.Key{Value: "anotherUsageKeyOfPlans", PlanID: []string{"bucket", "quota"}[i%2]})
		}
	})
	wg.Wait()
	if got := servedBucket.Load(); got != 500 {
		t.Errorf("8 callers in one millisecond served %d, want exactly the burst of 500 (+1/s)", got)
	}
	if got := servedQuota.Load(); got != 777 {
		t.Errorf("8 callers served %d against a quota of 777", got)
	}
}

func TestTakeDoesNotAllocate(t *testing.T) {
	e := newEngine(t, "")
	limited := withKey(t, e, plans.Plan{ID: "p", Rate: 100, Burst: 10, Quota: quota(1_000_000, plans.Month)})
	open := withKey(t, e, plans.Plan{ID: "unlimited"})
	now := t0
	for name, key := range map[string]string{"limited": limited.Value, "unlimited": open.Value, "unknown": "nope"} {
		if n := testing.AllocsPerRun(1000, func() {
			now = now.Add(time.Millisecond)
			e.Take(key, now)
		}); n != 0 {
			t.Errorf("Take with a %s key: %.1f allocs/op, want 0", name, n)
		}
	}
}

func BenchmarkTake(b *testing.B) {
	e, err := Open(Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, p := range []plans.Plan{{ID: "limited", Rate: 10_000, Burst: 5000, Quota: quota(math.MaxInt64, plans.Month)}, {ID: "unlimited"}} {
		if err := e.PutPlan(ctx, p); err != nil {
			b.Fatal(err)
		}
		if err := e.PutKey(ctx, plans.Key{Value: "usageKeyOfThePlanNamed" + p.ID, PlanID: p.ID}); err != nil {
			b.Fatal(err)
		}
	}
	for _, key := range []string{"limited", "unlimited"} {
		b.Run(key, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					e.Take(key, time.Now())
				}
			})
		})
	}
}
