package recorder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/sync/errgroup"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/redact"
	"github.com/acmedata/tokenservice/pkg/usage"
)

// Writer stores usage records, idempotently by request ID. It answers a
// *usage.RejectedError when it wrote all records but some it refused for
// their content (no retry would help those).
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
	Malformed int // lines that could not be parsed or validated, set aside
	SetAside  int // valid records the store refused, set aside
	Tokens    int // tokens whose lastUsedAt was moved
}

// Recorder turns CloudWatch Logs deliveries into usage records.
type Recorder struct {
	w   Writer
	m   TokenMarker
	log *slog.Logger
	now func() time.Time
}

// New returns a Recorder writing to w and marking tokens through m.
func New(w Writer, m TokenMarker, log *slog.Logger) (*Recorder, error) {
	if w == nil || m == nil {
		return nil, errors.New("recorder: nil writer or token marker")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{w: w, m: m, log: log, now: time.Now}, nil
}

// Handle is the Lambda handler (and the local shipper's destination).
func (r *Recorder) Handle(ctx context.Context, ev events.CloudwatchLogsEvent) error {
	s, err := r.Process(ctx, ev)
	attrs := []slog.Attr{
		slog.Int("lines", s.Lines), slog.Int("recorded", s.Recorded), slog.Int("skipped", s.Skipped),
		slog.Int("malformed", s.Malformed), slog.Int("setAside", s.SetAside), slog.Int("tokens", s.Tokens),
	}
	if err != nil {
		r.log.LogAttrs(ctx, slog.LevelError, "usage delivery failed", append(attrs, slog.Any("error", err))...)
		return err
	}
	level := slog.LevelInfo
	if s.Malformed+s.SetAside > 0 {
		level = slog.LevelWarn
	}
	r.log.LogAttrs(ctx, level, "usage delivery recorded", attrs...)
	return nil
}

// Process records one delivery and reports what it held. One bad line
// or record never fails it: whatever cannot be recorded is set aside
// (logged redacted, counted) and the rest written. Only a store failure
// fails the delivery, to be retried whole, idempotently.
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
	lines := make(map[string]string, len(data.LogEvents)) // request ID -> event ID, to name a rejected record
	now := r.now()
	for _, le := range data.LogEvents {
		rec, ok, err := record(le)
		if err == nil && ok {
			rec = rec.Bounded()
			err = rec.Validate(now)
		}
		switch {
		case err != nil:
			s.Malformed++
			r.setAside(ctx, le.ID, le.Message, err)
		case !ok:
			s.Skipped++
		default:
			recs = append(recs, rec)
			lines[rec.RequestID] = le.ID
		}
	}
	// lastUsedAt moves while the records are written: MarkUsed never moves
	// it back, so a delivery that fails and comes again changes nothing.
	marked := make(chan error, 1)
	go func() {
		var err error
		s.Tokens, err = r.markUsed(ctx, recs)
		marked <- err
	}()
	err = r.w.PutRecords(ctx, recs)
	markErr := <-marked
	var rejected *usage.RejectedError
	if errors.As(err, &rejected) {
		// The store wrote every record but these, refused for what they
		// hold: keep them and count the delivery as done.
		for _, rec := range rejected.Records {
			r.setAside(ctx, lines[rec.RequestID], "", rejected.Cause)
		}
		s.SetAside, err = len(rejected.Records), nil
	}
	if err != nil {
		return s, fmt.Errorf("recorder: write %d records: %w", len(recs), err)
	}
	s.Recorded = len(recs) - s.SetAside
	return s, markErr
}

// maxKeptLine bounds the part of a set-aside line kept in the log.
const maxKeptLine = 4096

// setAside keeps what could not be recorded where an operator finds it:
// the recorder's own log (kept with the log group's retention, counted by
// the "set aside" metric filter), redacted and bounded, so a malformed
// line that held a token leaves none in the log.
func (r *Recorder) setAside(ctx context.Context, eventID, line string, reason error) {
	attrs := []slog.Attr{slog.String("eventId", eventID), slog.String("reason", redact.String(reason.Error(), maxKeptLine))}
	if line != "" {
		attrs = append(attrs, slog.String("line", redact.String(line, maxKeptLine)))
	}
	r.log.LogAttrs(ctx, slog.LevelError, SetAsideMessage, attrs...)
}

// SetAsideMessage is the msg of the log line that keeps a line or record
// the recorder could not write; infra counts these lines and alarms.
const SetAsideMessage = "usage line set aside"

// record makes a record from one log event; ok is false for a well-formed
// line that is not a call of a known token.
func record(le events.CloudwatchLogsLogEvent) (usage.Record, bool, error) {
	line := []byte(strings.TrimSpace(le.Message))
	var e accesslog.Entry
	if accesslog.IsDecision(line) {
		d, err := accesslog.ParseDecision(line, time.UnixMilli(le.Timestamp))
		if err != nil {
			return usage.Record{}, false, err
		}
		if d.Decision != accesslog.DecisionUnauthorized {
			return usage.Record{}, false, nil // the access log records it
		}
		e = d.Entry()
	} else {
		var err error
		if e, err = accesslog.Parse(line); err != nil {
			return usage.Record{}, false, err
		}
	}
	if e.AccountID == "" || e.TokenID == "" {
		return usage.Record{}, false, nil
	}
	// The path is the one the authorizer rebuilt, never the route template
	// (e.ResourcePath): PRODUCT.md's record holds the path that was called.
	return usage.Record{
		Time: e.Time(), RequestID: e.RequestID, AccountID: e.AccountID, TokenID: e.TokenID, UserID: e.UserID,
		Service: e.Service, Method: e.HTTPMethod, Path: e.Path, Query: e.Query, Status: e.Status,
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
	var g errgroup.Group
	g.SetLimit(markers)
	for k, at := range latest {
		g.Go(func() error {
			if err := r.m.MarkUsed(ctx, k.account, k.token, at); err != nil {
				return fmt.Errorf("recorder: mark token %s used: %w", k.token, err)
			}
			return nil
		})
	}
	return len(latest), g.Wait()
}

// Event is what the recorder Lambda is invoked with: a CloudWatch Logs
// subscription delivery (awslogs), or, while make redrive replays the
// failure queue, a batch of SQS messages each holding a delivery that
// failed (Records).
type Event struct {
	AWSLogs events.CloudwatchLogsRawData `json:"awslogs"`
	Records []events.SQSMessage          `json:"Records"`
}

// failedInvocation is the record Lambda sends to an asynchronous
// invocation's on-failure destination: the event it could not process
// comes back whole as requestPayload.
type failedInvocation struct {
	RequestPayload events.CloudwatchLogsEvent `json:"requestPayload"`
}

// Invoke is the Lambda handler. A delivery is recorded as Handle does; a
// replayed message that fails again is reported as a batch item failure,
// so it stays in the queue and the others are done.
func (r *Recorder) Invoke(ctx context.Context, ev Event) (events.SQSEventResponse, error) {
	if len(ev.Records) == 0 {
		return events.SQSEventResponse{}, r.Handle(ctx, events.CloudwatchLogsEvent{AWSLogs: ev.AWSLogs})
	}
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		var failed failedInvocation
		err := json.Unmarshal([]byte(m.Body), &failed)
		if err == nil && failed.RequestPayload.AWSLogs.Data == "" {
			err = errors.New("no requestPayload.awslogs in the message")
		}
		if err == nil {
			err = r.Handle(ctx, failed.RequestPayload)
		}
		if err != nil {
			r.log.LogAttrs(ctx, slog.LevelError, "usage replay failed, message kept", slog.String("messageId", m.MessageId), slog.Any("error", err))
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}
