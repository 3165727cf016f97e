package stack

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	usagehandler "github.com/acmedata/tokenservice/pkg/handlers/usage"
	"github.com/acmedata/tokenservice/pkg/httpapi"
)

// usagePage is one page of GET /admin/usage.
type usagePage = httpapi.List[usagehandler.RecordView]

// TestDataCallsAreRecordedInUsageWithoutTheToken drives the data routes
// with every presentation of a token, and checks that each call, served
// or refused, reaches the account's usage history through the access-log
// pipeline, recorded by the path and query called, never with the token.
func TestDataCallsAreRecordedInUsageWithoutTheToken(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	other := a.issue(t, acc, "tmy", nil)

	for _, tc := range []struct {
		name, path, credential string
		status                 int
	}{
		{"query", "/data/tmy/hourly?token=" + tok.Token + "&from=2025-03-01", "", 200},
		{"path", "/feed/" + tok.Token + "/tmy/hourly", "", 200},
		{"header", "/data/tmy/hourly", tok.Token, 200},
		{"same token twice", "/data/tmy/hourly?token=" + tok.Token, tok.Token, 200},
		{"two different tokens", "/data/tmy/hourly?token=" + tok.Token, other.Token, 401},
		{"wrong service", "/data/timeseries/hourly?token=" + tok.Token, "", 403},
		{"none", "/data/tmy/hourly", "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.call(t, "GET", tc.path, tc.credential, nil)
			if tc.status != http.StatusOK {
				wantError(t, r, tc.status, "")
				return
			}
			want[any](t, r, http.StatusOK)
		})
	}

	// Five calls carry tok alone: four served, one refused with 403.
	a.flushUsage(t)
	records := want[usagePage](t, a.call(t, "GET", "/admin/usage?tokenId="+tok.ID, acc.Key, nil), http.StatusOK).Items
	statuses, calls := map[int]int{}, map[string]int{}
	for _, rec := range records {
		statuses[rec.Status]++
		calls[rec.Path+"?"+rec.Query]++
		if strings.Contains(rec.Path+rec.Query, tok.Token) {
			t.Errorf("usage path %q query %q hold the token", rec.Path, rec.Query)
		}
		if rec.RequestID == "" || rec.TokenID != tok.ID {
			t.Errorf("record %+v", rec)
		}
	}
	if statuses[200] != 4 || statuses[403] != 1 || len(records) != 5 {
		t.Errorf("recorded statuses %v over %d records, want four 200s and one 403", statuses, len(records))
	}
	wantCalls := map[string]int{
		"/data/tmy/hourly?from=2025-03-01": 1, "/feed/{token}/tmy/hourly?": 1, "/data/tmy/hourly?": 2, "/data/timeseries/hourly?": 1,
	}
	if fmt.Sprint(calls) != fmt.Sprint(wantCalls) {
		t.Errorf("recorded paths and queries %v, want %v", calls, wantCalls)
	}
}

// TestATokenInTheServiceSegmentIsNeverStoredNorLogged (issue 11): a token
// sent as the {service} segment, with the same token as Bearer, is refused
// and recorded with no service (the segment is not in the catalogue, so it
// goes no further than the authorizer) and the path and decision line
// redacted; the secret scan at cleanup proves no table holds it.
func TestATokenInTheServiceSegmentIsNeverStoredNorLogged(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	wantError(t, a.call(t, "GET", "/data/"+tok.Token+"/hourly?x="+tok.Token, tok.Token, nil), http.StatusForbidden, "")
	wantError(t, a.call(t, "GET", "/data/"+strings.Repeat("s", 2000)+"/hourly", tok.Token, nil), http.StatusForbidden, "")
	a.flushUsage(t)
	records := want[usagePage](t, a.call(t, "GET", "/admin/usage?tokenId="+tok.ID, acc.Key, nil), http.StatusOK).Items
	if len(records) != 2 {
		t.Fatalf("%d records, want both refused calls", len(records))
	}
	for _, rec := range records {
		if strings.Contains(rec.Path+rec.Query, tok.Token) || rec.Service != "" {
			t.Errorf("record %+v holds the token or a service outside the catalogue", rec)
		}
	}
	if strings.Contains(a.logs.String(), tok.Token) {
		t.Error("a log line holds the token")
	}
}

// TestRefusedCallsOfAKnownTokenAreRecorded: a disabled token's call is a
// 401 and still appears in usage, via the authorizer's decision line.
func TestRefusedCallsOfAKnownTokenAreRecorded(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	want[any](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]bool{"enabled": false}), http.StatusOK)
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusUnauthorized {
		t.Fatalf("disabled token: %d", got)
	}
	a.flushUsage(t)
	page := want[usagePage](t, a.call(t, "GET", "/admin/usage?tokenId="+tok.ID, acc.Key, nil), http.StatusOK)
	if len(page.Items) != 1 || page.Items[0].Status != http.StatusUnauthorized {
		t.Errorf("usage of the disabled token: %+v, want one 401", page.Items)
	}
}

// TestUsageFiltersByStatusOrClassThroughTheStack: served, forbidden and
// unauthorised calls of one account are told apart by status=, one status
// or a class, in JSON and CSV, page after page; a bad status is a 400.
func TestUsageFiltersByStatusOrClassThroughTheStack(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	disabled := a.issue(t, acc, "tmy", nil)
	for range 2 {
		want[any](t, a.call(t, "GET", "/data/tmy/hourly?token="+tok.Token, "", nil), http.StatusOK)
		wantError(t, a.call(t, "GET", "/data/timeseries/hourly?token="+tok.Token, "", nil), http.StatusForbidden, "")
	}
	want[any](t, a.call(t, "PATCH", "/admin/tokens/"+disabled.ID, acc.Key, map[string]bool{"enabled": false}), http.StatusOK)
	wantError(t, a.call(t, "GET", "/data/tmy/hourly?token="+disabled.Token, "", nil), http.StatusUnauthorized, "")
	a.flushUsage(t)

	for _, tc := range []struct {
		status string
		want   map[int]int
	}{
		{"200", map[int]int{200: 2}}, {"403", map[int]int{403: 2}}, {"401", map[int]int{401: 1}},
		{"4xx", map[int]int{403: 2, 401: 1}}, {"4XX", map[int]int{403: 2, 401: 1}}, {"2xx", map[int]int{200: 2}},
		{"5xx", map[int]int{}}, {"", map[int]int{200: 2, 403: 2, 401: 1}},
	} {
		got := map[int]int{}
		path := "/admin/usage?limit=1&status=" + tc.status
		for pages := 0; ; pages++ {
			page := want[usagePage](t, a.call(t, "GET", path, acc.Key, nil), http.StatusOK)
			for _, rec := range page.Items {
				got[rec.Status]++
			}
			if page.NextCursor == nil || pages > 10 {
				break
			}
			path = "/admin/usage?limit=1&status=" + tc.status + "&cursor=" + *page.NextCursor
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("status=%s: %v, want %v", tc.status, got, tc.want)
		}
	}
	csv := a.call(t, "GET", "/admin/usage?format=csv&status=4xx", acc.Key, nil)
	if body := string(csv.Body); csv.Status != http.StatusOK || strings.Count(body, "\r\n") != 4 || strings.Contains(body, ",200,") {
		t.Errorf("CSV of 4xx: %d\n%s", csv.Status, body)
	}
	for _, bad := range []string{"abc", "99", "600", "6xx", "4x"} {
		wantError(t, a.call(t, "GET", "/admin/usage?status="+bad, acc.Key, nil), http.StatusBadRequest, "invalid_status")
	}
}

// TestFollowingTheCSVNextLinkReadsEveryPage: a spreadsheet user or a script
// follows the Link header of a CSV page (RFC 8288, resolved against the
// URL it asked) and gets the next page, to the last one, which has none.
// The local stack has no stage in its URLs, so neither has its link; the
// handler's tests hold the stage prefix of an execute-api address.
func TestFollowingTheCSVNextLinkReadsEveryPage(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	for range 5 {
		want[any](t, a.call(t, "GET", "/data/tmy/hourly?token="+tok.Token, "", nil), http.StatusOK)
	}
	a.flushUsage(t)

	next, err := url.Parse(a.url + "/admin/usage?format=csv&limit=2&tokenId=" + tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	var rows, pages int
	for next != nil {
		if pages++; pages > 5 {
			t.Fatal("the links never end")
		}
		req, err := http.NewRequestWithContext(t.Context(), "GET", next.String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+acc.Key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("page %d at %s: %d %v %s", pages, next, res.StatusCode, err, body)
		}
		records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil || len(records) < 2 || records[0][0] != "time" {
			t.Fatalf("page %d at %s: %v\n%s", pages, next, err, body)
		}
		rows += len(records) - 1
		next = nil
		if link := res.Header.Get("Link"); link != "" {
			m := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(link)
			if m == nil {
				t.Fatalf("page %d: Link %q", pages, link)
			}
			ref, err := url.Parse(m[1])
			if err != nil {
				t.Fatal(err)
			}
			next = res.Request.URL.ResolveReference(ref)
		}
	}
	if rows != 5 || pages != 3 {
		t.Errorf("followed %d pages with %d calls, want 3 pages with 5", pages, rows)
	}
}
