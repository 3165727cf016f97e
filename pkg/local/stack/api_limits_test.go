package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/local/gateway"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
)

// The local stack enforces plans with the gateway twin (pkg/local/usageplans)
// as API Gateway's usage plans do on AWS: these tests drive it through the
// operator and data routes only.

// restartable is an api whose stack can be stopped and started again over
// the same tables, spool and usage-plans file, as `make run` restarts.
type restartable struct {
	*api
	file, spool string
	srv         *httptest.Server
}

func newRestartableAPI(t *testing.T) *restartable {
	t.Helper()
	r := &restartable{
		api: &api{
			operatorKey: "opk_" + strings.Repeat("x", 8) + t.Name(),
			client:      dynamotest.Client(t),
			tables:      dynamotest.Tables(t),
		},
		file:  filepath.Join(t.TempDir(), "usageplans.json"),
		spool: t.TempDir(),
	}
	r.start(t)
	t.Cleanup(func() { r.assertNoPlaintextSecrets(t) })
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *restartable) start(t *testing.T) {
	t.Helper()
	s, err := Build(t.Context(), Config{
		Client: r.recording(r.client), Tables: r.tables, OperatorKey: r.operatorKey,
		UsageFlushInterval: 20 * time.Millisecond, LogOutput: &r.logs, SpoolDir: r.spool,
		RevocationDelay: "0", UsagePlansFile: r.file,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.stack = s
	r.srv = httptest.NewUnstartedServer(s)
	r.srv.Config = gateway.NewServer(s)
	r.srv.Listener = gateway.Listener(r.srv.Listener)
	r.srv.Start()
	r.url = r.srv.URL
}

func (r *restartable) stop(t *testing.T) {
	t.Helper()
	if r.srv == nil {
		return
	}
	r.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.stack.Close(ctx); err != nil {
		t.Errorf("close stack: %v", err)
	}
	r.srv = nil
}

// restart stops the stack as Ctrl-C stops `make run`, and starts it again.
func (r *restartable) restart(t *testing.T) {
	t.Helper()
	r.stop(t)
	r.start(t)
}

// planID makes a plan through the operator API (api_plans_test.go's
// helpers) and returns its ID; quota is {limit, period} or nil.
func (a *api) planID(t *testing.T, rate float64, burst int, quota map[string]any) string {
	t.Helper()
	body := map[string]any{"name": fmt.Sprintf("Limits %d", planSeq.Add(1)), "rate": rate, "burst": burst}
	if quota != nil {
		body["quota"] = quota
	}
	return a.plan(t, body).ID
}

var planSeq atomic.Int64

// monthly is a quota of limit calls a month: a period a test never
// straddles in practice.
func monthly(limit int) map[string]any { return map[string]any{"limit": limit, "period": "month"} }

// data calls the demo data route with token and returns the answer.
func (a *api) data(t *testing.T, token string) response {
	t.Helper()
	return a.call(t, "GET", "/data/tmy/hourly?token="+token, "", nil)
}

// wantServed makes n data calls with token, each of which must be served.
func (a *api) wantServed(t *testing.T, token string, n int, why string) {
	t.Helper()
	for i := range n {
		if r := a.data(t, token); r.Status != http.StatusOK {
			t.Fatalf("%s: call %d of %d answered %d %s, want 200", why, i+1, n, r.Status, r.Body)
		}
	}
}

// wantLimited makes a data call with token that must answer 429 code.
func (a *api) wantLimited(t *testing.T, token, code, why string) {
	t.Helper()
	r := a.data(t, token)
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("%s: answered %d %s, want 429 %s", why, r.Status, r.Body, code)
	}
	wantError(t, r, http.StatusTooManyRequests, code)
}

func TestAPlanServesItsBurstThenItsRateAndNeverMore(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	const rate, burst = 4.0, 6
	a.assignServicePlan(t, acc, "tmy", a.planID(t, rate, burst, nil))

	// Calls as fast as one client makes them for 1.5 s. The gateway
	// receives the first between firstBefore and firstAfter, the last
	// after lastBefore and before lastAfter.
	var served, limited int
	var firstBefore, firstAfter, lastBefore, lastAfter time.Time
	for i := 0; i == 0 || time.Since(firstBefore) < 1500*time.Millisecond; i++ {
		before := time.Now()
		r := a.data(t, tok.Token)
		after := time.Now()
		if i == 0 {
			firstBefore, firstAfter = before, after
		}
		lastBefore, lastAfter = before, after
		switch r.Status {
		case http.StatusOK:
			served++
		case http.StatusTooManyRequests:
			wantError(t, r, http.StatusTooManyRequests, "rate_limited")
			limited++
		default:
			t.Fatalf("call %d answered %d %s", i+1, r.Status, r.Body)
		}
	}
	most := burst + rate*lastAfter.Sub(firstBefore).Seconds()
	// Calls follow one another closely, so the bucket never fills up
	// again after the burst: at least what refilled between the first
	// call's answer and the last call's request, less the token still
	// filling.
	least := burst + rate*lastBefore.Sub(firstAfter).Seconds() - 1
	if float64(served) > most || float64(served) < least {
		t.Errorf("served %d calls (%d refused) over %s, want between %.1f and %.1f (burst %d + rate %g × elapsed)",
			served, limited, lastAfter.Sub(firstBefore), least, most, burst, rate)
	}
	if limited == 0 {
		t.Error("no call was rate_limited")
	}
}

func TestAQuotaStopsAtExactlyItsLimitAndSurvivesARestart(t *testing.T) {
	a := newRestartableAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	a.assignServicePlan(t, acc, "tmy", a.planID(t, 1000, 100, monthly(7)))

	a.wantServed(t, tok.Token, 7, "within the quota")
	for range 3 {
		a.wantLimited(t, tok.Token, "quota_exceeded", "past the quota")
	}
	quotaUsed := func(why string) {
		t.Helper()
		svc := want[httpapi.ServiceView](t, a.call(t, "GET", "/admin/services/tmy", acc.Key, nil), http.StatusOK)
		if svc.Quota == nil || svc.Quota.Used != 7 || svc.Quota.Limit != 7 || svc.Quota.Period != "month" {
			t.Errorf("%s: the admin's quota use is %+v, want 7 of 7 this month", why, svc.Quota)
		}
	}
	quotaUsed("before the restart")

	a.restart(t)
	a.wantLimited(t, tok.Token, "quota_exceeded", "after a restart of the stack")
	quotaUsed("after the restart")
}

func TestATokensOwnPlanOverridesItsServicesPlan(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	own := a.issue(t, acc, "tmy", nil)
	b := a.issue(t, acc, "tmy", nil)
	c := a.issue(t, acc, "tmy", nil)
	a.assignServicePlan(t, acc, "tmy", a.planID(t, 1000, 100, monthly(2)))
	a.assignTokenPlan(t, own.ID, a.planID(t, 1000, 100, monthly(4)))

	// The token's own plan is its budget alone: the service's is untouched.
	a.wantServed(t, own.Token, 4, "the token's own quota of 4")
	a.wantLimited(t, own.Token, "quota_exceeded", "past the token's own quota")
	// The service's plan is one budget shared by its other tokens.
	a.wantServed(t, b.Token, 1, "the service's shared quota of 2")
	a.wantServed(t, c.Token, 1, "the service's shared quota of 2")
	a.wantLimited(t, b.Token, "quota_exceeded", "the service's shared quota spent by two tokens")
	a.wantLimited(t, c.Token, "quota_exceeded", "the service's shared quota spent by two tokens")

	if got := a.getToken(t, acc, own.ID).Plan; got == nil {
		t.Error("the token's representation shows no plan")
	}
}

func TestUnassigningAPlanLiftsItsLimit(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	a.assignServicePlan(t, acc, "tmy", a.planID(t, 1000, 100, monthly(3)))
	a.assignTokenPlan(t, tok.ID, a.planID(t, 1000, 100, monthly(1)))

	a.wantServed(t, tok.Token, 1, "the token's own quota")
	a.wantLimited(t, tok.Token, "quota_exceeded", "the token's own quota spent")
	a.assignTokenPlan(t, tok.ID, nil)
	a.wantServed(t, tok.Token, 3, "the service's plan, once the token's own is gone")
	a.wantLimited(t, tok.Token, "quota_exceeded", "the service's quota spent")
	a.assignServicePlan(t, acc, "tmy", nil)
	a.wantServed(t, tok.Token, 50, "no plan at all")
}

func TestLimitedCallsAnswerTheErrorBodyAndAreRecordedInUsage(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	throttled := a.issue(t, acc, "tmy", nil)
	spent := a.issue(t, acc, "tmy", nil)
	a.assignTokenPlan(t, throttled.ID, a.planID(t, 0.1, 1, nil))
	a.assignTokenPlan(t, spent.ID, a.planID(t, 1000, 100, monthly(1)))

	a.wantServed(t, throttled.Token, 1, "the burst of 1")
	a.wantServed(t, spent.Token, 1, "the quota of 1")
	for _, tc := range []struct{ token, code string }{{throttled.Token, "rate_limited"}, {spent.Token, "quota_exceeded"}} {
		r := a.data(t, tc.token)
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != http.StatusTooManyRequests ||
			body.Error.Code != tc.code || body.Error.Message == "" || strings.Contains(string(r.Body), tc.token) {
			t.Errorf("answered %d %s, want 429 {\"error\":{\"code\":%q,\"message\":...}} without the token", r.Status, r.Body, tc.code)
		}
	}

	a.flushUsage(t)
	for _, tok := range []httpapi.NewTokenView{throttled, spent} {
		records := want[usagePage](t, a.call(t, "GET", "/admin/usage?tokenId="+tok.ID, acc.Key, nil), http.StatusOK).Items
		statuses := map[int]int{}
		for _, rec := range records {
			statuses[rec.Status]++
			if rec.Path != "/data/tmy/hourly" || rec.Service != "tmy" {
				t.Errorf("record %+v, want the path and service called", rec)
			}
		}
		if statuses[200] != 1 || statuses[429] != 1 || len(records) != 2 {
			t.Errorf("token %s: recorded statuses %v, want one 200 and one 429", tok.ID, statuses)
		}
	}
	if r := a.call(t, "GET", "/admin/usage?tokenId="+spent.ID+"&status=429", acc.Key, nil); r.Status == http.StatusOK {
		if n := len(want[usagePage](t, r, http.StatusOK).Items); n != 1 {
			t.Errorf("usage filtered by status 429: %d records, want 1", n)
		}
	}
}

func TestADataCallIsNeverForbiddenForWantOfAUsageKey(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	user := a.createUser(t, acc, "limits@example.com")
	a.setAccess(t, acc, "tmy", user.ID, true)
	tokens := []httpapi.NewTokenView{
		a.issue(t, acc, "tmy", nil),
		a.issue(t, acc, "tmy", map[string]any{"userId": user.ID}),
	}
	every := func(step string) {
		t.Helper()
		for _, tok := range tokens {
			// Every presentation: the query, a path segment, the header.
			for _, r := range []response{
				a.data(t, tok.Token),
				a.call(t, "GET", "/feed/"+tok.Token+"/tmy/hourly", "", nil),
				a.call(t, "GET", "/data/tmy/hourly", tok.Token, nil),
			} {
				if r.Status != http.StatusOK {
					t.Fatalf("%s: a call of token %s answered %d %s, want 200", step, tok.ID, r.Status, r.Body)
				}
			}
		}
	}
	roomy := func() string { return a.planID(t, 1000, 5000, monthly(1_000_000)) }

	every("no plan anywhere (the unlimited key)")
	service := roomy()
	a.assignServicePlan(t, acc, "tmy", service)
	every("the service's plan")
	tokens = append(tokens, a.issue(t, acc, "tmy", nil))
	every("a token made while its service has a plan")
	a.assignTokenPlan(t, tokens[0].ID, roomy())
	every("a token with a plan of its own")
	a.assignTokenPlan(t, tokens[0].ID, roomy())
	every("the token moved to another plan (a new key, the old one deleted)")
	tokens = append(tokens, a.cloneOf(t, acc, tokens[0].ID))
	every("a clone, which keeps its source's plan")
	want[any](t, a.call(t, "PATCH", "/operator/plans/"+service, a.operatorKey, map[string]any{"rate": 2000}), http.StatusOK)
	every("the service's plan changed")
	a.assignTokenPlan(t, tokens[0].ID, nil)
	every("the token's own plan removed")
	a.assignServicePlan(t, acc, "tmy", nil)
	every("the service's plan removed")
}

// cloneOf clones token id and returns the clone.
func (a *api) cloneOf(t *testing.T, acc account, id string) httpapi.NewTokenView {
	t.Helper()
	return want[httpapi.NewTokenView](t, a.call(t, "POST", "/admin/tokens/"+id+"/clone", acc.Key, map[string]any{}), http.StatusCreated)
}
