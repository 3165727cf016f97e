package stack

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	usagehandler "github.com/acmedata/tokenservice/pkg/handlers/usage"
	"github.com/acmedata/tokenservice/pkg/testkit/loadgen"
)

// TestTenThousandCallsLeaveExactlyTenThousandUsageRecords drives 10,000
// data calls through the gateway over HTTP, 16 at a time, with every
// presentation of a token: served calls, calls refused with 403 (a tmy
// token on timeseries, recorded from the access log) and with 401 (a
// disabled token, recorded from the authorizer's decision line). Once the
// shipped usage is delivered, the account's history, read page by page
// through GET /admin/usage, holds exactly one record per call: the request
// ID the gateway answered with, the token, the status it answered, and
// never the token itself. Nothing lost, nothing doubled.
func TestTenThousandCallsLeaveExactlyTenThousandUsageRecords(t *testing.T) {
	const calls, concurrency = 10000, 16
	a := newAPI(t)
	acc := a.createAccount(t, "tmy", "timeseries")
	served := a.issue(t, acc, "tmy", nil)
	disabled := a.issue(t, acc, "tmy", nil)
	want[any](t, a.call(t, "PATCH", "/admin/tokens/"+disabled.ID, acc.Key, map[string]bool{"enabled": false}), http.StatusOK)

	// Call i: seven in ten served, two in ten on the wrong service, one in
	// ten with the disabled token; presented in the query, the header or
	// the path in turn.
	type expect struct {
		status  int
		tokenID string
	}
	plan := func(i int) (service, token string, e expect) {
		switch i % 10 {
		case 7, 8:
			return "timeseries", served.Token, expect{http.StatusForbidden, served.ID}
		case 9:
			return "tmy", disabled.Token, expect{http.StatusUnauthorized, disabled.ID}
		}
		return "tmy", served.Token, expect{http.StatusOK, served.ID}
	}
	next := func(ctx context.Context, i int) (*http.Request, error) {
		service, token, _ := plan(i)
		path, bearer := "/data/"+service+"/hourly", ""
		switch i % 3 {
		case 0:
			path += "?token=" + token
		case 1:
			bearer = token
		case 2:
			path = "/feed/" + token + "/" + service + "/hourly"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url+path, nil)
		if err == nil && bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		return req, err
	}
	var mu sync.Mutex
	byRequest := make(map[string]expect, calls) // the gateway's request ID -> what its record must say
	res, err := loadgen.Run(t.Context(), loadgen.Options{
		Concurrency: concurrency, Requests: calls,
		OnResponse: func(i int, r *http.Response) {
			_, _, e := plan(i)
			mu.Lock()
			defer mu.Unlock()
			byRequest[r.Header.Get("X-Amzn-Requestid")] = e
		},
	}, next)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d calls in %v (%.0f/s)", res.Requests, res.Elapsed, res.Rate())
	wantStatuses := map[int]int{http.StatusOK: 7000, http.StatusForbidden: 2000, http.StatusUnauthorized: 1000}
	if res.Requests != calls || res.Errors != 0 || fmt.Sprint(res.Statuses) != fmt.Sprint(wantStatuses) {
		t.Fatalf("%d calls, %d transport errors (%v), statuses %v; want %d calls answered %v",
			res.Requests, res.Errors, res.FirstError, res.Statuses, calls, wantStatuses)
	}
	if len(byRequest) != calls || byRequest[""] != (expect{}) {
		t.Fatalf("%d distinct request IDs in %d answers", len(byRequest), calls)
	}

	a.flushUsage(t)
	records := a.allUsage(t, acc)
	if len(records) != calls {
		t.Errorf("%d usage records after %d calls, want exactly %d", len(records), calls, calls)
	}
	seen := make(map[string]bool, len(records))
	got := map[int]int{}
	for _, rec := range records {
		e, ok := byRequest[rec.RequestID]
		switch {
		case seen[rec.RequestID]:
			t.Fatalf("request %s recorded twice", rec.RequestID)
		case !ok:
			t.Fatalf("record %+v is of no call the gateway answered", rec)
		case rec.Status != e.status || rec.TokenID != e.tokenID:
			t.Fatalf("request %s recorded as %d with token %s, want %d with %s", rec.RequestID, rec.Status, rec.TokenID, e.status, e.tokenID)
		case strings.Contains(rec.Path, served.Token) || strings.Contains(rec.Path, disabled.Token):
			t.Fatalf("record path %q holds the token", rec.Path)
		}
		seen[rec.RequestID] = true
		got[rec.Status]++
	}
	if fmt.Sprint(got) != fmt.Sprint(wantStatuses) {
		t.Errorf("recorded statuses %v, want %v", got, wantStatuses)
	}
}

// allUsage reads the account's whole usage history through the admin API,
// 100 records a page, following the cursor to the end.
func (a *api) allUsage(t *testing.T, acc account) []usagehandler.RecordView {
	t.Helper()
	var out []usagehandler.RecordView
	q := url.Values{"limit": {"100"}}
	for {
		page := want[usagePage](t, a.call(t, "GET", "/admin/usage?"+q.Encode(), acc.Key, nil), http.StatusOK)
		out = append(out, page.Items...)
		if page.NextCursor == nil {
			return out
		}
		if len(page.Items) == 0 {
			t.Fatal("an empty page with a next cursor")
		}
		q.Set("cursor", *page.NextCursor)
	}
}
