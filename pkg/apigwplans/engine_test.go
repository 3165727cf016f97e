package apigwplans

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/plans"
)

// A usage key's value, as the reconciler derives it: 20+ characters.
const (
	value1 = "uk0123456789abcdef0123456789abcdef"
	value2 = "ukfedcba9876543210fedcba9876543210"
)

func plan(id string, rate float64, burst int, quota *plans.Quota) plans.Plan {
	return plans.Plan{ID: id, Name: "Plan " + id, Rate: rate, Burst: burst, Quota: quota}
}

// thePlan is the fake's only usage plan; it fails the test unless there
// is exactly one.
func (f *fakeGateway) thePlan(t *testing.T) fakePlan {
	t.Helper()
	var out []fakePlan
	f.snapshot(func() {
		for _, p := range f.plans {
			out = append(out, *p)
		}
	})
	if len(out) != 1 {
		t.Fatalf("%d usage plans, want 1: %+v", len(out), out)
	}
	return out[0]
}

func (f *fakeGateway) count(pattern string) int {
	var n int
	f.snapshot(func() { n = f.calls[pattern] })
	return n
}

func TestPutPlanMakesOneUsagePlanOnTheStageWithThePlansRateBurstAndQuota(t *testing.T) {
	f, e := newFake(t)
	if err := e.PutPlan(t.Context(), plan("p1", 12.5, 40, &plans.Quota{Limit: 100_000, Period: plans.Month})); err != nil {
		t.Fatal(err)
	}
	up := f.thePlan(t)
	if up.Name != e.PlanName("p1") {
		t.Errorf("name %q, want %q", up.Name, e.PlanName("p1"))
	}
	if want := []fakeStage{{APIID: "api1234567", Stage: "prod"}}; len(up.APIStages) != 1 || up.APIStages[0] != want[0] {
		t.Errorf("stages %+v, want %+v", up.APIStages, want)
	}
	if up.Throttle == nil || *up.Throttle != (fakeThrottle{RateLimit: 12.5, BurstLimit: 40}) {
		t.Errorf("throttle %+v, want rate 12.5 burst 40", up.Throttle)
	}
	if up.Quota == nil || *up.Quota != (fakeQuota{Limit: 100_000, Period: "MONTH", Offset: 0}) {
		t.Errorf("quota %+v, want 100000 a MONTH from offset 0", up.Quota)
	}
}

func TestEachQuotaPeriodIsAPIGatewaysOwn(t *testing.T) {
	for period, want := range map[plans.Period]string{plans.Day: "DAY", plans.Week: "WEEK", plans.Month: "MONTH"} {
		f, e := newFake(t)
		if err := e.PutPlan(t.Context(), plan("p1", 1, 1, &plans.Quota{Limit: 5, Period: period})); err != nil {
			t.Fatal(err)
		}
		if got := f.thePlan(t).Quota; got == nil || got.Period != want {
			t.Errorf("%s: quota %+v, want period %s", period, got, want)
		}
	}
}

func TestPutPlanAgainChangesTheUsagePlanInPlace(t *testing.T) {
	f, e := newFake(t)
	ctx := t.Context()
	steps := []struct {
		name     string
		plan     plans.Plan
		throttle fakeThrottle
		quota    *fakeQuota
	}{
		{"made without quota", plan("p1", 10, 20, nil), fakeThrottle{20, 10}, nil},
		{"rate and burst changed", plan("p1", 0.5, 3, nil), fakeThrottle{3, 0.5}, nil},
		{"quota added", plan("p1", 0.5, 3, &plans.Quota{Limit: 1000, Period: plans.Day}), fakeThrottle{3, 0.5}, &fakeQuota{Limit: 1000, Period: "DAY"}},
		{"quota changed", plan("p1", 0.5, 3, &plans.Quota{Limit: 7000, Period: plans.Week}), fakeThrottle{3, 0.5}, &fakeQuota{Limit: 7000, Period: "WEEK"}},
		{"quota removed", plan("p1", 0.5, 3, nil), fakeThrottle{3, 0.5}, nil},
	}
	for _, s := range steps {
		if err := e.PutPlan(ctx, s.plan); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		up := f.thePlan(t)
		if *up.Throttle != s.throttle {
			t.Errorf("%s: throttle %+v, want %+v", s.name, *up.Throttle, s.throttle)
		}
		if (up.Quota == nil) != (s.quota == nil) || (up.Quota != nil && *up.Quota != *s.quota) {
			t.Errorf("%s: quota %+v, want %+v", s.name, up.Quota, s.quota)
		}
	}
	if n := f.count("POST /usageplans"); n != 1 {
		t.Errorf("%d usage plans created, want 1", n)
	}
}

func TestPutPlanOfAnUnchangedPlanWritesNothing(t *testing.T) {
	f, e := newFake(t)
	p := plan("p1", 10, 20, &plans.Quota{Limit: 5, Period: plans.Day})
	for range 3 {
		if err := e.PutPlan(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	if c, u := f.count("POST /usageplans"), f.count("PATCH /usageplans/{id}"); c != 1 || u != 0 {
		t.Errorf("%d creates and %d updates, want 1 and 0", c, u)
	}
}

func TestPutPlanPutsTheStageBackOnAUsagePlanThatLostIt(t *testing.T) {
	f, e := newFake(t)
	p := plan("p1", 10, 20, nil)
	if err := e.PutPlan(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	f.snapshot(func() {
		for _, up := range f.plans {
			up.APIStages = nil
		}
	})
	if err := e.PutPlan(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if got := f.thePlan(t).APIStages; len(got) != 1 {
		t.Errorf("stages %+v, want the API's stage back", got)
	}
}

func TestUsagePlansOfTwoDeploymentsAndTwoPlansNeverMix(t *testing.T) {
	f, e := newFake(t)
	if err := e.PutPlan(t.Context(), plan("p1", 1, 1, nil)); err != nil {
		t.Fatal(err)
	}
	// Another deployment (REST API) in the region, same plan ID.
	other, err := New(e.api, "other98765", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.PutPlan(t.Context(), plan("p1", 2, 2, nil)); err != nil {
		t.Fatal(err)
	}
	if err := e.PutPlan(t.Context(), plan("p2", 3, 3, nil)); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	f.snapshot(func() {
		for _, up := range f.plans {
			names[up.Name] = true
		}
	})
	if len(names) != 3 || !names[e.PlanName("p1")] || !names[other.PlanName("p1")] || !names[e.PlanName("p2")] {
		t.Errorf("usage plans %v, want three distinct ones", names)
	}
}

func TestPutKeyMakesAnEnabledKeyOfItsValueInItsPlanNamedWithoutTheValue(t *testing.T) {
	f, e := newFake(t)
	if err := e.PutPlan(t.Context(), plan("p1", 1, 1, nil)); err != nil {
		t.Fatal(err)
	}
	if err := e.PutKey(t.Context(), plans.Key{Value: value1, PlanID: "p1"}); err != nil {
		t.Fatal(err)
	}
	var keys []fakeKey
	f.snapshot(func() {
		for _, k := range f.keys {
			keys = append(keys, *k)
		}
	})
	if len(keys) != 1 {
		t.Fatalf("%d keys, want 1", len(keys))
	}
	k := keys[0]
	if k.Value != value1 || !k.Enabled {
		t.Errorf("key %+v, want value %s, enabled", k, value1)
	}
	if k.Name != e.KeyName(value1) || strings.Contains(k.Name, value1[3:]) || strings.Contains(k.Description, value1[3:]) {
		t.Errorf("key name %q / description %q: want %q, never the value", k.Name, k.Description, e.KeyName(value1))
	}
	if up := f.thePlan(t); len(up.keys) != 1 || up.keys[0] != k.ID {
		t.Errorf("usage plan keys %v, want [%s]", up.keys, k.ID)
	}
}

// TestARetryAfterACrashFindsWhatTheFirstAttemptMade: a reconciler that
// crashed after the control plane answered starts again with no memory;
// its retry makes no second plan or key, and leaves the key in its plan.
func TestARetryAfterACrashFindsWhatTheFirstAttemptMade(t *testing.T) {
	f, e := newFake(t)
	p, k := plan("p1", 1, 1, &plans.Quota{Limit: 10, Period: plans.Day}), plans.Key{Value: value1, PlanID: "p1"}
	if err := e.PutPlan(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if err := e.PutKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		retry := f.fresh(t)
		if err := retry.PutPlan(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		if err := retry.PutKey(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.PutKey(t.Context(), k); err != nil { // the first process, warm, again
		t.Fatal(err)
	}
	var nKeys int
	f.snapshot(func() { nKeys = len(f.keys) })
	if up := f.thePlan(t); nKeys != 1 || len(up.keys) != 1 {
		t.Errorf("%d keys, %d in the plan; want 1 and 1", nKeys, len(up.keys))
	}
	if n := f.count("POST /apikeys"); n != 1 {
		t.Errorf("%d API keys created, want 1", n)
	}
}

func TestPutKeyFindsAKeyMadeByAConcurrentCall(t *testing.T) {
	f, e := newFake(t)
	if err := e.PutPlan(t.Context(), plan("p1", 1, 1, nil)); err != nil {
		t.Fatal(err)
	}
	// Another reconciler made the key between this one's look-up and its
	// create: the create conflicts on the value.
	f.snapshot(func() {
		f.keys["keyother"] = &fakeKey{ID: "keyother", Name: e.KeyName(value1), Value: value1, Enabled: true}
	})
	if err := e.PutKey(t.Context(), plans.Key{Value: value1, PlanID: "p1"}); err != nil {
		t.Fatal(err)
	}
	if up := f.thePlan(t); len(up.keys) != 1 || up.keys[0] != "keyother" {
		t.Errorf("plan keys %v, want the key made concurrently", up.keys)
	}
}

func TestPutKeyEnablesAKeyFoundDisabled(t *testing.T) {
	f, e := newFake(t)
	if err := e.PutPlan(t.Context(), plan("p1", 1, 1, nil)); err != nil {
		t.Fatal(err)
	}
	f.snapshot(func() { f.keys["k9"] = &fakeKey{ID: "k9", Name: e.KeyName(value1), Value: value1} })
	if err := e.PutKey(t.Context(), plans.Key{Value: value1, PlanID: "p1"}); err != nil {
		t.Fatal(err)
	}
	f.snapshot(func() {
		if !f.keys["k9"].Enabled {
			t.Error("the key stayed disabled: every call with it would be 403")
		}
	})
}

func TestPutKeyBeforeItsPlanIsErrNoPlanAndMakesNoKey(t *testing.T) {
	f, e := newFake(t)
	err := e.PutKey(t.Context(), plans.Key{Value: value1, PlanID: "nope"})
	if !errors.Is(err, ErrNoPlan) {
		t.Errorf("err = %v, want ErrNoPlan", err)
	}
	if n := f.count("POST /apikeys"); n != 0 {
		t.Errorf("%d keys made for no plan", n)
	}
}

func TestAKeyIsNeverMovedToAnotherPlan(t *testing.T) {
	_, e := newFake(t)
	for _, id := range []string{"p1", "p2"} {
		if err := e.PutPlan(t.Context(), plan(id, 1, 1, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.PutKey(t.Context(), plans.Key{Value: value1, PlanID: "p1"}); err != nil {
		t.Fatal(err)
	}
	err := e.PutKey(t.Context(), plans.Key{Value: value1, PlanID: "p2"})
	if !errors.Is(err, ErrKeyInOtherPlan) {
		t.Errorf("err = %v, want ErrKeyInOtherPlan", err)
	}
}

func TestAPlanDeletedBehindTheEnginesBackIsLookedUpAgain(t *testing.T) {
	f, e := newFake(t)
	p := plan("p1", 1, 1, nil)
	if err := e.PutPlan(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if err := f.fresh(t).DeletePlan(t.Context(), "p1"); err != nil { // another process
		t.Fatal(err)
	}
	if err := e.PutKey(t.Context(), plans.Key{Value: value1, PlanID: "p1"}); !errors.Is(err, ErrNoPlan) {
		t.Errorf("PutKey into a deleted plan: err = %v, want ErrNoPlan", err)
	}
	if err := e.PutPlan(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if err := e.PutKey(t.Context(), plans.Key{Value: value1, PlanID: "p1"}); err != nil {
		t.Errorf("PutKey after the plan was made again: %v", err)
	}
}

func TestDeleteKeyRemovesTheKeyFromItsPlanAndAgainIsANoOp(t *testing.T) {
	f, e := newFake(t)
	if err := e.PutPlan(t.Context(), plan("p1", 1, 1, nil)); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{value1, value2} {
		if err := e.PutKey(t.Context(), plans.Key{Value: v, PlanID: "p1"}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := e.DeleteKey(t.Context(), value1); err != nil {
			t.Fatal(err)
		}
		if err := f.fresh(t).DeleteKey(t.Context(), value1); err != nil {
			t.Fatal(err)
		}
	}
	f.snapshot(func() {
		if len(f.keys) != 1 {
			t.Errorf("%d keys left, want value2's only", len(f.keys))
		}
		for _, k := range f.keys {
			if k.Value != value2 {
				t.Errorf("the key left is %s's", k.Name)
			}
		}
	})
	if up := f.thePlan(t); len(up.keys) != 1 {
		t.Errorf("plan keys %v, want value2's only", up.keys)
	}
}

func TestDeletePlanRemovesItsUsagePlanAndAgainIsANoOp(t *testing.T) {
	f, e := newFake(t)
	for _, id := range []string{"p1", "p2"} {
		if err := e.PutPlan(t.Context(), plan(id, 1, 1, nil)); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := e.DeletePlan(t.Context(), "p1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.DeletePlan(t.Context(), "never-made"); err != nil {
		t.Errorf("deleting a plan with no usage plan: %v", err)
	}
	if up := f.thePlan(t); up.Name != e.PlanName("p2") {
		t.Errorf("the usage plan left is %s, want p2's", up.Name)
	}
}

// TestTwoUsagePlansOfOnePlanBecomeOne: two reconcilers racing on a plan's
// first creation can make two usage plans of one name (CreateUsagePlan
// has no idempotency token). Every call then uses the smallest ID, and
// the next PutPlan moves the other's keys into it and deletes it.
func TestTwoUsagePlansOfOnePlanBecomeOne(t *testing.T) {
	f, e := newFake(t)
	p := plan("p1", 1, 1, nil)
	name := e.PlanName("p1")
	f.snapshot(func() {
		f.plans["up0001"] = &fakePlan{ID: "up0001", Name: name, APIStages: []fakeStage{{"api1234567", "prod"}}, Throttle: &fakeThrottle{1, 1}}
		f.plans["up0002"] = &fakePlan{ID: "up0002", Name: name, APIStages: []fakeStage{{"api1234567", "prod"}}, Throttle: &fakeThrottle{1, 1}, keys: []string{"k1"}}
		f.keys["k1"] = &fakeKey{ID: "k1", Name: e.KeyName(value2), Value: value2, Enabled: true}
	})
	if err := e.PutKey(t.Context(), plans.Key{Value: value1, PlanID: "p1"}); err != nil {
		t.Fatal(err)
	}
	if err := e.PutPlan(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	up := f.thePlan(t)
	if up.ID != "up0001" || len(up.keys) != 2 {
		t.Errorf("left usage plan %s with keys %v, want up0001 with both keys", up.ID, up.keys)
	}
}

func TestPutPlanRefusesWhatAPIGatewayCannotHold(t *testing.T) {
	_, e := newFake(t)
	for name, p := range map[string]plans.Plan{
		"no ID":           plan("", 1, 1, nil),
		"quota too large": plan("p1", 1, 1, &plans.Quota{Limit: 1 << 31, Period: plans.Day}),
		"unknown period":  plan("p1", 1, 1, &plans.Quota{Limit: 1, Period: "year"}),
	} {
		if err := e.PutPlan(t.Context(), p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestThrottledControlPlaneCallsAreRetried: CreateApiKey answers 429 above
// 5 requests/s per account; the SDK's retryer (the deployment's bounds)
// carries the call through a few refusals.
func TestThrottledControlPlaneCallsAreRetried(t *testing.T) {
	f, e := newFake(t)
	f.snapshot(func() {
		f.throttle["POST /apikeys"] = 3
		f.throttle["GET /usageplans"] = 2
	})
	if err := e.PutPlan(t.Context(), plan("p1", 1, 1, nil)); err != nil {
		t.Fatal(err)
	}
	if err := e.PutKey(t.Context(), plans.Key{Value: value1, PlanID: "p1"}); err != nil {
		t.Fatalf("PutKey through 3 throttles: %v", err)
	}
	// Beyond the bounds the error reaches the reconciler, which retries
	// on its next run.
	f.snapshot(func() { f.throttle["POST /apikeys"] = 100 })
	err := e.PutKey(t.Context(), plans.Key{Value: value2, PlanID: "p1"})
	if err == nil || !strings.Contains(err.Error(), "TooManyRequests") {
		t.Errorf("err = %v, want the throttling error after the retries", err)
	}
}

func TestQuotaUsageIsTheSumOfTheCurrentPeriodsDays(t *testing.T) {
	f, e := newFake(t)
	k := plans.Key{Value: value1, PlanID: "p1"}
	if err := e.PutPlan(t.Context(), plan("p1", 1, 1, &plans.Quota{Limit: 1000, Period: plans.Week})); err != nil {
		t.Fatal(err)
	}
	if err := e.PutKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	var keyID string
	f.snapshot(func() {
		for id := range f.keys {
			keyID = id
		}
		f.usage[keyID] = map[string]int64{
			"2026-11-29": 500, // Sunday: the week before
			"2026-11-30": 7,   // Monday: the week's first day
			"2026-12-02": 11,
			"2026-12-06": 3, // today, Sunday
		}
	})
	now := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
	used, err := e.QuotaUsage(t.Context(), k, now)
	if err != nil {
		t.Fatal(err)
	}
	if used != 21 {
		t.Errorf("used %d, want 21 (this week's days only)", used)
	}
	f.snapshot(func() {
		last := f.usageIn[len(f.usageIn)-1]
		if last["startDate"] != "2026-11-30" || last["endDate"] != "2026-12-06" || last["keyId"] != keyID {
			t.Errorf("GetUsage asked %v, want the week from Monday 2026-11-30 to today for the key", last)
		}
	})
	// A month's usage paged over several answers is counted whole.
	f.snapshot(func() { f.pageSize = 1 })
	if err := e.PutPlan(t.Context(), plan("p1", 1, 1, &plans.Quota{Limit: 1000, Period: plans.Month})); err != nil {
		t.Fatal(err)
	}
	if used, err = e.QuotaUsage(t.Context(), k, now); err != nil || used != 14 {
		t.Errorf("month: used %d, %v; want 14 (December's days)", used, err)
	}
}

func TestQuotaUsageIsZeroWithoutAQuotaAKeyOrAPlan(t *testing.T) {
	f, e := newFake(t)
	now := time.Now()
	if err := e.PutPlan(t.Context(), plan("p1", 1, 1, nil)); err != nil {
		t.Fatal(err)
	}
	if err := e.PutKey(t.Context(), plans.Key{Value: value1, PlanID: "p1"}); err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]plans.Key{
		"no quota": {Value: value1, PlanID: "p1"},
		"no key":   {Value: value2, PlanID: "p1"},
		"no plan":  {Value: value1, PlanID: "nope"},
	} {
		if used, err := e.QuotaUsage(t.Context(), k, now); err != nil || used != 0 {
			t.Errorf("%s: %d, %v; want 0, nil", name, used, err)
		}
	}
	if n := f.count("GET /usageplans/{id}/usage"); n != 0 {
		t.Errorf("%d usage reads for nothing to count", n)
	}
}

func TestNewRefusesAMissingClientAPIOrStage(t *testing.T) {
	_, e := newFake(t)
	for name, err := range map[string]error{
		"client": func() error { _, err := New(nil, "a", "s"); return err }(),
		"api":    func() error { _, err := New(e.api, "", "s"); return err }(),
		"stage":  func() error { _, err := New(e.api, "a", ""); return err }(),
	} {
		if err == nil {
			t.Errorf("no %s: no error", name)
		}
	}
}

// TestUsagePlansLimitDeployersStagesToo: a deployer's own API behind the
// token authorizer gets the same keys, so every usage plan must be on its
// stage as well (else API Gateway refuses those calls 403): made with it,
// and given it when it was added later.
func TestUsagePlansLimitDeployersStagesToo(t *testing.T) {
	f, e := newFake(t)
	if err := e.PutPlan(t.Context(), plan("p1", 1, 1, nil)); err != nil { // before the deployer's API
		t.Fatal(err)
	}
	extra := Stage{APIID: "deployer01", Name: "live"}
	withDeployer, err := New(e.api, "api1234567", "prod", extra)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"p1", "p2"} {
		if err := withDeployer.PutPlan(t.Context(), plan(id, 1, 1, nil)); err != nil {
			t.Fatal(err)
		}
	}
	want := []fakeStage{{"api1234567", "prod"}, {"deployer01", "live"}}
	f.snapshot(func() {
		for _, up := range f.plans {
			if !slices.Equal(up.APIStages, want) {
				t.Errorf("%s: stages %v, want %v", up.Name, up.APIStages, want)
			}
		}
	})
	// Deleting takes every stage off first.
	if err := withDeployer.DeletePlan(t.Context(), "p1"); err != nil {
		t.Fatal(err)
	}
}

func TestExtraStagesParseAsRestAPIIDColonStage(t *testing.T) {
	got, err := ParseStages(" a1:live, b2:prod ,")
	if err != nil || !slices.Equal(got, []Stage{{"a1", "live"}, {"b2", "prod"}}) {
		t.Errorf("ParseStages = %v, %v", got, err)
	}
	if got, err := ParseStages(""); err != nil || len(got) != 0 {
		t.Errorf("ParseStages(\"\") = %v, %v; want none", got, err)
	}
	for _, bad := range []string{"a1", "a1:", ":live", "a1:b:c"} {
		if _, err := ParseStages(bad); err == nil {
			t.Errorf("ParseStages(%q): no error", bad)
		}
	}
}

// TestDeleteKeyDeletesAKeyMadeAgainElsewhere: a warm engine remembers a
// key's ID; if another process deleted the key and made it again, the
// delete still removes the key of that value, not nothing.
func TestDeleteKeyDeletesAKeyMadeAgainElsewhere(t *testing.T) {
	f, e := newFake(t)
	k := plans.Key{Value: value1, PlanID: "p1"}
	if err := e.PutPlan(t.Context(), plan("p1", 1, 1, nil)); err != nil {
		t.Fatal(err)
	}
	if err := e.PutKey(t.Context(), k); err != nil { // e remembers the key's ID
		t.Fatal(err)
	}
	other := f.fresh(t)
	if err := other.DeleteKey(t.Context(), value1); err != nil {
		t.Fatal(err)
	}
	if err := other.PutKey(t.Context(), k); err != nil { // a new ID
		t.Fatal(err)
	}
	if err := e.DeleteKey(t.Context(), value1); err != nil {
		t.Fatal(err)
	}
	f.snapshot(func() {
		if len(f.keys) != 0 {
			t.Errorf("%d keys left, want none", len(f.keys))
		}
	})
}

func TestPutKeyRefusesAValueAPIGatewayCannotHold(t *testing.T) {
	f, e := newFake(t)
	if err := e.PutPlan(t.Context(), plan("p1", 1, 1, nil)); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"", "tkpshort", strings.Repeat("a", 129), "tkp_" + strings.Repeat("a", 30), strings.Repeat("a", 30) + "-"} {
		if err := e.PutKey(t.Context(), plans.Key{Value: v, PlanID: "p1"}); err == nil {
			t.Errorf("a value of %d characters: no error", len(v))
		}
	}
	if n := f.count("POST /apikeys"); n != 0 {
		t.Errorf("%d keys made", n)
	}
}
