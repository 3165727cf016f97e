package usagestore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/acmedata/tokenservice/pkg/dynamoerr"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/usage"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

const (
	// batchSize is BatchWriteItem's limit.
	batchSize = 25
	// writers is how many BatchWriteItem requests one PutRecords keeps in
	// flight: enough to hide round trips, few enough not to self-throttle.
	writers = 4
	// maxAttempts bounds the BatchWriteItem calls for one batch when
	// DynamoDB keeps returning UnprocessedItems; the whole delivery then
	// fails and is retried by its sender, idempotently.
	maxAttempts = 10
	minBackoff  = 25 * time.Millisecond
	maxBackoff  = 2 * time.Second
)

// ErrUnprocessed reports items DynamoDB still refused after every retry.
var ErrUnprocessed = errors.New("usagestore: items left unprocessed after retries")

// Store reads and writes usage records.
type Store struct {
	api   API
	table string
	now   func() time.Time
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock the retention window is measured from
// (default time.Now): tests read fixtures recorded on a fixed date.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns a store over the usage table named table.
func New(api API, table string, opts ...Option) (*Store, error) {
	if api == nil {
		return nil, errors.New("usagestore: nil DynamoDB client")
	}
	if table == "" {
		return nil, errors.New("usagestore: empty table name")
	}
	s := &Store{api: api, table: table, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if s.now == nil {
		return nil, errors.New("usagestore: nil clock")
	}
	return s, nil
}

// PutRecords stores recs and adds them to the hourly counts. A record
// already stored (same request ID and time) is overwritten with the same
// content and not counted again, so a redelivered batch changes nothing.
// Records DynamoDB refuses for their content (a ValidationException, which
// no retry cures) are left out and reported in a *usage.RejectedError once
// the rest are stored and counted.
func (s *Store) PutRecords(ctx context.Context, recs []usage.Record) error {
	unique := dedupe(recs)
	ps, err := packs(unique)
	if err != nil {
		return err
	}
	reqs := make([]types.WriteRequest, len(ps))
	for i, p := range ps {
		av, err := p.marshal()
		if err != nil {
			return err
		}
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: av}}
	}
	// The counts are worked out while the packs are on their way.
	counted := make(chan []*chunk, 1)
	go func() { counted <- chunks(unique) }()
	rejected, err := s.putItems(ctx, reqs)
	cs := <-counted
	if err != nil {
		return err
	}
	var refused []usage.Record
	if len(rejected) > 0 {
		// Only the calls whose packs were written are counted.
		unique = unique[:0:0]
		for i, p := range ps {
			if rejected[i] {
				refused = append(refused, p.records...)
			} else {
				unique = append(unique, p.records...)
			}
		}
		cs = chunks(unique)
	}
	if err := s.addCounts(ctx, cs); err != nil {
		return err
	}
	if len(refused) > 0 {
		return &usage.RejectedError{Records: refused, Cause: errRefusedItem}
	}
	return nil
}

// dedupe keeps one record per request ID: a line delivered twice in one
// batch is the same call.
func dedupe(recs []usage.Record) []usage.Record {
	seen := make(map[string]bool, len(recs))
	out := make([]usage.Record, 0, len(recs))
	for _, r := range recs {
		if !seen[r.RequestID] {
			seen[r.RequestID] = true
			out = append(out, r)
		}
	}
	return out
}

// errRefusedItem is the cause of a RejectedError: it names no value.
var errRefusedItem = errors.New("usagestore: DynamoDB refused the item (ValidationException)")

// putItems writes reqs in batches, a few in flight, and returns the
// indexes of the requests DynamoDB refused for their content.
func (s *Store) putItems(ctx context.Context, reqs []types.WriteRequest) (map[int]bool, error) {
	// The first failure cancels the rest: the delivery fails as a whole.
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(writers)
	var (
		mu       sync.Mutex
		rejected = map[int]bool{}
	)
	for start := 0; start < len(reqs); start += batchSize {
		eg.Go(func() error {
			b := reqs[start:min(start+batchSize, len(reqs))]
			err := s.writeBatch(ctx, b)
			if !isValidation(err) {
				return err
			}
			// One item spoils the whole request: find it by writing each
			// alone, and keep the rest.
			for i := range b {
				if err := s.writeBatch(ctx, b[i:i+1]); isValidation(err) {
					mu.Lock()
					rejected[start+i] = true
					mu.Unlock()
				} else if err != nil {
					return err
				}
			}
			return nil
		})
	}
	return rejected, eg.Wait()
}

// isValidation reports DynamoDB refusing a request for what it holds.
func isValidation(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "ValidationException"
}

// writeBatch writes up to 25 requests, retrying what DynamoDB leaves
// unprocessed (it does so under throttling) with backoff and jitter.
func (s *Store) writeBatch(ctx context.Context, reqs []types.WriteRequest) error {
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		out, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{s.table: reqs},
		})
		if err != nil {
			return fmt.Errorf("usagestore: batch write: %w", storeErr(err))
		}
		reqs = out.UnprocessedItems[s.table]
		if len(reqs) == 0 {
			return nil
		}
		if attempt == maxAttempts {
			return fmt.Errorf("%w: %d items after %d attempts", ErrUnprocessed, len(reqs), attempt)
		}
		// Full jitter keeps concurrent writers from retrying in step.
		select {
		case <-time.After(rand.N(backoff) + time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("usagestore: batch write: %w", ctx.Err())
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// Records returns one page of accountID's records matching f, newest
// first, never older than usage.Retention.
func (s *Store) Records(ctx context.Context, accountID string, f usage.Filter, page paging.Request) (paging.Page[usage.Record], error) {
	limit := page.Limit
	if limit <= 0 {
		limit = paging.DefaultLimit
	}
	ix := chooseIndex(accountID, f)
	qid := queryID(accountID, f)
	from, to, ok := f.Window(s.now())
	if !ok {
		return paging.Page[usage.Record]{}, nil
	}
	lo, hi := lowerBound(from), upperBound(to)
	var after string
	if page.Cursor != "" {
		c, err := decodeCursor(page.Cursor, qid)
		if err != nil {
			return paging.Page[usage.Record]{}, err
		}
		after = c
		ms, _ := strconv.ParseInt(c[:13], 10, 64) // decodeCursor checked the 13 digits
		hi = min(hi, upperBound(time.UnixMilli(ms)))
	}
	if lo > hi {
		return paging.Page[usage.Record]{}, nil
	}

	// Each shard answers its newest limit+1 calls: if the merged result
	// holds more than limit, there is a next page; if not, every shard was
	// read to its end.
	results := make([][]usage.Record, Shards)
	errs := make([]error, Shards)
	var wg sync.WaitGroup
	for shard := range Shards {
		wg.Go(func() {
			results[shard], errs[shard] = s.queryShard(ctx, ix, ix.keyOf(shard), lo, hi, from, to, after, limit+1)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return paging.Page[usage.Record]{}, err
	}
	merged := newest(slices.Concat(results...))
	var p paging.Page[usage.Record]
	if len(merged) > limit {
		merged = merged[:limit]
		p.NextCursor = encodeCursor(qid, sortKey(merged[limit-1].Time, merged[limit-1].RequestID))
	}
	p.Items = merged
	return p, nil
}

// newest sorts calls newest first by sort key and drops a call seen twice
// (CloudWatch Logs may deliver a line in two batches: two packs hold it).
func newest(calls []usage.Record) []usage.Record {
	slices.SortFunc(calls, func(a, b usage.Record) int {
		return strings.Compare(sortKey(b.Time, b.RequestID), sortKey(a.Time, a.RequestID))
	})
	return slices.CompactFunc(calls, func(a, b usage.Record) bool { return a.RequestID == b.RequestID && a.Time.Equal(b.Time) })
}

// queryShard returns one shard's newest want calls in [from, to] older
// than the cursor key after (if any) that match the index's filters. It
// reads packs newest minute first and stops only at the end of a minute:
// packs of one minute may hold its calls in any order, and every call of
// an older minute is older than all of them.
func (s *Store) queryShard(ctx context.Context, ix index, pk, lo, hi string, from, to time.Time, after string, want int) ([]usage.Record, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames:  map[string]string{"#pk": ix.attr, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":lo": str(lo), ":hi": str(hi)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(min(want, 25))),
	}
	if ix.name != "" {
		in.IndexName = aws.String(ix.name)
	}
	var filters []string
	if ix.userID != "" {
		filters = append(filters, "#u = :u")
		in.ExpressionAttributeNames["#u"], in.ExpressionAttributeValues[":u"] = attrUserID, str(ix.userID)
	}
	if ix.service != "" {
		filters = append(filters, "contains(#svcs, :svc)")
		in.ExpressionAttributeNames["#svcs"], in.ExpressionAttributeValues[":svc"] = attrServices, str(ix.service)
	}
	if tag := ix.status.String(); tag != "" {
		// Packs written before packs held their statuses pass, and are
		// filtered call by call like every other.
		filters = append(filters, "(attribute_not_exists(#sts) OR contains(#sts, :sts))")
		in.ExpressionAttributeNames["#sts"], in.ExpressionAttributeValues[":sts"] = attrStatuses, str(tag)
	}
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
	}
	var calls []usage.Record
	minute := ""
	for {
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("usagestore: query: %w", storeErr(err))
		}
		var page []pack
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &page); err != nil {
			return nil, fmt.Errorf("usagestore: unmarshal packs: %w", err)
		}
		for _, p := range page {
			if m, _, _ := strings.Cut(p.SK, "#"); m != minute {
				if len(calls) >= want {
					return newest(calls)[:want], nil
				}
				minute = m
			}
			rs, err := p.calls()
			if err != nil {
				return nil, err
			}
			for _, r := range rs {
				if r.Time.Before(from) || r.Time.After(to) || (ix.service != "" && r.Service != ix.service) || !ix.status.Matches(r.Status) ||
					(after != "" && sortKey(r.Time, r.RequestID) >= after) {
					continue
				}
				calls = append(calls, r)
			}
		}
		if out.LastEvaluatedKey == nil {
			calls = newest(calls)
			return calls[:min(len(calls), want)], nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// storeErr classifies an SDK error for the HTTP layer: throttling is a
// 429, an unreachable or failing DynamoDB a 503 (pkg/dynamoerr); anything
// else is returned as it is.
func storeErr(err error) error {
	if transient, ok := dynamoerr.Transient(err); ok {
		return transient
	}
	return err
}
