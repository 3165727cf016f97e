package usagestore

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/usage"
)

// Shards is the number of write shards per account and per token: see the
// package doc.
const Shards = 4

// Packing bounds: a pack holds the calls of one token in one minute of
// one delivery, at most packCalls of them and packBytes of encoded calls
// before compression, so no pack nears DynamoDB's 400 KB item limit
// whatever the calls hold.
const (
	bucketWidth = time.Minute
	packCalls   = 256
	packBytes   = 256 << 10
)

// Attribute names beyond the keys in schema.Usage.
const (
	attrPK       = "pk"
	attrSK       = "sk"
	attrTokenPK  = "tokenPk"
	attrUserPK   = "userPk"
	attrUserID   = "userId"
	attrService  = "service"
	attrServices = "services"
	attrStatuses = "statuses"
)

// pack is the stored form of up to packCalls calls of one token in one
// minute: the calls, compressed, under keys that name the account (table),
// the token (byToken) and its user (byUser, user tokens only).
type pack struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	TokenPK string `dynamodbav:"tokenPk"`
	UserPK  string `dynamodbav:"userPk,omitempty"`
	// ExpiresAt is epoch seconds, the only form DynamoDB's TTL reads: the
	// newest call's time plus usage.Retention.
	ExpiresAt int64    `dynamodbav:"expiresAt"`
	AccountID string   `dynamodbav:"accountId"`
	TokenID   string   `dynamodbav:"tokenId"`
	UserID    string   `dynamodbav:"userId,omitempty"`
	Services  []string `dynamodbav:"services,stringset"`
	// Statuses are the statuses and status classes of the calls
	// (usage.StatusTags), for the status filter.
	Statuses []string `dynamodbav:"statuses,stringset,omitempty"`
	N        int      `dynamodbav:"n"`
	// Calls is the calls as a JSON array of packedCall, DEFLATE-compressed.
	Calls []byte `dynamodbav:"calls"`

	records []usage.Record // the calls, for writing; never stored
}

// packedCall is one call inside a pack; what the pack's keys say (account,
// token, user) is not repeated.
type packedCall struct {
	TimeMs    int64  `json:"t"`
	RequestID string `json:"r"`
	Service   string `json:"s,omitempty"`
	Method    string `json:"m,omitempty"`
	Path      string `json:"p,omitempty"`
	Query     string `json:"q,omitempty"`
	Status    int    `json:"c"`
	LatencyMs int64  `json:"l,omitempty"`
	SourceIP  string `json:"i,omitempty"`
}

// packs groups recs (bounded, one per request ID) into packs. The grouping
// depends only on the records, never on their order: a delivery written
// again makes the same packs under the same keys, which overwrite
// themselves.
func packs(recs []usage.Record) ([]pack, error) {
	type group struct {
		account, token, user string
		bucket               int64
	}
	groups := map[group][]usage.Record{}
	var order []group
	for _, r := range recs {
		r = r.Bounded()
		g := group{r.AccountID, r.TokenID, r.UserID, r.Time.Truncate(bucketWidth).UnixMilli()}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], r)
	}
	var out []pack
	for _, g := range order {
		rs := groups[g]
		slices.SortFunc(rs, func(a, b usage.Record) int { return strings.Compare(a.RequestID, b.RequestID) })
		for len(rs) > 0 {
			n, size := 0, 0
			for n < len(rs) && n < packCalls {
				size += len(rs[n].Path) + len(rs[n].Query) + len(rs[n].RequestID) + 128
				if n > 0 && size > packBytes {
					break
				}
				n++
			}
			p, err := newPack(g.bucket, rs[:n])
			if err != nil {
				return nil, err
			}
			out = append(out, p)
			rs = rs[n:]
		}
	}
	return out, nil
}

// compressors keeps DEFLATE writers between packs: a new one allocates and
// clears some 600 KB of state, more than compressing a pack costs.
var compressors = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.DefaultCompression) // the level is valid: no error
	return w
}}

func newPack(bucketMs int64, rs []usage.Record) (pack, error) {
	calls := make([]packedCall, len(rs))
	ids := make([]string, len(rs))
	services, statuses := map[string]bool{}, map[string]bool{}
	var newest time.Time
	for i, r := range rs {
		calls[i] = packedCall{
			TimeMs: r.Time.UnixMilli() - bucketMs, RequestID: r.RequestID, Service: r.Service, Method: r.Method,
			Path: r.Path, Query: r.Query, Status: r.Status, LatencyMs: r.LatencyMs, SourceIP: r.SourceIP,
		}
		ids[i] = r.RequestID
		services[r.Service] = true
		for _, tag := range usage.StatusTags(r.Status) {
			statuses[tag] = true
		}
		if r.Time.After(newest) {
			newest = r.Time
		}
	}
	raw, err := json.Marshal(calls)
	if err != nil {
		return pack{}, fmt.Errorf("usagestore: encode calls: %w", err)
	}
	var z bytes.Buffer
	w := compressors.Get().(*flate.Writer)
	defer compressors.Put(w)
	w.Reset(&z)
	_, _ = w.Write(raw) // a bytes.Buffer does not fail
	if err := w.Close(); err != nil {
		return pack{}, fmt.Errorf("usagestore: compress calls: %w", err)
	}
	sum := sha256.Sum256([]byte(strings.Join(ids, "\x00")))
	id := hex.EncodeToString(sum[:10])
	first := rs[0]
	shard := shardOf(id)
	p := pack{
		PK:        accountKey(first.AccountID, shard),
		SK:        padded(bucketMs, 13) + "#" + id,
		TokenPK:   partKey(first.AccountID, "TOKEN", first.TokenID, shard),
		ExpiresAt: newest.Add(usage.Retention).Unix(),
		AccountID: first.AccountID, TokenID: first.TokenID, UserID: first.UserID,
		Services: sortedKeys(services), N: len(rs), Calls: z.Bytes(), records: rs,
	}
	if first.UserID != "" {
		p.UserPK = partKey(first.AccountID, "USER", first.UserID, shard)
	}
	if len(statuses) > 0 {
		p.Statuses = sortedKeys(statuses)
	}
	return p, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k == "" {
			k = "-" // a string set holds no empty string
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (p pack) marshal() (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(p)
	if err != nil {
		return nil, fmt.Errorf("usagestore: marshal pack %s: %w", p.SK, err)
	}
	return av, nil
}

// calls decodes a pack's calls.
func (p pack) calls() ([]usage.Record, error) {
	bucketMs, _, _ := strings.Cut(p.SK, "#")
	base, err := strconv.ParseInt(bucketMs, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("usagestore: pack %s: bad sort key", p.SK)
	}
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(p.Calls)), 4<<20))
	if err != nil {
		return nil, fmt.Errorf("usagestore: pack %s: %w", p.SK, err)
	}
	var calls []packedCall
	if err := json.Unmarshal(raw, &calls); err != nil {
		return nil, fmt.Errorf("usagestore: pack %s: %w", p.SK, err)
	}
	out := make([]usage.Record, len(calls))
	for i, c := range calls {
		out[i] = usage.Record{
			Time: time.UnixMilli(base + c.TimeMs).UTC(), RequestID: c.RequestID, AccountID: p.AccountID, TokenID: p.TokenID,
			UserID: p.UserID, Service: c.Service, Method: c.Method, Path: c.Path, Query: c.Query, Status: c.Status,
			LatencyMs: c.LatencyMs, SourceIP: c.SourceIP,
		}
	}
	return out, nil
}

// Item returns r alone as the store would write it (a pack of one call),
// for tests and tools that write the table directly.
func Item(r usage.Record) (map[string]types.AttributeValue, error) {
	ps, err := packs([]usage.Record{r})
	if err != nil {
		return nil, err
	}
	return ps[0].marshal()
}

// Items returns every item the store leaves in a fresh table for recs: the
// packs, the hourly count items (and their copies by hour) with their
// totals and the chunks' "applied" markers. It is the raw BatchWriteItem baseline's work in the
// benchmark (pkg/testkit/usagebench): the same items, written the plainest
// way, so the recorder is compared with writing what it writes.
func Items(recs []usage.Record) ([]map[string]types.AttributeValue, error) {
	unique := dedupe(recs)
	ps, err := packs(unique)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]types.AttributeValue, len(ps))
	for i, p := range ps {
		if out[i], err = p.marshal(); err != nil {
			return nil, err
		}
	}
	// A count that several chunks add to is one item holding their sum.
	type count struct {
		hour time.Time
		n    usage.Counts
	}
	totals := map[countKey]count{}
	var order []countKey
	add := func(k countKey, hour time.Time, n usage.Counts) {
		t, ok := totals[k]
		if !ok {
			order = append(order, k)
		}
		totals[k] = count{hour, t.n.Add(n)}
	}
	for _, c := range chunks(unique) {
		out = append(out, c.marker(""))
		copied := false
		for _, k := range c.order {
			add(k, c.hour, c.counts[k])
			if h, ok := byHour(c.account, k); ok {
				add(h, c.hour, c.counts[k])
				copied = true
			}
		}
		if copied {
			out = append(out, c.marker(byHourMarker))
		}
	}
	for _, k := range order {
		out = append(out, newCountItem(totals[k].hour, k, totals[k].n))
	}
	return out, nil
}

// shardOf spreads packs over the shards by their ID, so the same pack
// always maps to the same shard.
func shardOf(packID string) int {
	h := fnv.New32a()
	h.Write([]byte(packID))
	return int(h.Sum32() % Shards)
}

func accountKey(accountID string, shard int) string {
	return "ACCOUNT#" + accountID + "#" + strconv.Itoa(shard)
}

func partKey(accountID, kind, value string, shard int) string {
	return "ACCOUNT#" + accountID + "#" + kind + "#" + value + "#" + strconv.Itoa(shard)
}

// sortKey orders calls by time (fixed-width epoch milliseconds sort as
// strings) and makes the key unique per call: a page cursor is the last
// call's sortKey.
func sortKey(t time.Time, requestID string) string {
	return timePrefix(t) + "#" + requestID
}

func timePrefix(t time.Time) string { return padded(t.UnixMilli(), 13) }

// padded is n in decimal, zero-padded to width digits (fmt's %0*d for a
// non-negative n), so fixed-width keys sort as numbers; it is on the
// recorder's per-call path, where fmt's cost shows.
func padded(n int64, width int) string {
	var buf [20]byte
	b := strconv.AppendInt(buf[:0], n, 10)
	if len(b) >= width {
		return string(b)
	}
	return strings.Repeat("0", width-len(b)) + string(b)
}

// Pack sort-key bounds for the calls at times [from, to]: every pack
// holding such a call starts at a minute in [from's minute, to's minute],
// and '#' < '~' bounds the pack IDs.
func lowerBound(from time.Time) string { return timePrefix(from.Truncate(bucketWidth)) + "#" }
func upperBound(to time.Time) string   { return timePrefix(to.Truncate(bucketWidth)) + "#~" }

// index is one way to query: an index (empty: the table), the partition
// key attribute and value for a shard, and what a filter must still check.
type index struct {
	name            string
	attr            string
	keyOf           func(shard int) string
	userID, service string // filters the key does not cover
	status          usage.Status
}

// chooseIndex picks the most selective index f allows for accountID: the
// token's, then the user's, else the account's. A service narrows by
// filter: a token's calls name one service almost always, so an index per
// service would cost a write per call for little.
func chooseIndex(accountID string, f usage.Filter) index {
	switch {
	case f.TokenID != "":
		return index{schema.UsageByToken, attrTokenPK, func(s int) string { return partKey(accountID, "TOKEN", f.TokenID, s) }, f.UserID, f.Service, f.Status}
	case f.UserID != "":
		return index{schema.UsageByUser, attrUserPK, func(s int) string { return partKey(accountID, "USER", f.UserID, s) }, "", f.Service, f.Status}
	}
	return index{"", attrPK, func(s int) string { return accountKey(accountID, s) }, "", f.Service, f.Status}
}
