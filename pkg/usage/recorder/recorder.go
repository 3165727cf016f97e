package recorder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/usage"
)

// Writer stores usage records, idempotently by request ID.
type Writer interface {
	PutRecords(ctx context.Context, recs []usage.Record) error
}

// TokenMarker moves a token's lastUsedAt forward (never back); a token
// that no longer exists is not an error.
type TokenMarker interface {
	MarkUsed(ctx context.Context, accountID, tokenID string, at time.Time) error
}

// markers bounds concurrent MarkUsed calls in one delivery.
const markers = 8

// Summary counts what one delivery held.
type Summary struct {
	Lines     int // log events in the delivery
	Recorded  int // records written
	Skipped   int // well-formed lines that are not token calls
	Malformed int // lines that could not be parsed
	Tokens    int // tokens whose lastUsedAt was moved
}

// Recorder turns CloudWatch Logs deliveries into usage records.
type Recorder struct {
	w   Writer
	m   TokenMarker
	log *slog.Logger
}

// New returns a Recorder writing to w and marking tokens through m.
func New(w Writer, m TokenMarker, log *slog.Logger) (*Recorder, error) {
	if w == nil || m == nil {
		return nil, errors.New("recorder: nil writer or token marker")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{w: w, m: m, log: log}, nil
}

// Handle is the Lambda handler (and the local shipper's destination).
func (r *Recorder) Handle(ctx context.Context, ev events.CloudwatchLogsEvent) error {
	s, err := r.Process(ctx, ev)
	attrs := []slog.Attr{
		slog.Int("lines", s.Lines), slog.Int("recorded", s.Recorded), slog.Int("skipped", s.Skipped),
		slog.Int("malformed", s.Malformed), slog.Int("tokens", s.Tokens),
	}
	if err != nil {
		r.log.LogAttrs(ctx, slog.LevelError, "usage delivery failed", append(attrs, slog.Any("error", err))...)
		return err
	}
	level := slog.LevelInfo
	if s.Malformed > 0 {
		level = slog.LevelWarn
	}
	r.log.LogAttrs(ctx, level, "usage delivery recorded", attrs...)
	return nil
}

// Process records one delivery and reports what it held.
func (r *Recorder) Process(ctx context.Context, ev events.CloudwatchLogsEvent) (Summary, error) {
	data, err := accesslog.Decode(ev)
	if err != nil {
		return Summary{}, fmt.Errorf("recorder: %w", err)
	}
	var s Summary
	if data.MessageType != accesslog.MessageTypeData {
		return s, nil // CONTROL_MESSAGE: CloudWatch checking the destination
	}
	s.Lines = len(data.LogEvents)
	recs := make([]usage.Record, 0, len(data.LogEvents))
	for _, le := range data.LogEvents {
		rec, ok, err := record(le)
		switch {
		case err != nil:
			s.Malformed++
			// The error names the problem, never the line: a malformed
			// line could hold anything, a token included.
			r.log.LogAttrs(ctx, slog.LevelWarn, "malformed usage line skipped", slog.String("eventId", le.ID), slog.Any("error", err))
		case !ok:
			s.Skipped++
		default:
			recs = append(recs, rec)
		}
	}
	if err := r.w.PutRecords(ctx, recs); err != nil {
		return s, fmt.Errorf("recorder: write %d records: %w", len(recs), err)
	}
	s.Recorded = len(recs)
	s.Tokens, err = r.markUsed(ctx, recs)
	return s, err
}

// record makes a record from one log event; ok is false for a well-formed
// line that is not a call of a known token.
func record(le events.CloudwatchLogsLogEvent) (usage.Record, bool, error) {
	line := []byte(strings.TrimSpace(le.Message))
	var e accesslog.Entry
	if accesslog.IsDecision(line) {
		var d accesslog.Decision
		var err error
		if e, d, err = accesslog.ParseDecision(line, time.UnixMilli(le.Timestamp)); err != nil {
			return usage.Record{}, false, err
		}
		if d != accesslog.DecisionUnauthorized {
			return usage.Record{}, false, nil // the access log records it
		}
	} else {
		var err error
		if e, err = accesslog.Parse(line); err != nil {
			return usage.Record{}, false, err
		}
	}
	if e.AccountID == "" || e.TokenID == "" {
		return usage.Record{}, false, nil
	}
	return usage.Record{
		Time: e.Time(), RequestID: e.RequestID, AccountID: e.AccountID, TokenID: e.TokenID, UserID: e.UserID,
		Service: e.Service, Method: e.HTTPMethod, Path: usage.RedactPath(e.ResourcePath), Status: e.Status,
		LatencyMs: e.ResponseLatency, SourceIP: e.SourceIP,
	}, true, nil
}

// markUsed moves each token's lastUsedAt to its latest call in recs, one
// MarkUsed per token.
func (r *Recorder) markUsed(ctx context.Context, recs []usage.Record) (int, error) {
	type key struct{ account, token string }
	latest := map[key]time.Time{}
	for _, rec := range recs {
		k := key{rec.AccountID, rec.TokenID}
		if rec.Time.After(latest[k]) {
			latest[k] = rec.Time
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, markers)
	)
	for k, at := range latest {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := r.m.MarkUsed(ctx, k.account, k.token, at); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("recorder: mark token %s used: %w", k.token, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(latest), errors.Join(errs...)
}
