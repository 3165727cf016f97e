package stack

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/plans"
)

// plan makes a plan through the operator API.
func (a *api) plan(t *testing.T, body map[string]any) httpapi.PlanView {
	t.Helper()
	return want[httpapi.PlanView](t, a.call(t, "POST", "/operator/plans", a.operatorKey, body), http.StatusCreated)
}

func (a *api) assignServicePlan(t *testing.T, acc account, service string, planID any) httpapi.ServiceView {
	t.Helper()
	return want[httpapi.ServiceView](t, a.call(t, "PUT", "/operator/accounts/"+acc.ID+"/services/"+service+"/plan", a.operatorKey, map[string]any{"planId": planID}), http.StatusOK)
}

func (a *api) assignTokenPlan(t *testing.T, tokenID string, planID any) httpapi.TokenView {
	t.Helper()
	return want[httpapi.TokenView](t, a.call(t, "PUT", "/operator/tokens/"+tokenID+"/plan", a.operatorKey, map[string]any{"planId": planID}), http.StatusOK)
}

func TestOperatorsMakeReadChangeListAndDeletePlans(t *testing.T) {
	a := newAPI(t)
	gold := a.plan(t, map[string]any{"name": "  Gold  ", "rate": 10, "burst": 20, "quota": map[string]any{"limit": 100000, "period": "month"}})
	if gold.Name != "Gold" || gold.Rate != 10 || gold.Burst != 20 || gold.Quota == nil || gold.Quota.Limit != 100000 || gold.Quota.Period != "month" || !strings.HasPrefix(gold.ID, "pln_") {
		t.Fatalf("created plan = %+v", gold)
	}
	free := a.plan(t, map[string]any{"name": "Free", "rate": 0.1, "burst": 1, "quota": nil})
	if free.Quota != nil {
		t.Fatalf("a plan made with quota null has a quota: %+v", free.Quota)
	}
	if got := want[httpapi.PlanView](t, a.call(t, "GET", "/operator/plans/"+gold.ID, a.operatorKey, nil), http.StatusOK); got != gold && got.ID != gold.ID {
		t.Fatalf("GET = %+v, want %+v", got, gold)
	}
	page := want[httpapi.List[httpapi.PlanView]](t, a.call(t, "GET", "/operator/plans?limit=1", a.operatorKey, nil), http.StatusOK)
	if len(page.Items) != 1 || page.Items[0].ID != free.ID || page.NextCursor == nil {
		t.Fatalf("first page = %+v, want the newest plan and a cursor", page)
	}
	page = want[httpapi.List[httpapi.PlanView]](t, a.call(t, "GET", "/operator/plans?limit=1&cursor="+*page.NextCursor, a.operatorKey, nil), http.StatusOK)
	if len(page.Items) != 1 || page.Items[0].ID != gold.ID {
		t.Fatalf("second page = %+v, want the older plan", page)
	}

	changed := want[httpapi.PlanView](t, a.call(t, "PATCH", "/operator/plans/"+gold.ID, a.operatorKey, map[string]any{"rate": 2.5}), http.StatusOK)
	if changed.Rate != 2.5 || changed.Burst != 20 || changed.Name != "Gold" || changed.Quota == nil {
		t.Fatalf("a PATCH of the rate changed more: %+v", changed)
	}
	changed = want[httpapi.PlanView](t, a.call(t, "PATCH", "/operator/plans/"+gold.ID, a.operatorKey, map[string]any{"quota": nil, "name": "Gold (no quota)"}), http.StatusOK)
	if changed.Quota != nil || changed.Name != "Gold (no quota)" || changed.Rate != 2.5 {
		t.Fatalf("a PATCH of quota null = %+v, want no quota and the rest kept", changed)
	}

	want[struct{}](t, a.call(t, "DELETE", "/operator/plans/"+gold.ID, a.operatorKey, nil), http.StatusNoContent)
	for _, method := range []string{"GET", "DELETE"} {
		wantError(t, a.call(t, method, "/operator/plans/"+gold.ID, a.operatorKey, nil), http.StatusNotFound, "plan_not_found")
	}
	wantError(t, a.call(t, "PATCH", "/operator/plans/"+gold.ID, a.operatorKey, map[string]any{"rate": 1}), http.StatusNotFound, "plan_not_found")
	wantError(t, a.call(t, "GET", "/operator/plans/nope", a.operatorKey, nil), http.StatusNotFound, "plan_not_found")
}

func TestAPlanInUseCannotBeDeleted(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	for _, tc := range []struct {
		name            string
		assign, release func(planID string)
	}{
		{"an account's service", func(id string) { a.assignServicePlan(t, acc, "tmy", id) }, func(string) { a.assignServicePlan(t, acc, "tmy", nil) }},
		{"a token", func(id string) { a.assignTokenPlan(t, tok.ID, id) }, func(string) { a.assignTokenPlan(t, tok.ID, nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := a.plan(t, map[string]any{"name": tc.name, "rate": 5, "burst": 5})
			tc.assign(p.ID)
			wantError(t, a.call(t, "DELETE", "/operator/plans/"+p.ID, a.operatorKey, nil), http.StatusConflict, "plan_in_use")
			tc.release(p.ID)
			want[struct{}](t, a.call(t, "DELETE", "/operator/plans/"+p.ID, a.operatorKey, nil), http.StatusNoContent)
		})
	}
	p := a.plan(t, map[string]any{"name": "ghost", "rate": 5, "burst": 5})
	want[struct{}](t, a.call(t, "DELETE", "/operator/plans/"+p.ID, a.operatorKey, nil), http.StatusNoContent)
	wantError(t, a.call(t, "PUT", "/operator/accounts/"+acc.ID+"/services/tmy/plan", a.operatorKey, map[string]any{"planId": p.ID}), http.StatusNotFound, "plan_not_found")
	wantError(t, a.call(t, "PUT", "/operator/tokens/"+tok.ID+"/plan", a.operatorKey, map[string]any{"planId": p.ID}), http.StatusNotFound, "plan_not_found")
	wantError(t, a.call(t, "PUT", "/operator/accounts/"+acc.ID+"/services/timeseries/plan", a.operatorKey, map[string]any{"planId": nil}), http.StatusNotFound, "service_not_found")
}

// TestATokensOwnPlanOverridesItsServicesInRepresentations: the admin reads
// the service's plan and quota use, and each token's own plan (null for a
// token on its service's plan); a clone keeps its source's.
func TestATokensOwnPlanOverridesItsServicesInRepresentations(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy", "timeseries")
	shared, own := a.issue(t, acc, "tmy", nil), a.issue(t, acc, "tmy", nil)
	silver := a.plan(t, map[string]any{"name": "Silver", "rate": 50, "burst": 100, "quota": map[string]any{"limit": 1000, "period": "day"}})
	solo := a.plan(t, map[string]any{"name": "Solo", "rate": 1, "burst": 2})

	before := want[httpapi.ServiceView](t, a.call(t, "GET", "/admin/services/tmy", acc.Key, nil), http.StatusOK)
	if before.Plan != nil || before.Quota != nil {
		t.Fatalf("a service without a plan shows %+v, %+v", before.Plan, before.Quota)
	}
	svc := a.assignServicePlan(t, acc, "tmy", silver.ID)
	if svc.Plan == nil || svc.Plan.ID != silver.ID || svc.Plan.Name != "Silver" || svc.Plan.Rate != 50 || svc.Plan.Burst != 100 {
		t.Fatalf("the operator's PUT answers the service with plan %+v", svc.Plan)
	}
	got := want[httpapi.ServiceView](t, a.call(t, "GET", "/admin/services/tmy", acc.Key, nil), http.StatusOK)
	tomorrow := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour).Format(httpapi.TimeFormat)
	if got.Plan == nil || *got.Plan != *svc.Plan && got.Plan.ID != silver.ID || got.Quota == nil || got.Quota.Limit != 1000 || got.Quota.Period != "day" || got.Quota.ResetsAt != tomorrow {
		t.Fatalf("the admin's service = plan %+v quota %+v; want Silver, 1000 a day resetting at %s", got.Plan, got.Quota, tomorrow)
	}
	list := want[httpapi.List[httpapi.ServiceView]](t, a.call(t, "GET", "/admin/services", acc.Key, nil), http.StatusOK)
	for _, s := range list.Items {
		if (s.ID == "tmy") != (s.Plan != nil) {
			t.Errorf("listing: service %s has plan %+v", s.ID, s.Plan)
		}
	}

	if tv := a.getToken(t, acc, shared.ID); tv.Plan != nil {
		t.Errorf("a token on its service's plan shows its own plan %+v, want null", tv.Plan)
	}
	assigned := a.assignTokenPlan(t, own.ID, solo.ID)
	if assigned.Plan == nil || assigned.Plan.ID != solo.ID || assigned.Plan.Quota != nil {
		t.Fatalf("the operator's PUT answers the token with plan %+v", assigned.Plan)
	}
	if tv := a.getToken(t, acc, own.ID); tv.Plan == nil || tv.Plan.ID != solo.ID {
		t.Errorf("the admin reads the token's own plan as %+v", tv.Plan)
	}
	tokensList := want[httpapi.List[httpapi.TokenView]](t, a.call(t, "GET", "/admin/services/tmy/tokens", acc.Key, nil), http.StatusOK)
	for _, tv := range tokensList.Items {
		if (tv.ID == own.ID) != (tv.Plan != nil) {
			t.Errorf("listing: token %s has plan %+v", tv.ID, tv.Plan)
		}
	}
	clone := want[httpapi.NewTokenView](t, a.call(t, "POST", "/admin/tokens/"+own.ID+"/clone", acc.Key, nil), http.StatusCreated)
	if clone.Plan == nil || clone.Plan.ID != solo.ID {
		t.Errorf("a clone's plan = %+v, want its source's", clone.Plan)
	}
	if svc := want[httpapi.ServiceView](t, a.call(t, "GET", "/admin/services/tmy", acc.Key, nil), http.StatusOK); svc.Plan == nil || svc.Plan.ID != silver.ID {
		t.Errorf("a token's own plan changed its service's: %+v", svc.Plan)
	}
	// Every token still answers: each has its key in its plan.
	for _, tok := range []string{shared.Token, own.Token, clone.Token} {
		if st := a.dataStatus(t, "tmy", tok); st != http.StatusOK {
			t.Errorf("a limited token's first call = %d, want 200", st)
		}
	}
	back := a.assignTokenPlan(t, own.ID, nil)
	if back.Plan != nil {
		t.Errorf("a token's plan taken off still shows %+v", back.Plan)
	}
	if svc := a.assignServicePlan(t, acc, "tmy", nil); svc.Plan != nil || svc.Quota != nil {
		t.Errorf("a service's plan taken off still shows %+v, %+v", svc.Plan, svc.Quota)
	}
}

// TestAdminsCannotSetPlans: plans are the operators'; an admin's body
// that names one is refused, whatever the value, and the plan routes
// refuse an API key.
func TestAdminsCannotSetPlans(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	p := a.plan(t, map[string]any{"name": "p", "rate": 1, "burst": 1})
	for _, tc := range []struct{ name, method, path, body string }{
		{"patch a token's plan", "PATCH", "/admin/tokens/" + tok.ID, `{"planId":"` + p.ID + `"}`},
		{"patch a token's plan to null", "PATCH", "/admin/tokens/" + tok.ID, `{"planId":null}`},
		{"patch a token's plan object", "PATCH", "/admin/tokens/" + tok.ID, `{"plan":{"id":"` + p.ID + `"}}`},
		{"issue a token on a plan", "POST", "/admin/services/tmy/tokens", `{"planId":"` + p.ID + `"}`},
		{"clone onto a plan", "POST", "/admin/tokens/" + tok.ID + "/clone", `{"plan":"` + p.ID + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, a.call(t, tc.method, tc.path, acc.Key, tc.body), http.StatusBadRequest, "plan_not_settable")
		})
	}
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/operator/plans", `{"name":"mine","rate":10000,"burst":5000}`},
		{"PUT", "/operator/tokens/" + tok.ID + "/plan", `{"planId":null}`},
		{"PUT", "/operator/accounts/" + acc.ID + "/services/tmy/plan", `{"planId":"` + p.ID + `"}`},
	} {
		if got := a.call(t, r.method, r.path, acc.Key, r.body); got.Status < 400 || got.Status >= 500 {
			t.Errorf("%s %s with an API key = %d, want a 4xx", r.method, r.path, got.Status)
		}
	}
	if tv := a.getToken(t, acc, tok.ID); tv.Plan != nil {
		t.Errorf("an admin's refused request left the token on plan %+v", tv.Plan)
	}
}

// TestPlanAssignmentsAreAuditedInTheAccountsLog: each assignment leaves
// one plan.assign entry with the operator as actor and the plan's ID
// before and after, and nothing of the engine's key.
func TestPlanAssignmentsAreAuditedInTheAccountsLog(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	p := a.plan(t, map[string]any{"name": "p", "rate": 1, "burst": 1})
	a.assignServicePlan(t, acc, "tmy", p.ID)
	a.assignTokenPlan(t, tok.ID, p.ID)
	a.assignServicePlan(t, acc, "tmy", nil)
	r := a.call(t, "GET", "/admin/audit?action=plan.assign", acc.Key, nil)
	got := want[httpapi.List[httpapi.AuditEntryView]](t, r, http.StatusOK)
	type change = httpapi.AuditChangeView
	wantEntries := []struct {
		targetType, targetID, field string
		c                           change
	}{
		{"account", acc.ID, "plans.tmy", change{Before: p.ID, After: nil}},
		{"token", tok.ID, "plan", change{Before: nil, After: p.ID}},
		{"account", acc.ID, "plans.tmy", change{Before: nil, After: p.ID}},
	}
	if len(got.Items) != len(wantEntries) {
		t.Fatalf("plan.assign entries: %d, want %d (%s)", len(got.Items), len(wantEntries), r.Body)
	}
	for i, w := range wantEntries {
		e := got.Items[i]
		if e.Actor.Type != "operator" || e.TargetType != w.targetType || e.TargetID != w.targetID || len(e.Changes) != 1 || e.Changes[w.field] != w.c {
			t.Errorf("entry %d = %+v, want %s %s %s %+v by an operator", i, e, w.targetType, w.targetID, w.field, w.c)
		}
	}
	for _, key := range []string{
		plans.KeyFor(plans.Assignment{AccountID: acc.ID, Service: "tmy"}, p.ID),
		plans.KeyFor(plans.Assignment{TokenID: tok.ID}, p.ID),
	} {
		if strings.Contains(string(r.Body), key) {
			t.Error("the audit log shows an engine key")
		}
	}
}
