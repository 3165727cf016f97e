// Package usagebench measures the usage recorder's write throughput
// against the floor DynamoDB sets: a plain loop of BatchWriteItem calls
// writing the very same items (packs, count items, markers). The Go benchmarks in pkg/usage/recorder and
// the scripts/usagebench program (make bench) both run it.
package usagebench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/local/cwlogs"
	"github.com/acmedata/tokenservice/pkg/tokens"
	"github.com/acmedata/tokenservice/pkg/usage"
	"github.com/acmedata/tokenservice/pkg/usage/recorder"
	"github.com/acmedata/tokenservice/pkg/usagestore"
)

// Batch is n access-log entries of served calls spread over a few tokens
// of one account, all within the last minute.
func Batch(n int) []accesslog.Entry {
	acc := id.New(id.Account)
	toks := []string{id.New(id.Token), id.New(id.Token), id.New(id.Token), id.New(id.Token)}
	now := time.Now()
	out := make([]accesslog.Entry, n)
	for i := range out {
		out[i] = accesslog.Entry{
			RequestID: id.New("req_"), RequestTimeEpoch: now.Add(-time.Duration(i) * time.Millisecond).UnixMilli(),
			HTTPMethod: "GET", ResourcePath: "/data/{service}/{proxy+}", Status: 200, ResponseLatency: 20,
			SourceIP: "203.0.113.1", AccountID: acc, TokenID: toks[i%len(toks)], TokenType: "userless", Service: "tmy", Outcome: tokens.Valid.Code(),
		}
	}
	return out
}

// Event wraps entries as one CloudWatch Logs delivery.
func Event(entries []accesslog.Entry) (events.CloudwatchLogsEvent, error) {
	lines := make([]cwlogs.Line, len(entries))
	for i, e := range entries {
		lines[i] = cwlogs.Line{Timestamp: e.Time(), Message: e.Line()}
	}
	return cwlogs.Event(cwlogs.Batch{LogGroup: "bench", LogStream: "bench", Lines: lines})
}

// nopMarker stands in for the core store: lastUsedAt writes are a handful
// per delivery (one per token) and not what is measured here.
type nopMarker struct{}

func (nopMarker) MarkUsed(context.Context, string, string, time.Time) error { return nil }

// nopWriter stores nothing: the recorder behind it only reads the
// delivery.
type nopWriter struct{}

func (nopWriter) PutRecords(context.Context, []usage.Record) error { return nil }

// Record runs the recorder on ev, writing to table, and returns how long
// it took.
func Record(ctx context.Context, client *dynamodb.Client, table string, ev events.CloudwatchLogsEvent) (time.Duration, error) {
	store, err := usagestore.New(client, table)
	if err != nil {
		return 0, err
	}
	return process(ctx, store, ev)
}

// Read runs the recorder on ev with a store that writes nothing, and
// returns how long it took: what reading a delivery (base64, gunzip, the
// envelope's and every line's JSON, validation) costs before any write.
func Read(ctx context.Context, ev events.CloudwatchLogsEvent) (time.Duration, error) {
	return process(ctx, nopWriter{}, ev)
}

func process(ctx context.Context, w recorder.Writer, ev events.CloudwatchLogsEvent) (time.Duration, error) {
	r, err := recorder.New(w, nopMarker{}, nil)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	s, err := r.Process(ctx, ev)
	took := time.Since(start)
	if err == nil && s.Malformed > 0 {
		err = fmt.Errorf("usagebench: %d malformed lines", s.Malformed)
	}
	return took, err
}

// Raw writes every item the recorder leaves in the table for entries
// (usagestore.Items: the packs, the hourly count items with their totals
// and the chunks' markers) with a plain sequential loop of BatchWriteItem
// calls (retrying unprocessed items at once), and returns how long making
// and writing them took, and how many. It is the floor DynamoDB sets for storing what
// the recorder stores; what the recorder spends beyond it (reading the
// delivery, validating, counting idempotently in transactions) is its
// overhead.
func Raw(ctx context.Context, client *dynamodb.Client, table string, entries []accesslog.Entry) (took time.Duration, items int, err error) {
	recs := make([]usage.Record, len(entries))
	for i, e := range entries {
		recs[i] = usage.Record{
			Time: e.Time(), RequestID: e.RequestID, AccountID: e.AccountID, TokenID: e.TokenID, UserID: e.UserID, Service: e.Service,
			Method: e.HTTPMethod, Path: e.ResourcePath, Query: e.Query, Status: e.Status, LatencyMs: e.ResponseLatency, SourceIP: e.SourceIP,
		}
	}
	// The items are made inside the timing: a loop writing records packs
	// and totals them as the store does.
	start := time.Now()
	all, err := usagestore.Items(recs)
	if err != nil {
		return 0, 0, err
	}
	if err := batchWrite(ctx, client, table, all); err != nil {
		return 0, 0, err
	}
	return time.Since(start), len(all), nil
}

// RawPerRecord writes entries as a raw loop of BatchWriteItem calls
// writing one item per record (the layout before packs, without its
// index entries), and returns how long it took: what the throughput
// target was first measured against.
func RawPerRecord(ctx context.Context, client *dynamodb.Client, table string, entries []accesslog.Entry) (time.Duration, error) {
	start := time.Now()
	items := make([]map[string]types.AttributeValue, len(entries))
	for i, e := range entries {
		item, err := attributevalue.MarshalMap(e)
		if err != nil {
			return 0, err
		}
		item["pk"] = &types.AttributeValueMemberS{Value: "ACCOUNT#" + e.AccountID}
		item["sk"] = &types.AttributeValueMemberS{Value: fmt.Sprintf("%013d#%s", e.RequestTimeEpoch, e.RequestID)}
		items[i] = item
	}
	if err := batchWrite(ctx, client, table, items); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// batchWrite writes items in a sequential loop of BatchWriteItem calls,
// retrying what DynamoDB leaves unprocessed at once.
func batchWrite(ctx context.Context, client *dynamodb.Client, table string, items []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(items))
	for i, item := range items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
	}
	for i := 0; i < len(reqs); i += 25 {
		batch := reqs[i:min(i+25, len(reqs))]
		for len(batch) > 0 {
			out, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: batch}})
			if err != nil {
				return err
			}
			batch = out.UnprocessedItems[table]
		}
	}
	return nil
}

// Result is one comparison.
type Result struct {
	Records       int
	Items         int // items the raw loop wrote
	Recorder, Raw time.Duration
	// Reading is the recorder's time on the same delivery with a store
	// that writes nothing.
	Reading time.Duration
	// PerRecord is RawPerRecord's time on the same records.
	PerRecord time.Duration
}

// Ceiling is the ratio a recorder would reach if its writes cost no more
// than the raw loop's whole run: it still has to read the delivery first,
// which the raw loop, handed the records, never does.
func (r Result) Ceiling() float64 { return r.Raw.Seconds() / (r.Raw + r.Reading).Seconds() }

// RecorderRate and RawRate are records per second.
func (r Result) RecorderRate() float64 { return float64(r.Records) / r.Recorder.Seconds() }
func (r Result) RawRate() float64      { return float64(r.Records) / r.Raw.Seconds() }

// Ratio is the recorder's throughput relative to the raw loop.
func (r Result) Ratio() float64 { return r.RecorderRate() / r.RawRate() }

func (r Result) String() string {
	return fmt.Sprintf("records=%d recorder=%.0f rec/s (%v) raw BatchWriteItem loop of the same %d items (packs, counts, markers)=%.0f rec/s (%v) ratio=%.2fx",
		r.Records, r.RecorderRate(), r.Recorder.Round(time.Millisecond), r.Items, r.RawRate(), r.Raw.Round(time.Millisecond), r.Ratio())
}

// Reads explains the ratio: what reading the delivery alone costs, the
// ceiling it sets, and the recorder beside a loop writing one item per
// record.
func (r Result) Reads() string {
	return fmt.Sprintf("reading the delivery alone (a store that writes nothing) takes %v = %.2fx the raw loop's whole run, so even writes as fast as the raw loop's leave the ratio at most %.2fx; "+
		"a raw BatchWriteItem loop writing one item per record (the layout before packs) takes %v: the recorder is %.1fx it",
		r.Reading.Round(time.Millisecond), r.Reading.Seconds()/r.Raw.Seconds(), r.Ceiling(), r.PerRecord.Round(time.Millisecond), r.PerRecord.Seconds()/r.Recorder.Seconds())
}

// Compare writes the same n records both ways, each into a fresh table
// that newTable returns, raw first and recorder second, then the reverse,
// and keeps the best of each so JIT warm-up of DynamoDB Local favours
// neither.
func Compare(ctx context.Context, client *dynamodb.Client, newTable func() (string, error), n int) (Result, error) {
	res := Result{Records: n}
	for round := range 2 {
		entries := Batch(n)
		ev, err := Event(entries)
		if err != nil {
			return res, err
		}
		tRaw, tRec := "", ""
		if tRaw, err = newTable(); err != nil {
			return res, err
		}
		if tRec, err = newTable(); err != nil {
			return res, err
		}
		var raw, rec time.Duration
		var errRaw, errRec error
		if round == 0 {
			raw, res.Items, errRaw = Raw(ctx, client, tRaw, entries)
			rec, errRec = Record(ctx, client, tRec, ev)
		} else {
			rec, errRec = Record(ctx, client, tRec, ev)
			raw, res.Items, errRaw = Raw(ctx, client, tRaw, entries)
		}
		if err := errors.Join(errRaw, errRec); err != nil {
			return res, err
		}
		if res.Raw == 0 || raw < res.Raw {
			res.Raw = raw
		}
		if res.Recorder == 0 || rec < res.Recorder {
			res.Recorder = rec
		}
		read, err := Read(ctx, ev)
		if err != nil {
			return res, err
		}
		if res.Reading == 0 || read < res.Reading {
			res.Reading = read
		}
		tPer, err := newTable()
		if err != nil {
			return res, err
		}
		per, err := RawPerRecord(ctx, client, tPer, entries)
		if err != nil {
			return res, err
		}
		if res.PerRecord == 0 || per < res.PerRecord {
			res.PerRecord = per
		}
	}
	return res, nil
}
