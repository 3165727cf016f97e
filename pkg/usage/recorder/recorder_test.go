package recorder

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/local/cwlogs"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/redact"
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

func TestARecordWithoutAPathNeverGetsTheRouteTemplate(t *testing.T) {
	const template = "/data/{service}/{proxy+}"
	served := accesslog.Entry{
		RequestID: "5f0e1b7a-0009-4c1e-9d7e-aa0000000009", RequestTimeEpoch: fixtureTime.UnixMilli(), HTTPMethod: "GET",
		ResourcePath: template, Status: 200, ResponseLatency: 12, SourceIP: "203.0.113.10",
		AccountID: "acc_fixture1", TokenID: "tok_fixtureuser", TokenType: "user", Service: "tmy", Outcome: "valid",
	}
	var refused bytes.Buffer
	accesslog.DecisionLine{
		RequestID: "6a1d0c3e-0009-4b2a-8f00-bb0000000009", Decision: accesslog.DecisionUnauthorized, Status: 401,
		Outcome: "token_disabled", AccountID: "acc_fixture1", TokenID: "tok_fixturedisabled", Service: "tmy",
		HTTPMethod: "GET", Resource: template, SourceIP: "198.51.100.20",
	}.Log(t.Context(), slog.New(slog.NewJSONHandler(&refused, nil)))
	for name, line := range map[string]string{"access-log line": string(served.Line()), "decision line": refused.String()} {
		t.Run(name, func(t *testing.T) {
			rec, ok, err := record(events.CloudwatchLogsLogEvent{ID: "1", Timestamp: fixtureTime.UnixMilli(), Message: line})
			if err != nil || !ok {
				t.Fatalf("record = %v, %v; want a record", ok, err)
			}
			if rec.Path != "" {
				t.Errorf("path = %q, want empty: a record's path is the path called, never the route template", rec.Path)
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
	if r := got[0]; r.Status != 401 || r.TokenID != "tok_fixturedisabled" || r.Path != "/feed/{token}/tmy/hourly" || r.Query != "from=2025-03-01" {
		t.Errorf("refused call recorded as %+v", r)
	}
	if r := got[2]; r.Status != 403 || r.UserID != "" || r.Service != "timeseries" || r.LatencyMs != 9 || r.SourceIP != "203.0.113.11" || r.Path != "/feed/{token}/timeseries/daily" {
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

// TestOnePoisonedCallAmongAThousandStopsNoOtherRecord: a call whose fields
// cannot become keys is set aside, counted and logged without its token;
// the 1,000 good calls of two accounts delivered with it are all recorded,
// and so is a call with a 2,000-character service, bounded.
func TestOnePoisonedCallAmongAThousandStopsNoOtherRecord(t *testing.T) {
	e := newEnv(t)
	const token = "46a4eccec1414feab118287f5af26f03"
	var logs bytes.Buffer
	rec, err := New(e.store, e.mark, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	accounts := []string{"acc_poisonA", "acc_poisonB"}
	entry := func(i int) accesslog.Entry {
		return accesslog.Entry{
			RequestID: fmt.Sprintf("req-%05d", i), RequestTimeEpoch: at.Add(time.Duration(i) * time.Millisecond).UnixMilli(),
			HTTPMethod: "GET", ResourcePath: "/data/{service}/{proxy+}", Status: 200, ResponseLatency: 3, SourceIP: "203.0.113.9",
			AccountID: accounts[i%2], TokenID: fmt.Sprintf("tok_%d", i%5), TokenType: "userless", Service: "tmy", Outcome: "valid",
			Path: "/data/tmy/hourly",
		}
	}
	var lines []cwlogs.Line
	want := map[string]map[string]bool{accounts[0]: {}, accounts[1]: {}}
	for i := range 1000 {
		en := entry(i)
		if i == 500 {
			en.Service = token + strings.Repeat("x", 2000) // odd, but recordable once bounded
		}
		want[en.AccountID][en.RequestID] = true
		lines = append(lines, cwlogs.Line{Timestamp: en.Time(), Message: en.Line()})
	}
	poisoned := entry(1000)
	poisoned.RequestID = token + strings.Repeat("r", 3000) // no key can hold it
	lines = append(lines[:700], append([]cwlogs.Line{{Timestamp: poisoned.Time(), Message: poisoned.Line()}}, lines[700:]...)...)
	ev, err := cwlogs.Event(cwlogs.Batch{LogGroup: "access", LogStream: "local", Lines: lines})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rec.Process(t.Context(), ev)
	if err != nil {
		t.Fatalf("one poisoned call failed the delivery: %v", err)
	}
	if s.Recorded != 1000 || s.Malformed != 1 {
		t.Errorf("summary %+v, want 1,000 recorded and 1 set aside", s)
	}
	for _, acc := range accounts {
		for _, r := range e.history(t, acc) {
			if !want[acc][r.RequestID] {
				t.Errorf("unexpected record %s in %s", r.RequestID, acc)
			}
			if len(r.Service) > redact.MaxService || strings.Contains(r.Service, token) {
				t.Errorf("service kept as %q", r.Service)
			}
			delete(want[acc], r.RequestID)
		}
		if len(want[acc]) != 0 {
			t.Errorf("%s: %d answered calls missing from the history", acc, len(want[acc]))
		}
	}
	if !strings.Contains(logs.String(), SetAsideMessage) {
		t.Errorf("the poisoned line was not logged as set aside: %s", logs.String())
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the set-aside log line holds the token")
	}
}

// TestRecordsTheStoreRefusesAreSetAsideAndTheRestCount: a store that
// refuses some records for their content answers a RejectedError; the
// delivery succeeds, so it is not retried for ever.
func TestRecordsTheStoreRefusesAreSetAsideAndTheRestCount(t *testing.T) {
	rec, err := New(rejectingWriter{}, &marker{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := rec.Process(t.Context(), fixture(t, "access-log.json"))
	if err != nil {
		t.Fatalf("Process = %v, want the delivery done", err)
	}
	if s.SetAside != 1 || s.Recorded != 3 {
		t.Errorf("summary %+v, want 1 set aside and 3 recorded", s)
	}
}

// rejectingWriter refuses the first record and "writes" the rest.
type rejectingWriter struct{}

func (rejectingWriter) PutRecords(_ context.Context, recs []usage.Record) error {
	return &usage.RejectedError{Records: recs[:1], Cause: errors.New("ValidationException")}
}

// TestReplayRecordsAFailedDeliveryAndKeepsWhatFailsAgain: make redrive
// hands the recorder the failure queue's messages, each Lambda's record of
// a delivery it gave up on; a message that cannot be recorded stays in
// the queue (a batch item failure), the others are done.
func TestReplayRecordsAFailedDeliveryAndKeepsWhatFailsAgain(t *testing.T) {
	e := newEnv(t)
	payload, err := json.Marshal(map[string]any{
		"version":         "1.0",
		"requestContext":  map[string]any{"condition": "RetriesExhausted", "approximateInvokeCount": 3},
		"requestPayload":  fixture(t, "access-log.json"),
		"responseContext": map[string]any{"statusCode": 200, "functionError": "Unhandled"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.rec.Invoke(t.Context(), Event{Records: []events.SQSMessage{
		{MessageId: "good", Body: string(payload)},
		{MessageId: "garbage", Body: `{"requestPayload":{}}`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "garbage" {
		t.Errorf("batch item failures %+v, want only the garbage message", resp.BatchItemFailures)
	}
	if got := len(e.history(t, "acc_fixture1")); got != 3 {
		t.Errorf("%d records after the replay, want the delivery's 3 calls", got)
	}
	if _, err := e.rec.Invoke(t.Context(), Event{AWSLogs: fixture(t, "access-log.json").AWSLogs}); err != nil {
		t.Errorf("a CloudWatch Logs delivery through Invoke: %v", err)
	}
}
