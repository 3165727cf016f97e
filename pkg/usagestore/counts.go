package usagestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/acmedata/tokenservice/pkg/usage"
)

// Count items live in the usage table beside the records, under keys no
// record uses and without the index attributes, so no index holds them:
//
//	account  pk COUNT#<account>                  sk <hour>#<service>
//	token    pk COUNT#<account>#TOKEN#<shard>     sk <token ID>#<hour>#<service>
//	user     pk COUNT#<account>#USER#<shard>      sk <user ID>#<hour>#<service>
//	token by hour  pk COUNT#<account>#TOKENHOURS#<shard>  sk <hour>#<token ID>#<service>
//	user by hour   pk COUNT#<account>#USERHOURS#<shard>   sk <hour>#<user ID>#<service>
//	applied  pk COUNT#<account>#APPLIED           sk <hour>#<chunk ID>[#BYHOUR]
//
// <hour> is the hour's start in epoch seconds, ten digits, so keys sort by
// time. Each count item holds c2, c4, c5 and n (calls by status class and
// in all) and expires CountRetention after its hour.
//
// A delivery's calls are grouped by account and hour into chunks, and each
// chunk's counts are added in one transaction with an "applied" marker
// item named by a digest of the chunk's request IDs, on the condition that
// the marker does not exist yet. A redelivered batch makes the same chunks:
// their markers exist, the transactions are refused, nothing counts twice.
const (
	countPrefix = "COUNT#"
	// countShards spreads one account's token and user counts over
	// partitions: a hot account updates many of them per delivery.
	countShards = 4
	// maxCountActions is TransactWriteItems' limit of 100 actions, less
	// the marker.
	maxCountActions = 99
	// appliedRetention keeps a chunk's marker as long as its delivery may
	// come back: Lambda's retries, then 14 days in the failure queue.
	appliedRetention = 15 * 24 * time.Hour
	maxConflictTries = 8
)

type countKey struct {
	pk, sk                   string
	tokenID, userID, service string
	hour                     int64
}

func hourKey(t time.Time) string { return padded(t.Unix(), 10) }

func countShard(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return strconv.Itoa(int(h.Sum32() % countShards))
}

func accountCountPK(account string) string { return countPrefix + account }
func tokenCountPK(account, tokenID string) string {
	return countPrefix + account + "#TOKEN#" + countShard(tokenID)
}
func userCountPK(account, userID string) string {
	return countPrefix + account + "#USER#" + countShard(userID)
}

// countKeys lists the counts one call adds to.
func countKeys(r usage.Record, hour time.Time) []countKey {
	h := hourKey(hour)
	keys := []countKey{
		{pk: accountCountPK(r.AccountID), sk: h + "#" + r.Service, service: r.Service, hour: hour.Unix()},
		{pk: tokenCountPK(r.AccountID, r.TokenID), sk: r.TokenID + "#" + h + "#" + r.Service, tokenID: r.TokenID, userID: r.UserID, service: r.Service, hour: hour.Unix()},
	}
	if r.UserID != "" {
		keys = append(keys, countKey{pk: userCountPK(r.AccountID, r.UserID), sk: r.UserID + "#" + h + "#" + r.Service, userID: r.UserID, service: r.Service, hour: hour.Unix()})
	}
	return keys
}

// byHourMarker ends the marker of a chunk's copies by hour.
const byHourMarker = "#BYHOUR"

// byHour is the copy of a token's or a user's count item keyed by hour
// first (false for an account count, already keyed so):
//
//	pk COUNT#<account>#TOKENHOURS#<shard>   sk <hour>#<token ID>#<service>
//	pk COUNT#<account>#USERHOURS#<shard>    sk <hour>#<user ID>#<service>
//
// A summary grouped by token or by user reads these with its window as a
// key range: the counts of the window's hours only, never the account's
// 90 days of every token (the per-token items, keyed by token first, serve
// a summary of one token).
func byHour(account string, k countKey) (countKey, bool) {
	h := hourKey(time.Unix(k.hour, 0))
	switch {
	case k.tokenID != "":
		k.pk, k.sk = countPrefix+account+"#TOKENHOURS#"+countShard(k.tokenID), h+"#"+k.tokenID+"#"+k.service
	case k.userID != "":
		k.pk, k.sk = countPrefix+account+"#USERHOURS#"+countShard(k.userID), h+"#"+k.userID+"#"+k.service
	default:
		return countKey{}, false
	}
	return k, true
}

// chunk is calls of one account and hour whose counts one transaction adds.
type chunk struct {
	account string
	hour    time.Time
	ids     []string
	counts  map[countKey]usage.Counts
	order   []countKey
}

// chunks groups recs (validated, one per request ID) into chunks of at
// most maxCountActions counts. The grouping depends only on the records,
// never on their order, so a redelivery makes the same chunks: they are
// sorted by account, hour, token, service and request ID, and cut where
// the next call's counts would not fit.
func chunks(recs []usage.Record) []*chunk {
	type keyed struct {
		key  string // account, hour, token, service, request ID
		hour time.Time
		r    *usage.Record
	}
	sorted := make([]keyed, len(recs))
	for i := range recs {
		r := &recs[i]
		hour := r.Time.UTC().Truncate(time.Hour)
		sorted[i] = keyed{r.AccountID + "\x00" + hourKey(hour) + "\x00" + r.TokenID + "\x00" + r.Service + "\x00" + r.RequestID, hour, r}
	}
	slices.SortFunc(sorted, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	var out []*chunk
	var cur *chunk
	var keys []countKey // the counts of the calls since the last change of account, hour, token, service or user
	for i, k := range sorted {
		r := k.r
		if i == 0 || !sameCounts(*sorted[i-1].r, *r) || !sorted[i-1].hour.Equal(k.hour) {
			keys = countKeys(*r, k.hour)
		}
		fresh := 0
		if cur != nil {
			for _, ck := range keys {
				if _, ok := cur.counts[ck]; !ok {
					fresh++
				}
			}
		}
		if cur == nil || cur.account != r.AccountID || !cur.hour.Equal(k.hour) || len(cur.counts)+fresh > maxCountActions {
			cur = &chunk{account: r.AccountID, hour: k.hour, counts: map[countKey]usage.Counts{}}
			out = append(out, cur)
		}
		cur.ids = append(cur.ids, r.RequestID)
		for _, ck := range keys {
			if _, ok := cur.counts[ck]; !ok {
				cur.order = append(cur.order, ck)
			}
			cur.counts[ck] = cur.counts[ck].Add(usage.CountsOf(r.Status))
		}
	}
	return out
}

// sameCounts reports whether two calls of one hour add to the same counts.
func sameCounts(a, b usage.Record) bool {
	return a.AccountID == b.AccountID && a.TokenID == b.TokenID && a.UserID == b.UserID && a.Service == b.Service
}

// id names the chunk by its calls.
func (c *chunk) id() string {
	sum := sha256.Sum256([]byte(strings.Join(c.ids, "\x00")))
	return hex.EncodeToString(sum[:12])
}

// addCounts adds the counts of cs, idempotently (see above). Chunks of
// different accounts or hours share no item and are added in parallel;
// those of one account and hour share its account counts, and are added
// one after another so they do not conflict.
func (s *Store) addCounts(ctx context.Context, cs []*chunk) error {
	type group struct {
		account string
		hour    int64
	}
	groups := map[group][]*chunk{}
	var order []group
	for _, c := range cs {
		g := group{c.account, c.hour.Unix()}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], c)
	}
	var eg errgroup.Group
	eg.SetLimit(writers)
	for _, g := range order {
		eg.Go(func() error {
			for _, c := range groups[g] {
				if err := s.applyChunk(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return eg.Wait()
}

// applyChunk adds a chunk's counts in one transaction, then their copies
// by hour (byHour) in a second one with a marker of its own: each is
// idempotent, so a crash between them is mended by the redelivery, and a
// chunk counted before the copies existed gets them when delivered again.
// The chunks themselves (and so their markers) are the ones earlier
// releases made.
func (s *Store) applyChunk(ctx context.Context, c *chunk) error {
	table := aws.String(s.table)
	var counts, copies []types.TransactWriteItem
	for _, k := range c.order {
		counts = append(counts, types.TransactWriteItem{Update: addTo(table, newCountItem(c.hour, k, c.counts[k]))})
		if h, ok := byHour(c.account, k); ok {
			copies = append(copies, types.TransactWriteItem{Update: addTo(table, newCountItem(c.hour, h, c.counts[k]))})
		}
	}
	if err := s.applyOnce(ctx, c.marker(""), counts); err != nil {
		return err
	}
	if len(copies) == 0 {
		return nil
	}
	return s.applyOnce(ctx, c.marker(byHourMarker), copies)
}

// applyOnce runs updates in one transaction with marker, unless the marker
// exists (an earlier delivery applied them).
func (s *Store) applyOnce(ctx context.Context, marker map[string]types.AttributeValue, updates []types.TransactWriteItem) error {
	table := aws.String(s.table)
	items := append([]types.TransactWriteItem{{Put: &types.Put{
		TableName:           table,
		Item:                marker,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}}, updates...)
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var canceled *types.TransactionCanceledException
		if err == nil || !errors.As(err, &canceled) {
			if err != nil {
				return fmt.Errorf("usagestore: add counts: %w", storeErr(err))
			}
			return nil
		}
		if len(canceled.CancellationReasons) > 0 && aws.ToString(canceled.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
			return nil // this chunk was counted by an earlier delivery
		}
		if attempt == maxConflictTries {
			return fmt.Errorf("usagestore: add counts: %w", storeErr(err))
		}
		// Concurrent deliveries of one account conflict on its counts:
		// wait with full jitter and try again.
		select {
		case <-time.After(rand.N(backoff) + time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("usagestore: add counts: %w", ctx.Err())
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// marker is the chunk's "applied" item (suffix "") or that of its copies
// by hour (byHourMarker).
func (c *chunk) marker(suffix string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: str(countPrefix + c.account + "#APPLIED"), attrSK: str(hourKey(c.hour) + "#" + c.id() + suffix),
		"expiresAt": num(c.hour.Add(appliedRetention).Unix()),
	}
}

// counters are the attributes of a count item that calls add to; every
// other attribute describes the item.
var counters = []string{"c2", "c4", "c5", "n"}

// newCountItem is the count item k of hour holding n.
func newCountItem(hour time.Time, k countKey, n usage.Counts) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		attrPK: str(k.pk), attrSK: str(k.sk), "hour": num(k.hour), attrService: str(k.service),
		"expiresAt": num(hour.Add(usage.CountRetention).Unix()),
		"c2":        num(n.Class2xx), "c4": num(n.Class4xx), "c5": num(n.Class5xx), "n": num(n.Total),
	}
	if k.tokenID != "" {
		item["tokenId"] = str(k.tokenID)
	}
	if k.userID != "" {
		item[attrUserID] = str(k.userID)
	}
	return item
}

// addTo is the update that adds a count item to the stored one: its
// counters added, its other attributes set, so the item is the one owner
// of what a count holds.
func addTo(table *string, item map[string]types.AttributeValue) *types.Update {
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	var set, add []string
	attrs := slices.Sorted(maps.Keys(item))
	for i, name := range attrs {
		if name == attrPK || name == attrSK {
			continue
		}
		n, v := "#a"+strconv.Itoa(i), ":a"+strconv.Itoa(i)
		names[n], values[v] = name, item[name]
		if slices.Contains(counters, name) {
			add = append(add, n+" "+v)
		} else {
			set = append(set, n+" = "+v)
		}
	}
	return &types.Update{
		TableName:                 table,
		Key:                       map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]},
		UpdateExpression:          aws.String("SET " + strings.Join(set, ", ") + " ADD " + strings.Join(add, ", ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// countItem is a count item as read.
type countItem struct {
	SK      string `dynamodbav:"sk"`
	Hour    int64  `dynamodbav:"hour"`
	Service string `dynamodbav:"service"`
	TokenID string `dynamodbav:"tokenId"`
	UserID  string `dynamodbav:"userId"`
	C2      int64  `dynamodbav:"c2"`
	C4      int64  `dynamodbav:"c4"`
	C5      int64  `dynamodbav:"c5"`
	N       int64  `dynamodbav:"n"`
}

// Summary returns accountID's call counts per interval (and group) in the
// query's window. Each read is a Query of one partition's count items
// within the window, as a key range (grouped by token or user, the copies
// by hour); filters on what the key does not hold are applied as the
// items are summed.
func (s *Store) Summary(ctx context.Context, accountID string, q usage.SummaryQuery) (usage.Summary, error) {
	from, to, ok := q.Window(s.now())
	if !ok {
		return usage.Summary{From: from, To: from}, nil
	}
	lastHour := to.Add(-time.Hour)
	// Every read is one partition's count items within the window, as a
	// key range: what it examines is what the window holds.
	type read struct {
		pk, lo, hi string
	}
	var reads []read
	inWindow := func(prefix string) read {
		return read{lo: prefix + hourKey(from), hi: prefix + hourKey(lastHour) + "#~"}
	}
	all := func(pk func(shard int) string) {
		for shard := range countShards {
			r := inWindow("")
			r.pk = pk(shard)
			reads = append(reads, r)
		}
	}
	switch {
	case q.TokenID != "":
		r := inWindow(q.TokenID + "#")
		r.pk = tokenCountPK(accountID, q.TokenID)
		reads = append(reads, r)
	case q.GroupBy == usage.GroupByToken:
		all(func(shard int) string { return countPrefix + accountID + "#TOKENHOURS#" + strconv.Itoa(shard) })
	case q.UserID != "":
		r := inWindow(q.UserID + "#")
		r.pk = userCountPK(accountID, q.UserID)
		reads = append(reads, r)
	case q.GroupBy == usage.GroupByUser:
		all(func(shard int) string { return countPrefix + accountID + "#USERHOURS#" + strconv.Itoa(shard) })
	default:
		r := inWindow("")
		r.pk = accountCountPK(accountID)
		reads = append(reads, r)
	}
	sums := map[[2]string]usage.Counts{}
	for _, r := range reads {
		in := &dynamodb.QueryInput{
			TableName:              aws.String(s.table),
			KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(r.pk), ":lo": str(r.lo), ":hi": str(r.hi),
			},
		}
		for {
			out, err := s.api.Query(ctx, in)
			if err != nil {
				return usage.Summary{}, fmt.Errorf("usagestore: query counts: %w", storeErr(err))
			}
			var items []countItem
			if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
				return usage.Summary{}, fmt.Errorf("usagestore: unmarshal counts: %w", err)
			}
			for _, it := range items {
				if (q.Service != "" && it.Service != q.Service) || (q.UserID != "" && it.UserID != q.UserID) {
					continue
				}
				group := map[usage.GroupBy]string{usage.GroupByToken: it.TokenID, usage.GroupByUser: it.UserID, usage.GroupByService: it.Service}[q.GroupBy]
				start := time.Unix(it.Hour, 0).UTC().Truncate(q.Interval.Duration())
				k := [2]string{start.Format(time.RFC3339), group}
				sums[k] = sums[k].Add(usage.Counts{Class2xx: it.C2, Class4xx: it.C4, Class5xx: it.C5, Total: it.N})
			}
			if out.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	out := make([]usage.Bucket, 0, len(sums))
	for k, c := range sums {
		start, _ := time.Parse(time.RFC3339, k[0])
		out = append(out, usage.Bucket{Start: start, Group: k[1], Counts: c})
	}
	slices.SortFunc(out, func(a, b usage.Bucket) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.Group, b.Group)
	})
	return usage.Summary{From: from, To: to, Buckets: out}, nil
}
