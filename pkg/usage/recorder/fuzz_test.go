package recorder

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/local/cwlogs"
	"github.com/acmedata/tokenservice/pkg/usage"
)

// memWriter keeps the records it is given, as a store that refuses none.
type memWriter struct {
	mu   sync.Mutex
	recs []usage.Record
}

func (w *memWriter) PutRecords(_ context.Context, recs []usage.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recs = append(w.recs, recs...)
	return nil
}

var _ Writer = (*memWriter)(nil)

var tokenShaped = regexp.MustCompile(`[0-9a-fA-F]{32}`)

// FuzzRecorderLines: whatever line a log group delivers beside a good
// one, the delivery succeeds, the good line is recorded, every line is
// counted once, every record kept is valid, and no token-shaped text of
// the input reaches the recorder's log.
//
//fuzz:budget 10000x
func FuzzRecorderLines(f *testing.F) {
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	good := accesslog.Entry{
		RequestID: "req-good", RequestTimeEpoch: at.UnixMilli(), HTTPMethod: "GET", ResourcePath: "/data/{service}/{proxy+}",
		Status: 200, ResponseLatency: 3, SourceIP: "203.0.113.9", AccountID: "acc_fuzz", TokenID: "tok_fuzz",
		TokenType: "userless", Service: "tmy", Outcome: "valid", Path: "/data/tmy/hourly",
	}
	odd := good
	odd.RequestID, odd.Path, odd.Service = "req-odd", "/feed/46a4eccec1414feab118287f5af26f03/tmy/x", "46a4eccec1414feab118287f5af26f03"
	f.Add(string(odd.Line()))
	f.Add(`{"decision":"unauthorized","requestId":"r","accountId":"a","tokenId":"t"}`)
	f.Add(`{"requestId":"` + strings.Repeat("r", 3000) + `","accountId":"a","tokenId":"t","requestTimeEpoch":1}`)
	f.Add("not json")
	f.Add(`{"requestTimeEpoch":"x"}`)
	f.Fuzz(func(t *testing.T, line string) {
		w := &memWriter{}
		var logs bytes.Buffer
		rec, err := New(w, &marker{}, slog.New(slog.NewJSONHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := cwlogs.Event(cwlogs.Batch{LogGroup: "access", LogStream: "fuzz", Lines: []cwlogs.Line{
			{Timestamp: at, Message: good.Line()}, {Timestamp: at, Message: []byte(line)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := rec.Process(t.Context(), ev)
		if err != nil {
			t.Fatalf("Process: %v", err)
		}
		if s.Lines != 2 || s.Recorded+s.Skipped+s.Malformed+s.SetAside != 2 || s.Recorded != len(w.recs) {
			t.Fatalf("summary %+v for %d records", s, len(w.recs))
		}
		kept := false
		for _, r := range w.recs {
			if err := r.Validate(time.Now()); err != nil {
				t.Fatalf("kept an invalid record %+v: %v", r, err)
			}
			kept = kept || r.RequestID == good.RequestID
		}
		if !kept {
			t.Fatalf("the good line was not recorded beside %q", line)
		}
		for _, tok := range tokenShaped.FindAllString(line, -1) {
			if strings.Contains(logs.String(), tok) {
				t.Fatalf("the recorder's log holds token-shaped input %s", tok)
			}
		}
	})
}
