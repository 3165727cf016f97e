package usagestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
	"github.com/acmedata/tokenservice/pkg/usage"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

type env struct {
	ctx    context.Context
	client *dynamodb.Client
	table  string
	store  *Store
	now    time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	client := dynamotest.Client(t)
	table := dynamotest.Tables(t)[schema.Usage.ID]
	now := time.Now().UTC().Truncate(time.Millisecond)
	s, err := New(client, table, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	return &env{ctx: t.Context(), client: client, table: table, store: s, now: now}
}

func newID(t *testing.T) string {
	t.Helper()
	return id.New("t")
}

// record makes a call of tokenID at e.now minus ago.
func (e *env) record(t *testing.T, accountID, tokenID, userID, service string, ago time.Duration) usage.Record {
	return usage.Record{
		Time: e.now.Add(-ago), RequestID: newID(t), AccountID: accountID, TokenID: tokenID, UserID: userID,
		Service: service, Method: "GET", Path: "/data/{service}/{proxy+}", Status: 200, LatencyMs: 12, SourceIP: "198.51.100.4",
	}
}

func (e *env) put(t *testing.T, recs ...usage.Record) {
	t.Helper()
	if err := e.store.PutRecords(e.ctx, recs); err != nil {
		t.Fatal(err)
	}
}

// all reads every page of a query.
func (e *env) all(t *testing.T, accountID string, f usage.Filter, limit int) []usage.Record {
	t.Helper()
	var out []usage.Record
	page := paging.Request{Limit: limit}
	for i := 0; ; i++ {
		p, err := e.store.Records(e.ctx, accountID, f, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > limit {
			t.Fatalf("page of %d items, limit %d", len(p.Items), limit)
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out
		}
		if i > 1000 {
			t.Fatal("pagination does not end")
		}
		page.Cursor = p.NextCursor
	}
}

// rawItems reads every item of the table; a test may scan, a request path never does.
func (e *env) rawItems(t *testing.T) []map[string]types.AttributeValue {
	t.Helper()
	out, err := e.client.Scan(e.ctx, &dynamodb.ScanInput{TableName: aws.String(e.table)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Items
}

func requestIDs(recs []usage.Record) []string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.RequestID
	}
	return ids
}

func TestRecordsPagesNewestFirstAcrossShards(t *testing.T) {
	e := newEnv(t)
	acc, tok := newID(t), newID(t)
	var want []usage.Record
	for i := range 23 {
		want = append(want, e.record(t, acc, tok, "", "tmy", time.Duration(i)*time.Minute))
	}
	e.put(t, want...)
	for _, limit := range []int{1, 5, 23, 100} {
		got := e.all(t, acc, usage.Filter{}, limit)
		if fmt.Sprint(requestIDs(got)) != fmt.Sprint(requestIDs(want)) {
			t.Errorf("limit %d: got %v\nwant %v", limit, requestIDs(got), requestIDs(want))
		}
	}
	if got := e.all(t, acc, usage.Filter{}, 100)[0]; got != want[0] {
		t.Errorf("record read back differs:\n got %+v\nwant %+v", got, want[0])
	}
}

func TestRecordsFilterByTokenUserServiceAndTime(t *testing.T) {
	e := newEnv(t)
	acc, tokA, tokB, user := newID(t), newID(t), newID(t), newID(t)
	a1 := e.record(t, acc, tokA, user, "tmy", time.Hour)
	a2 := e.record(t, acc, tokA, user, "tmy", 3*time.Hour)
	b1 := e.record(t, acc, tokB, "", "timeseries", 2*time.Hour)
	e.put(t, a1, a2, b1)
	for _, tc := range []struct {
		name string
		f    usage.Filter
		want []usage.Record
	}{
		{"everything", usage.Filter{}, []usage.Record{a1, b1, a2}},
		{"by token", usage.Filter{TokenID: tokA}, []usage.Record{a1, a2}},
		{"by user", usage.Filter{UserID: user}, []usage.Record{a1, a2}},
		{"by service", usage.Filter{Service: "timeseries"}, []usage.Record{b1}},
		{"by token and other service", usage.Filter{TokenID: tokA, Service: "timeseries"}, nil},
		{"from", usage.Filter{From: e.now.Add(-2 * time.Hour)}, []usage.Record{a1, b1}},
		{"to", usage.Filter{To: e.now.Add(-2 * time.Hour)}, []usage.Record{b1, a2}},
		{"window on a user", usage.Filter{UserID: user, From: e.now.Add(-4 * time.Hour), To: e.now.Add(-2 * time.Hour)}, []usage.Record{a2}},
		{"unknown token", usage.Filter{TokenID: newID(t)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.all(t, acc, tc.f, 2)
			if fmt.Sprint(requestIDs(got)) != fmt.Sprint(requestIDs(tc.want)) {
				t.Errorf("got %v, want %v", requestIDs(got), requestIDs(tc.want))
			}
		})
	}
}

func TestRecordsNeverReturnAnotherAccountsCalls(t *testing.T) {
	e := newEnv(t)
	mine, theirs, user := newID(t), newID(t), newID(t)
	tok := newID(t)
	e.put(t, e.record(t, theirs, tok, user, "tmy", time.Minute))
	for _, f := range []usage.Filter{{}, {TokenID: tok}, {UserID: user}, {Service: "tmy"}} {
		if got := e.all(t, mine, f, 10); len(got) != 0 {
			t.Errorf("filter %+v: another account's records leaked: %v", f, requestIDs(got))
		}
	}
}

func TestRecordsNeverOlderThanSevenDaysEvenBeforeTTLDeletes(t *testing.T) {
	e := newEnv(t)
	acc, tok := newID(t), newID(t)
	fresh := e.record(t, acc, tok, "", "tmy", usage.Retention-time.Minute)
	old := e.record(t, acc, tok, "", "tmy", usage.Retention+time.Minute)
	e.put(t, fresh)
	// Insert the old record directly, as it would sit in the table between
	// its expiry and TTL's sweep.
	av, err := Item(old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: av}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []usage.Filter{{}, {TokenID: tok}, {Service: "tmy"}, {From: e.now.Add(-30 * 24 * time.Hour)}} {
		got := e.all(t, acc, f, 10)
		if fmt.Sprint(requestIDs(got)) != fmt.Sprint([]string{fresh.RequestID}) {
			t.Errorf("filter %+v: got %v, want only the fresh record", f, requestIDs(got))
		}
	}
}

func TestPutRecordsIsIdempotentByRequestID(t *testing.T) {
	e := newEnv(t)
	acc, tok := newID(t), newID(t)
	r1, r2 := e.record(t, acc, tok, "", "tmy", time.Second), e.record(t, acc, tok, "", "tmy", 2*time.Second)
	e.put(t, r1, r2, r1) // a line delivered twice within one batch
	e.put(t, r2, r1)     // and a whole batch delivered again
	if got := e.all(t, acc, usage.Filter{}, 100); len(got) != 2 {
		t.Errorf("%d records after redelivery, want 2", len(got))
	}
}

func TestItemsExpireByEpochSecondsTTLAndHoldNoToken(t *testing.T) {
	e := newEnv(t)
	r := e.record(t, newID(t), newID(t), "", "tmy", 0)
	r.Path = "/feed/46a4eccec1414feab118287f5af26f03/tmy/hourly"
	e.put(t, r)
	var items []map[string]types.AttributeValue
	for _, it := range e.rawItems(t) {
		if pk := it[attrPK].(*types.AttributeValueMemberS).Value; !strings.HasPrefix(pk, countPrefix) {
			items = append(items, it)
		} else if _, ok := it[schema.Usage.TTLAttribute].(*types.AttributeValueMemberN); !ok {
			t.Errorf("count item %s has no TTL", pk)
		}
	}
	if len(items) != 1 {
		t.Fatalf("%d record items", len(items))
	}
	ttl, ok := items[0][schema.Usage.TTLAttribute].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("%s is %T, TTL needs a number", schema.Usage.TTLAttribute, items[0][schema.Usage.TTLAttribute])
	}
	if want := fmt.Sprint(r.Time.Add(7 * 24 * time.Hour).Unix()); ttl.Value != want {
		t.Errorf("expiresAt = %s, want call time + 7 days = %s", ttl.Value, want)
	}
	tokenLike := regexp.MustCompile(`[0-9a-f]{32}`)
	for name, v := range items[0] {
		if s, ok := v.(*types.AttributeValueMemberS); ok && tokenLike.MatchString(s.Value) {
			t.Errorf("attribute %s holds a token-shaped value: %q", name, s.Value)
		}
	}
}

func TestRecordsRefuseForeignCursors(t *testing.T) {
	e := newEnv(t)
	acc, tok := newID(t), newID(t)
	e.put(t, e.record(t, acc, tok, "", "tmy", time.Second), e.record(t, acc, tok, "", "tmy", 2*time.Second))
	p, err := e.store.Records(e.ctx, acc, usage.Filter{}, paging.Request{Limit: 1})
	if err != nil || p.NextCursor == "" {
		t.Fatalf("first page: %v, cursor %q", err, p.NextCursor)
	}
	for name, tc := range map[string]struct {
		acc    string
		f      usage.Filter
		cursor string
	}{
		"another account": {newID(t), usage.Filter{}, p.NextCursor},
		"another filter":  {acc, usage.Filter{Service: "tmy"}, p.NextCursor},
		"garbage":         {acc, usage.Filter{}, "not-a-cursor!"},
		// Forged in the cursor's own format: refused before the store,
		// which would fail on a key over its size limit.
		"sort key over DynamoDB's 1,024 bytes": {acc, usage.Filter{}, paging.EncodeCursor(queryID(acc, usage.Filter{}), "1700000000000#"+strings.Repeat("r", 1100))},
		"sort key of another shape":            {acc, usage.Filter{}, paging.EncodeCursor(queryID(acc, usage.Filter{}), "~~~")},
		"two keys":                             {acc, usage.Filter{}, paging.EncodeCursor(queryID(acc, usage.Filter{}), "1700000000000#a", "b")},
	} {
		if _, err := e.store.Records(e.ctx, tc.acc, tc.f, paging.Request{Limit: 1, Cursor: tc.cursor}); !errors.Is(err, paging.ErrBadCursor) {
			t.Errorf("%s: %v, want ErrBadCursor", name, err)
		}
	}
}

// stingyAPI processes only the first item of each BatchWriteItem and
// returns the rest as unprocessed, as DynamoDB does under throttling.
type stingyAPI struct {
	API
	mu    sync.Mutex
	calls int
}

func (s *stingyAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	for table, reqs := range in.RequestItems {
		if _, err := s.API.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs[:1]}}, opts...); err != nil {
			return nil, err
		}
		if len(reqs) > 1 {
			return &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{table: reqs[1:]}}, nil
		}
	}
	return &dynamodb.BatchWriteItemOutput{}, nil
}

func TestPutRecordsRetriesUnprocessedItems(t *testing.T) {
	e := newEnv(t)
	api := &stingyAPI{API: e.client}
	s, err := New(api, e.table)
	if err != nil {
		t.Fatal(err)
	}
	acc := newID(t)
	var recs []usage.Record
	for i := range 8 {
		recs = append(recs, e.record(t, acc, newID(t), "", "tmy", time.Duration(i)*time.Second))
	}
	if err := s.PutRecords(e.ctx, recs); err != nil {
		t.Fatal(err)
	}
	if got := e.all(t, acc, usage.Filter{}, 100); len(got) != len(recs) {
		t.Errorf("%d records stored, want %d", len(got), len(recs))
	}
	if api.calls != len(recs) {
		t.Errorf("%d BatchWriteItem calls, want one per item as each retry writes one", api.calls)
	}
}

func TestNewRefusesMissingDependencies(t *testing.T) {
	if _, err := New(nil, "t"); err == nil {
		t.Error("New(nil client) succeeded")
	}
	if _, err := New(&dynamodb.Client{}, ""); err == nil {
		t.Error("New with no table succeeded")
	}
}

// TestItemsAreWhatPutRecordsLeaves holds the benchmark's raw baseline to
// the store: Items lists exactly the items (packs, count totals, markers)
// that PutRecords leaves in a fresh table, attribute for attribute.
func TestItemsAreWhatPutRecordsLeaves(t *testing.T) {
	e := newEnv(t)
	acc, user := newID(t), newID(t)
	var recs []usage.Record
	for i := range 300 {
		r := e.record(t, acc, fmt.Sprintf("tok_%03d", i%120), "", []string{"tmy", "timeseries"}[i%2], time.Duration(i)*20*time.Second)
		if i%3 == 0 {
			r.UserID = user
		}
		r.Status = []int{200, 403, 401}[i%3]
		recs = append(recs, r)
	}
	e.put(t, recs...)
	want, err := Items(recs)
	if err != nil {
		t.Fatal(err)
	}
	show := func(items []map[string]types.AttributeValue) []string {
		var out []string
		for _, it := range items {
			var attrs []string
			for name, v := range it {
				if ss, ok := v.(*types.AttributeValueMemberSS); ok {
					attrs = append(attrs, fmt.Sprintf("%s=%v", name, slices.Sorted(slices.Values(ss.Value))))
				} else {
					attrs = append(attrs, fmt.Sprintf("%s=%v", name, v))
				}
			}
			slices.Sort(attrs)
			out = append(out, strings.Join(attrs, " "))
		}
		slices.Sort(out)
		return out
	}
	got, w := show(e.rawItems(t)), show(want)
	if len(w) < 20 || !slices.Equal(got, w) {
		t.Errorf("the table holds %d items, Items lists %d; first difference:", len(got), len(w))
		for i := range min(len(got), len(w)) {
			if got[i] != w[i] {
				t.Errorf("table %s\nItems %s", got[i], w[i])
				break
			}
		}
	}
}

func TestRecordsFilterByStatusOrClassNewestFirstAcrossPages(t *testing.T) {
	e := newEnv(t)
	acc, tok, other := newID(t), newID(t), newID(t)
	statuses := []int{200, 403, 401, 200, 403, 500, 403, 302, 404, 200}
	var recs []usage.Record
	for i, status := range statuses {
		r := e.record(t, acc, tok, "", "tmy", time.Duration(i)*7*time.Second) // packs of mixed statuses
		if i%2 == 1 {
			r.TokenID = other
		}
		r.Status = status
		recs = append(recs, r)
	}
	e.put(t, recs...)
	// Packs written before packs held their statuses are filtered call by call.
	legacy := e.record(t, acc, tok, "", "tmy", 30*time.Minute)
	legacy.Status = 403
	av, err := Item(legacy)
	if err != nil {
		t.Fatal(err)
	}
	delete(av, attrStatuses)
	if _, err := e.client.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: av}); err != nil {
		t.Fatal(err)
	}
	recs = append(recs, legacy)
	want := func(f usage.Filter) []string {
		var out []string
		for _, r := range recs {
			if f.Status.Matches(r.Status) && (f.TokenID == "" || r.TokenID == f.TokenID) {
				out = append(out, r.RequestID)
			}
		}
		return out
	}
	status := func(s string) usage.Status {
		st, err := usage.ParseStatus(s)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	for _, f := range []usage.Filter{
		{Status: status("403")}, {Status: status("4xx")}, {Status: status("2xx")}, {Status: status("5xx")},
		{Status: status("418")}, {Status: status("403"), TokenID: tok}, {Status: status("4xx"), TokenID: other},
	} {
		if len(want(f)) == 0 && f.Status.String() != "418" {
			t.Fatalf("filter %s matches nothing: the test proves nothing", f.Status)
		}
		for _, limit := range []int{1, 2, 100} {
			if got := requestIDs(e.all(t, acc, f, limit)); fmt.Sprint(got) != fmt.Sprint(want(f)) {
				t.Errorf("status %s token %q limit %d: got %v, want %v", f.Status, f.TokenID, limit, got, want(f))
			}
		}
	}
	// A cursor is bound to its status filter.
	p, err := e.store.Records(e.ctx, acc, usage.Filter{Status: status("4xx")}, paging.Request{Limit: 1})
	if err != nil || p.NextCursor == "" {
		t.Fatalf("first page: %v, cursor %q", err, p.NextCursor)
	}
	for _, f := range []usage.Filter{{}, {Status: status("403")}, {Status: status("5xx")}} {
		if _, err := e.store.Records(e.ctx, acc, f, paging.Request{Limit: 1, Cursor: p.NextCursor}); !errors.Is(err, paging.ErrBadCursor) {
			t.Errorf("a 4xx cursor read with status %q: %v, want ErrBadCursor", f.Status, err)
		}
	}
}
