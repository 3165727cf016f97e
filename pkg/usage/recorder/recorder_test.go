package recorder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/local/cwlogs"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
	"github.com/acmedata/tokenservice/pkg/usage"
	"github.com/acmedata/tokenservice/pkg/usagestore"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// marker remembers every MarkUsed call.
type marker struct {
	mu    sync.Mutex
	calls map[string][]time.Time // account/token -> times
	err   error
}

func (m *marker) MarkUsed(_ context.Context, accountID, tokenID string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.calls == nil {
		m.calls = map[string][]time.Time{}
	}
	m.calls[accountID+"/"+tokenID] = append(m.calls[accountID+"/"+tokenID], at)
	return m.err
}

var _ TokenMarker = (*marker)(nil)

func fixture(t *testing.T, name string) events.CloudwatchLogsEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "recorder", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.CloudwatchLogsEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

type env struct {
	store *usagestore.Store
	mark  *marker
	rec   *Recorder
}

func newEnv(t *testing.T) *env {
	t.Helper()
	// The fixtures were recorded on 2025-03-01: read them back as of then.
	asOf := func() time.Time { return time.Date(2025, 3, 1, 13, 0, 0, 0, time.UTC) }
	store, err := usagestore.New(dynamotest.Client(t), dynamotest.Tables(t)[schema.Usage.ID], usagestore.WithClock(asOf))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: store, mark: &marker{}}
	if e.rec, err = New(store, e.mark, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

// history reads all of an account's records, page by page.
func (e *env) history(t *testing.T, accountID string) []usage.Record {
	t.Helper()
	var out []usage.Record
	req := paging.Request{Limit: 100}
	for {
		p, err := e.store.Records(t.Context(), accountID, usage.Filter{}, req)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out
		}
		req.Cursor = p.NextCursor
	}
}

func TestRecorderSkipsAndCountsMalformedLinesWithoutFailingTheBatch(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		want    Summary
	}{
		// access log: two served calls and one 403 of known tokens (one line
		// delivered twice), a 401 and an admin call without a token, two
		// broken lines.
		{"access-log.json", Summary{Lines: 8, Recorded: 4, Skipped: 2, Malformed: 2, Tokens: 2}},
		// authorizer: one 401 of a known token; an unknown token, an allow
		// and a deny (the access log has those) skipped; a platform line.
		{"authorizer-log.json", Summary{Lines: 5, Recorded: 1, Skipped: 3, Malformed: 1, Tokens: 1}},
		{"control-message.json", Summary{}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			e := newEnv(t)
			got, err := e.rec.Process(t.Context(), fixture(t, tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("summary %+v, want %+v", got, tc.want)
			}
			for tok, calls := range e.mark.calls {
				if len(calls) != 1 {
					t.Errorf("token %s marked %d times in one delivery, want once", tok, len(calls))
				}
			}
		})
	}
}

func TestRecorderMarksEachTokenOnceWithItsLatestCall(t *testing.T) {
	e := newEnv(t)
	if _, err := e.rec.Process(t.Context(), fixture(t, "access-log.json")); err != nil {
		t.Fatal(err)
	}
	calls := e.mark.calls["acc_fixture1/tok_fixtureuser"]
	if want := time.UnixMilli(1740830400800).UTC(); len(calls) != 1 || !calls[0].Equal(want) {
		t.Errorf("MarkUsed calls %v, want one at %v", calls, want)
	}
}

func TestRecorderRedeliveryWritesNothingNew(t *testing.T) {
	e := newEnv(t)
	for range 2 {
		for _, f := range []string{"access-log.json", "authorizer-log.json"} {
			if err := e.rec.Handle(t.Context(), fixture(t, f)); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := e.history(t, "acc_fixture1")
	var ids []string
	for _, r := range got {
		ids = append(ids, r.RequestID)
	}
	want := []string{ // newest first
		"6a1d0c3e-0001-4b2a-8f00-bb0000000001",
		"5f0e1b7a-0008-4c1e-9d7e-aa0000000008",
		"5f0e1b7a-0002-4c1e-9d7e-aa0000000002",
		"5f0e1b7a-0001-4c1e-9d7e-aa0000000001",
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("history %v, want %v", ids, want)
	}
	if r := got[0]; r.Status != 401 || r.TokenID != "tok_fixturedisabled" || r.Path != "/data/{service}/{proxy+}" {
		t.Errorf("refused call recorded as %+v", r)
	}
	if r := got[2]; r.Status != 403 || r.UserID != "" || r.Service != "timeseries" || r.LatencyMs != 9 || r.SourceIP != "203.0.113.11" {
		t.Errorf("denied call recorded as %+v", r)
	}
}

// TestRecorderRetryAfterAPartialWriteRecordsEachCallOnce: a delivery whose
// write fails part way, after some of its records are stored, is retried
// whole (by Lambda on AWS, by the shipper locally); the retry, and any
// further redelivery of the same batch, leave exactly one record per call.
func TestRecorderRetryAfterAPartialWriteRecordsEachCallOnce(t *testing.T) {
	e := newEnv(t)
	const n, account = 1000, "acc_redelivery"
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) // within newEnv's seven days
	lines := make([]cwlogs.Line, n)
	for i := range lines {
		entry := accesslog.Entry{
			RequestID: fmt.Sprintf("req-%05d", i), RequestTimeEpoch: at.Add(time.Duration(i) * time.Millisecond).UnixMilli(),
			HTTPMethod: "GET", ResourcePath: "/data/{service}/{proxy+}", Status: 200, ResponseLatency: 12, SourceIP: "203.0.113.9",
			AccountID: account, TokenID: fmt.Sprintf("tok_%d", i%3), TokenType: "userless", Service: "tmy", Outcome: "valid",
		}
		lines[i] = cwlogs.Line{Timestamp: entry.Time(), Message: entry.Line()}
	}
	ev, err := cwlogs.Event(cwlogs.Batch{LogGroup: "access", LogStream: "local", Lines: lines})
	if err != nil {
		t.Fatal(err)
	}

	broken, err := New(partialWriter{w: e.store, keep: n / 2}, e.mark, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := broken.Handle(t.Context(), ev); err == nil {
		t.Fatal("a delivery whose write failed succeeded: it would not be retried")
	}
	if got := len(e.history(t, account)); got != n/2 {
		t.Fatalf("%d records after the partial write, want %d", got, n/2)
	}
	for range 2 {
		if err := e.rec.Handle(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	got := e.history(t, account)
	ids := map[string]bool{}
	for _, r := range got {
		ids[r.RequestID] = true
	}
	if len(got) != n || len(ids) != n {
		t.Errorf("%d records, %d distinct request IDs after the retry and a redelivery; want %d of each", len(got), len(ids), n)
	}
}

// partialWriter stores the first keep records of a delivery, then fails.
type partialWriter struct {
	w    Writer
	keep int
}

func (p partialWriter) PutRecords(ctx context.Context, recs []usage.Record) error {
	if err := p.w.PutRecords(ctx, recs[:min(p.keep, len(recs))]); err != nil {
		return err
	}
	return errors.New("throttled after a partial write")
}

func TestRecorderFailsTheDeliveryWhenStorageFails(t *testing.T) {
	boom := errors.New("dynamodb down")
	rec, err := New(failingWriter{boom}, &marker{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Handle(t.Context(), fixture(t, "access-log.json")); !errors.Is(err, boom) {
		t.Errorf("Handle = %v, want the storage error so the delivery is retried", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) PutRecords(context.Context, []usage.Record) error { return w.err }

func TestNewRefusesNilDependencies(t *testing.T) {
	if _, err := New(nil, &marker{}, nil); err == nil {
		t.Error("New(nil writer) succeeded")
	}
	if _, err := New(failingWriter{}, nil, nil); err == nil {
		t.Error("New(nil marker) succeeded")
	}
}
