package usage

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/redact"
)

func TestSummaryCountsCallsPerHourByStatusClassAndGroup(t *testing.T) {
	e := newEnv(t)
	acc := id.New(id.Account)
	ok, refused := e.call(acc, "", time.Minute), e.call(acc, "", 2*time.Minute)
	refused.Status = http.StatusForbidden
	e.put(ok, refused, e.call(id.New(id.Account), "", time.Minute))

	resp := e.serve("summary.json", acc, url.Values{"groupBy": {"service"}, "interval": {"hour"}})
	if resp.StatusCode != http.StatusOK || resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	var got SummaryView
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatal(err)
	}
	var c2, c4, total int64
	for _, b := range got.Items {
		if b.Group == nil || *b.Group != "tmy" {
			t.Errorf("bucket group %v, want tmy", b.Group)
		}
		c2, c4, total = c2+b.C2xx, c4+b.C4xx, total+b.Total
	}
	if c2 != 1 || c4 != 1 || total != 2 || got.Interval != "hour" || got.GroupBy == nil || *got.GroupBy != "service" {
		t.Errorf("summary %s", resp.Body)
	}
	if _, err := time.Parse(time.RFC3339, got.From); err != nil || got.To <= got.From {
		t.Errorf("window %s to %s", got.From, got.To)
	}
}

func TestSummaryRefusesWhatItCannotAnswer(t *testing.T) {
	e := newEnv(t)
	for q, code := range map[string]string{
		"interval=week":  "invalid_interval",
		"groupBy=status": "invalid_group_by",
		"from=yesterday": "invalid_from",
		"interval=hour&from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z": "invalid_time_range",
	} {
		v, _ := url.ParseQuery(q)
		resp := e.serve("summary.json", id.New(id.Account), v)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, `"`+code+`"`) {
			t.Errorf("%s: %d %s, want 400 %s", q, resp.StatusCode, resp.Body, code)
		}
	}
}

func TestCSVIsTheSamePageWithTheCursorInALinkHeader(t *testing.T) {
	e := newEnv(t)
	acc := id.New(id.Account)
	first, second := e.call(acc, id.New(id.User), time.Minute), e.call(acc, "", time.Hour)
	first.Query, first.Service = `a="1, 2"&b=3`, "=cmd"
	e.put(first, second)

	resp := e.serve("list.json", acc, url.Values{"format": {"csv"}, "limit": {"1"}})
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Headers["Content-Type"], "text/csv") {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	if !strings.Contains(resp.Body, "\r\n") {
		t.Error("lines do not end in CRLF (RFC 4180)")
	}
	rows, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("rows %q", rows)
	}
	if row := rows[1]; row[1] != first.RequestID || row[7] != first.Query || row[4] != "'=cmd" || row[3] != first.UserID {
		t.Errorf("row %q", row)
	}
	link := regexp.MustCompile(`^<(/prod/admin/usage\?[^>]+)>; rel="next"$`).FindStringSubmatch(resp.Headers["Link"])
	if link == nil {
		t.Fatalf("Link header %q", resp.Headers["Link"])
	}
	next, err := url.Parse(link[1])
	if err != nil {
		t.Fatal(err)
	}
	resp = e.serve("list.json", acc, next.Query())
	rows, err = csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][1] != second.RequestID {
		t.Fatalf("next page: %v %q", err, rows)
	}
	if resp.Headers["Link"] != "" {
		t.Errorf("the last page links on: %s", resp.Headers["Link"])
	}
	if bad := e.serve("list.json", acc, url.Values{"format": {"xml"}}); bad.StatusCode != http.StatusBadRequest {
		t.Errorf("format=xml: %d", bad.StatusCode)
	}
}

// TestKeyBoundFiltersAreLengthCheckedOnBothRoutes: a tokenId, userId or
// service no record can hold (longer than a key part may be, or holding
// the key separator) is a 400 naming the filter on the list and on the
// summary with every groupBy, never a 5xx from a key DynamoDB refuses.
func TestKeyBoundFiltersAreLengthCheckedOnBothRoutes(t *testing.T) {
	e := newEnv(t)
	acc := id.New(id.Account)
	long := strings.Repeat("x", 1000)
	for _, tc := range []struct{ param, value, code string }{
		{"tokenId", long, "invalid_token_id"},
		{"tokenId", "tok_" + strings.Repeat("a", redact.MaxField), "invalid_token_id"},
		{"tokenId", "tok_a#b", "invalid_token_id"},
		{"userId", long, "invalid_user_id"},
		{"userId", "usr_\x01", "invalid_user_id"},
		{"service", strings.Repeat("s", redact.MaxService+1), "invalid_service"},
		{"service", "a#b", "invalid_service"},
	} {
		for _, route := range []struct{ fixture, groupBy string }{{"list.json", ""}, {"summary.json", ""}, {"summary.json", "token"}, {"summary.json", "user"}, {"summary.json", "service"}} {
			v := url.Values{tc.param: {tc.value}}
			if route.groupBy != "" {
				v.Set("groupBy", route.groupBy)
			}
			resp := e.serve(route.fixture, acc, v)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, `"`+tc.code+`"`) {
				t.Errorf("%s %s=%.20q…: %d %.200s, want 400 %s", route.fixture, tc.param, tc.value, resp.StatusCode, resp.Body, tc.code)
			}
		}
	}
	// An identifier of the longest key part is an answer, empty.
	for _, fixture := range []string{"list.json", "summary.json"} {
		resp := e.serve(fixture, acc, url.Values{"tokenId": {strings.Repeat("t", redact.MaxField)}, "groupBy": {"token"}})
		if fixture == "list.json" {
			resp = e.serve(fixture, acc, url.Values{"tokenId": {strings.Repeat("t", redact.MaxField)}})
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s with a %d-character tokenId: %d %.200s", fixture, redact.MaxField, resp.StatusCode, resp.Body)
		}
	}
}
