package usagestore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/usage"
)

// summarise is Summary that fails the test on error.
func (e *env) summarise(t *testing.T, acc string, q usage.SummaryQuery) []usage.Bucket {
	t.Helper()
	got, err := e.store.Summary(e.ctx, acc, q)
	if err != nil {
		t.Fatal(err)
	}
	return got.Buckets
}

func bucketsString(bs []usage.Bucket) string {
	s := ""
	for _, b := range bs {
		s += fmt.Sprintf("[%s %q 2xx=%d 4xx=%d 5xx=%d n=%d]", b.Start.Format("01-02T15"), b.Group, b.Counts.Class2xx, b.Counts.Class4xx, b.Counts.Class5xx, b.Counts.Total)
	}
	return s
}

func TestCountsAreHourlyAndARedeliveredBatchCountsOnce(t *testing.T) {
	e := newEnv(t)
	acc, tok := newID(t), newID(t)
	var recs []usage.Record
	for i, status := range []int{200, 200, 403, 401, 500, 302} {
		r := e.record(t, acc, tok, "", "tmy", time.Duration(i)*time.Second)
		r.Status = status
		recs = append(recs, r)
	}
	e.put(t, recs...)
	e.put(t, recs...) // the same batch again
	slices.Reverse(recs)
	e.put(t, recs...) // and in another order
	got := e.summarise(t, acc, usage.SummaryQuery{Interval: usage.Hour})
	var total usage.Counts
	for _, b := range got {
		total = total.Add(b.Counts)
	}
	if want := (usage.Counts{Class2xx: 2, Class4xx: 2, Class5xx: 1, Total: 6}); total != want {
		t.Errorf("counts %s, want %+v once", bucketsString(got), want)
	}
}

func TestSummaryGroupsAndFilters(t *testing.T) {
	e := newEnv(t)
	acc, user, tokA, tokB := newID(t), newID(t), newID(t), newID(t)
	hour := e.now.Truncate(time.Hour)
	if e.now.Sub(hour) < 3*time.Minute {
		hour = hour.Add(-time.Hour) // keep every call of "this hour" inside it
	}
	at := func(h int) time.Duration { return e.now.Sub(hour.Add(time.Duration(-h)*time.Hour + time.Minute)) }
	e.put(t,
		e.record(t, acc, tokA, user, "tmy", at(0)),
		e.record(t, acc, tokA, user, "tmy", at(0)),
		e.record(t, acc, tokB, "", "timeseries", at(0)),
		e.record(t, acc, tokB, "", "timeseries", at(2)),
		e.record(t, newID(t), tokA, user, "tmy", at(0)), // another account
	)
	h := func(n int) string { return hour.Add(time.Duration(-n) * time.Hour).Format("01-02T15") }
	for _, tc := range []struct {
		name string
		q    usage.SummaryQuery
		want string
	}{
		{"account", usage.SummaryQuery{Interval: usage.Hour},
			fmt.Sprintf(`[%s "" 2xx=1 4xx=0 5xx=0 n=1][%s "" 2xx=3 4xx=0 5xx=0 n=3]`, h(2), h(0))},
		{"by service", usage.SummaryQuery{Interval: usage.Hour, GroupBy: usage.GroupByService},
			fmt.Sprintf(`[%s "timeseries" 2xx=1 4xx=0 5xx=0 n=1][%s "timeseries" 2xx=1 4xx=0 5xx=0 n=1][%s "tmy" 2xx=2 4xx=0 5xx=0 n=2]`, h(2), h(0), h(0))},
		{"by token", usage.SummaryQuery{Interval: usage.Hour, GroupBy: usage.GroupByToken},
			fmt.Sprintf(`[%s %q 2xx=1 4xx=0 5xx=0 n=1][%s %q 2xx=2 4xx=0 5xx=0 n=2][%s %q 2xx=1 4xx=0 5xx=0 n=1]`, h(2), tokB, h(0), tokA, h(0), tokB)},
		{"by user", usage.SummaryQuery{Interval: usage.Hour, GroupBy: usage.GroupByUser},
			fmt.Sprintf(`[%s %q 2xx=2 4xx=0 5xx=0 n=2]`, h(0), user)},
		{"one token", usage.SummaryQuery{Interval: usage.Hour, Filter: usage.Filter{TokenID: tokB}},
			fmt.Sprintf(`[%s "" 2xx=1 4xx=0 5xx=0 n=1][%s "" 2xx=1 4xx=0 5xx=0 n=1]`, h(2), h(0))},
		{"one user", usage.SummaryQuery{Interval: usage.Hour, Filter: usage.Filter{UserID: user}},
			fmt.Sprintf(`[%s "" 2xx=2 4xx=0 5xx=0 n=2]`, h(0))},
		{"one service", usage.SummaryQuery{Interval: usage.Hour, Filter: usage.Filter{Service: "tmy"}},
			fmt.Sprintf(`[%s "" 2xx=2 4xx=0 5xx=0 n=2]`, h(0))},
		{"from", usage.SummaryQuery{Interval: usage.Hour, Filter: usage.Filter{From: hour.Add(-time.Hour)}},
			fmt.Sprintf(`[%s "" 2xx=3 4xx=0 5xx=0 n=3]`, h(0))},
		{"a token of another account", usage.SummaryQuery{Interval: usage.Hour, Filter: usage.Filter{TokenID: newID(t)}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bucketsString(e.summarise(t, acc, tc.q)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	days := e.summarise(t, acc, usage.SummaryQuery{Interval: usage.Day})
	var n int64
	for _, b := range days {
		n += b.Counts.Total
		if !b.Start.Equal(b.Start.Truncate(24 * time.Hour)) {
			t.Errorf("day bucket starts at %v", b.Start)
		}
	}
	if n != 4 {
		t.Errorf("daily counts sum to %d, want 4", n)
	}
}

func TestChunksDependOnlyOnTheirRecords(t *testing.T) {
	e := &env{now: time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC)}
	var recs []usage.Record
	for i := range 300 {
		recs = append(recs, e.record(t, "acc", fmt.Sprintf("tok_%03d", i%70), fmt.Sprintf("usr_%d", i%7), "tmy", time.Duration(i)*time.Second))
	}
	ids := func(rs []usage.Record) []string {
		var out []string
		for _, c := range chunks(rs) {
			if len(c.counts) > maxCountActions {
				t.Fatalf("a chunk of %d counts, over one transaction", len(c.counts))
			}
			out = append(out, c.id())
		}
		return out
	}
	reversed := make([]usage.Record, len(recs))
	for i, r := range recs {
		reversed[len(recs)-1-i] = r
	}
	if a, b := fmt.Sprint(ids(recs)), fmt.Sprint(ids(reversed)); a != b {
		t.Errorf("the same records in another order make other chunks:\n%s\n%s", a, b)
	}
}

// TestChunksAreTheOnesEarlierReleasesMade pins the chunk IDs of a fixed
// delivery: a delivery counted before an upgrade and delivered again after
// it (Lambda's retries, make redrive) must make the same chunks, or its
// markers would not match and it would count twice.
func TestChunksAreTheOnesEarlierReleasesMade(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC)
	var recs []usage.Record
	for i := range 400 {
		r := usage.Record{
			Time: at.Add(time.Duration(i*5) * time.Second), RequestID: fmt.Sprintf("req_%04d", (i*7919)%400),
			AccountID: fmt.Sprintf("acc_%d", i%2), TokenID: fmt.Sprintf("tok_%03d", i%300), Service: []string{"tmy", "timeseries"}[i%3%2],
			Status: []int{200, 403, 401, 500}[i%4],
		}
		if i%300 < 200 {
			r.UserID = fmt.Sprintf("usr_%d", i%300%9)
		}
		recs = append(recs, r)
	}
	var got []string
	for _, c := range chunks(recs) {
		got = append(got, fmt.Sprintf("%s/%d/%d", c.id(), len(c.ids), len(c.counts)))
	}
	const want = "[278babc53cbde652be4c318c/118/99 e0ecf521f9002aa6398bda96/62/73 b3cb40f505c49d21a1bbcde7/20/31 fae5517a5e4283203ffb60a6/118/99 4a884f6dd2cf34a845d10dba/62/73 a4541a5463bee1ebbf696f64/20/31]"
	if s := fmt.Sprint(got); s != want {
		t.Errorf("chunks changed:\n got %s\nwant %s", s, want)
	}
}

// examining counts the items each Query of a store examines (DynamoDB's
// ScannedCount: what a read pays for, filtered or not).
type examining struct {
	API
	mu    sync.Mutex
	items int64
}

func (x *examining) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := x.API.Query(ctx, in, opts...)
	if err == nil {
		x.mu.Lock()
		x.items += int64(out.ScannedCount)
		x.mu.Unlock()
	}
	return out, err
}

func (x *examining) examined() int64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := x.items
	x.items = 0
	return n
}

// TestAGroupedSummaryReadsOnlyItsWindowsCounts: a summary grouped by token
// or by user examines the counts of its window only, however many tokens
// and users the account's 90 days of counts hold: the cost of its answer,
// not of the account's history.
func TestAGroupedSummaryReadsOnlyItsWindowsCounts(t *testing.T) {
	e := newEnv(t)
	x := &examining{API: e.client}
	s, err := New(x, e.table, WithClock(func() time.Time { return e.now }))
	if err != nil {
		t.Fatal(err)
	}
	acc := newID(t)
	var old []usage.Record
	for i := range 300 { // 300 tokens of 100 users, called five days ago
		old = append(old, e.record(t, acc, fmt.Sprintf("tok_%03d", i), fmt.Sprintf("usr_%03d", i%100), "tmy", 5*24*time.Hour))
	}
	e.put(t, old...)
	recent := []usage.Record{
		e.record(t, acc, "tok_new1", "usr_new", "tmy", time.Minute),
		e.record(t, acc, "tok_new2", "", "timeseries", 2*time.Minute),
	}
	e.put(t, recent...)
	for _, g := range []usage.GroupBy{usage.GroupByToken, usage.GroupByUser, usage.GroupByService, usage.NoGroup} {
		x.examined()
		got, err := s.Summary(e.ctx, acc, usage.SummaryQuery{Interval: usage.Hour, GroupBy: g})
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, b := range got.Buckets {
			total += b.Counts.Total
		}
		if g != usage.GroupByUser && total != 2 {
			t.Errorf("groupBy %q: %s, want the 2 recent calls", g, bucketsString(got.Buckets))
		}
		// At most the window's count items: two tokens, one user, and
		// one account count per service and hour.
		if n := x.examined(); n > 4 {
			t.Errorf("groupBy %q examined %d count items for a window holding at most 4", g, n)
		}
	}
	// The older window still answers from the same items.
	got := e.summarise(t, acc, usage.SummaryQuery{Interval: usage.Day, GroupBy: usage.GroupByToken, Filter: usage.Filter{From: e.now.Add(-6 * 24 * time.Hour), To: e.now.Add(-4 * 24 * time.Hour)}})
	if len(got) != 300 {
		t.Errorf("five days ago by token: %d buckets, want 300", len(got))
	}
}
