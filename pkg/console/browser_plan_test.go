package console_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The General tab shows the service's plan, as the operator set it, and
// its quota used as a bar (a <progress> named by its figures in words).
func TestTheGeneralTabShowsTheServicesPlanAndItsQuotaBar(t *testing.T) {
	s := newSite(t)
	var plan struct {
		ID string `json:"id"`
	}
	s.must(t, "POST", "/operator/plans", s.operatorKey, map[string]any{"name": "Starter", "rate": 10, "burst": 20, "quota": map[string]any{"limit": 1000, "period": "day"}}, http.StatusCreated, &plan)
	s.must(t, "PUT", "/operator/accounts/"+s.accountID+"/services/tmy/plan", s.operatorKey, map[string]any{"planId": plan.ID}, http.StatusOK, nil)
	tokenFixture(t, s, "Map widget")

	tb := openConsole(t, s)
	tb.signIn()
	tb.click(`//a[normalize-space(text())="Manage" and contains(@href, "/services/tmy")]`)
	tb.waitFor("the plan", `!!document.querySelector('.plan progress')`)
	card := eval[string](tb, `document.querySelector('.plan').innerText`)
	if !containsAll(card, "Starter", "10 requests per second, bursts of up to 20", "1,000 calls per UTC day", "of 1,000 calls used this UTC day", "Resets ") {
		t.Errorf("the plan's card shows:\n%s", card)
	}
	bar := eval[map[string]any](tb, `(p => ({max: p.max, value: p.value, name: document.getElementById(p.getAttribute('aria-labelledby')).textContent}))(document.querySelector('.plan progress'))`)
	if bar["max"] != 1000.0 || !strings.HasPrefix(fmt.Sprint(bar["name"]), fmt.Sprintf("%v of 1,000", bar["value"])) {
		t.Errorf("the quota bar %v: want max 1000 and its value in words", bar)
	}
	tb.screen("service-general-plan")

	// Another service without a plan says so.
	tb.click(link("API"))
	tb.click(`//a[normalize-space(text())="Manage" and contains(@href, "/services/timeseries")]`)
	tb.waitText("No plan: calls to this service are not limited")
}
