package usage

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
	"github.com/acmedata/tokenservice/pkg/usage"
	"github.com/acmedata/tokenservice/pkg/usagestore"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

type env struct {
	t       *testing.T
	store   *usagestore.Store
	handler *httpapi.Router
	now     time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store, err := usagestore.New(dynamotest.Client(t), dynamotest.Tables(t)[schema.Usage.ID])
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: store, handler: h, now: time.Now().UTC().Truncate(time.Millisecond)}
}

func (e *env) put(recs ...usage.Record) {
	e.t.Helper()
	if err := e.store.PutRecords(e.t.Context(), recs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) call(accountID, userID string, ago time.Duration) usage.Record {
	return usage.Record{
		Time: e.now.Add(-ago), RequestID: id.New("req_"), AccountID: accountID, TokenID: id.New(id.Token), UserID: userID,
		Service: "tmy", Method: "GET", Path: "/feed/{token}/{service}/{proxy+}", Status: 200, LatencyMs: 8, SourceIP: "203.0.113.9",
	}
}

// get sends the fixture GET /admin/usage for accountID with query q.
func (e *env) get(accountID string, q url.Values) (int, map[string]json.RawMessage) {
	e.t.Helper()
	resp := e.serve("list.json", accountID, q)
	var body map[string]json.RawMessage
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		e.t.Fatalf("body %q: %v", resp.Body, err)
	}
	return resp.StatusCode, body
}

// serve sends the fixture events/usage/<fixture> for accountID with query q.
func (e *env) serve(fixture, accountID string, q url.Values) events.APIGatewayProxyResponse {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "usage", fixture))
	if err != nil {
		e.t.Fatal(err)
	}
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(b, &req); err != nil {
		e.t.Fatal(err)
	}
	req.RequestContext.Authorizer["accountId"] = accountID
	req.QueryStringParameters, req.MultiValueQueryStringParameters = map[string]string{}, map[string][]string(q)
	for k, vs := range q {
		req.QueryStringParameters[k] = vs[len(vs)-1]
	}
	resp, err := e.handler.Serve(e.t.Context(), req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func TestUsageListsTheAccountsCallsNewestFirstAcrossPages(t *testing.T) {
	e := newEnv(t)
	acc := id.New(id.Account)
	user := id.New(id.User)
	newer, older := e.call(acc, user, time.Minute), e.call(acc, "", time.Hour)
	e.put(newer, older, e.call(id.New(id.Account), "", time.Second))

	var got []RecordView
	q := url.Values{"limit": {"1"}}
	for range 3 {
		status, body := e.get(acc, q)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body["error"])
		}
		var items []RecordView
		if err := json.Unmarshal(body["items"], &items); err != nil {
			t.Fatal(err)
		}
		got = append(got, items...)
		var next *string
		_ = json.Unmarshal(body["nextCursor"], &next)
		if next == nil {
			break
		}
		q.Set("cursor", *next)
	}
	if len(got) != 2 || got[0].RequestID != newer.RequestID || got[1].RequestID != older.RequestID {
		t.Fatalf("got %+v, want the account's two calls newest first", got)
	}
	want := RecordView{Time: newer.Time.Format("2006-01-02T15:04:05.000Z"), RequestID: newer.RequestID, TokenID: newer.TokenID, UserID: &user,
		Service: "tmy", Method: "GET", Path: "/feed/{token}/{service}/{proxy+}", Status: 200, LatencyMs: 8, SourceIP: "203.0.113.9"}
	if g := got[0]; g.Time != want.Time || *g.UserID != user || g.Path != want.Path || g.Status != 200 || g.LatencyMs != 8 || g.SourceIP != want.SourceIP {
		t.Errorf("record %+v, want %+v", g, want)
	}
	if got[1].UserID != nil {
		t.Errorf("userless call shows user %q", *got[1].UserID)
	}
}

func TestUsageRefusesBadFiltersWith400(t *testing.T) {
	e := newEnv(t)
	acc := id.New(id.Account)
	for _, tc := range []struct {
		name string
		q    url.Values
		code string
	}{
		{"bad from", url.Values{"from": {"yesterday"}}, "invalid_from"},
		{"bad to", url.Values{"to": {"2025-13-01T00:00:00Z"}}, "invalid_to"},
		{"from after to", url.Values{"from": {"2025-03-02T00:00:00Z"}, "to": {"2025-03-01T00:00:00Z"}}, "invalid_time_range"},
		{"limit too big", url.Values{"limit": {"101"}}, "invalid_limit"},
		{"bad cursor", url.Values{"cursor": {"bm90IGEgY3Vyc29y"}}, "bad_cursor"},
		{"two services", url.Values{"service": {"tmy", "timeseries"}}, "invalid_service"},
		{"status not a number", url.Values{"status": {"abc"}}, "invalid_status"},
		{"status below 100", url.Values{"status": {"99"}}, "invalid_status"},
		{"status above 599", url.Values{"status": {"600"}}, "invalid_status"},
		{"no such class", url.Values{"status": {"6xx"}}, "invalid_status"},
		{"two statuses", url.Values{"status": {"403", "401"}}, "invalid_status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.get(acc, tc.q)
			if status != http.StatusBadRequest || !strings.Contains(string(body["error"]), `"`+tc.code+`"`) {
				t.Errorf("status %d, error %s; want 400 %s", status, body["error"], tc.code)
			}
		})
	}
}

func TestUsageWithoutAnAuthenticatedAccountIsRefused(t *testing.T) {
	e := newEnv(t)
	if status, _ := e.get("", nil); status != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", status)
	}
}

func TestNewRefusesNilHistory(t *testing.T) {
	if _, err := New(nil, nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

func TestUsageFiltersByStatusOrClassInJSONAndCSV(t *testing.T) {
	e := newEnv(t)
	acc := id.New(id.Account)
	var calls []usage.Record
	for i, status := range []int{200, 403, 401, 500, 403} {
		c := e.call(acc, "", time.Duration(i+1)*time.Minute)
		c.Status = status
		calls = append(calls, c)
	}
	e.put(calls...)
	for q, want := range map[string][]usage.Record{
		"403": {calls[1], calls[4]},
		"4xx": {calls[1], calls[2], calls[4]},
		"5xx": {calls[3]},
		"2XX": {calls[0]},
		"302": nil,
	} {
		status, body := e.get(acc, url.Values{"status": {q}})
		var items []RecordView
		if err := json.Unmarshal(body["items"], &items); status != http.StatusOK || err != nil {
			t.Fatalf("status=%s: %d %s", q, status, body["error"])
		}
		var got, wantIDs []string
		for _, it := range items {
			got = append(got, it.RequestID)
		}
		for _, c := range want {
			wantIDs = append(wantIDs, c.RequestID)
		}
		if strings.Join(got, ",") != strings.Join(wantIDs, ",") {
			t.Errorf("status=%s: got %v, want %v", q, got, wantIDs)
		}
	}
	resp := e.serve("list.json", acc, url.Values{"status": {"4xx"}, "format": {"csv"}, "limit": {"2"}})
	rows, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][1] != calls[1].RequestID || rows[2][8] != "401" {
		t.Fatalf("CSV of 4xx: %v %q", err, rows)
	}
	link := regexp.MustCompile(`^<(/prod/admin/usage\?[^>]+)>; rel="next"$`).FindStringSubmatch(resp.Headers["Link"])
	if link == nil {
		t.Fatalf("Link header %q", resp.Headers["Link"])
	}
	next, err := url.Parse(link[1])
	if err != nil || next.Query().Get("status") != "4xx" {
		t.Fatalf("the next page's link %q drops the status filter", link[1])
	}
	rows, err = csv.NewReader(strings.NewReader(e.serve("list.json", acc, next.Query()).Body)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][1] != calls[4].RequestID {
		t.Errorf("next CSV page of 4xx: %v %q", err, rows)
	}
}
