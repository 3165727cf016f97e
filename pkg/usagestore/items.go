package usagestore

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hash/fnv"
	"strconv"
	"time"

	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/usage"
)

// Shards is the number of write shards per account: see the package doc.
const Shards = 4

// Attribute names beyond the keys in schema.Usage.
const (
	attrPK        = "pk"
	attrSK        = "sk"
	attrTokenPK   = "tokenPk"
	attrUserPK    = "userPk"
	attrServicePK = "servicePk"
	attrTokenID   = "tokenId"
	attrUserID    = "userId"
	attrService   = "service"
)

// item is a record as stored.
type item struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	TokenPK   string `dynamodbav:"tokenPk,omitempty"`
	UserPK    string `dynamodbav:"userPk,omitempty"`
	ServicePK string `dynamodbav:"servicePk,omitempty"`
	// ExpiresAt is epoch seconds, the only form DynamoDB's TTL reads.
	ExpiresAt int64  `dynamodbav:"expiresAt"`
	TimeMs    int64  `dynamodbav:"timeMs"`
	RequestID string `dynamodbav:"requestId"`
	AccountID string `dynamodbav:"accountId"`
	TokenID   string `dynamodbav:"tokenId"`
	UserID    string `dynamodbav:"userId,omitempty"`
	Service   string `dynamodbav:"service,omitempty"`
	Method    string `dynamodbav:"method"`
	Path      string `dynamodbav:"path"`
	Query     string `dynamodbav:"query,omitempty"`
	Status    int    `dynamodbav:"status"`
	LatencyMs int64  `dynamodbav:"latencyMs"`
	SourceIP  string `dynamodbav:"sourceIp,omitempty"`
}

func newItem(r usage.Record) item {
	r = r.Bounded()
	shard := shardOf(r.RequestID)
	it := item{
		PK:        accountKey(r.AccountID, shard),
		SK:        sortKey(r.Time, r.RequestID),
		TokenPK:   partKey(r.AccountID, "TOKEN", r.TokenID, shard),
		ExpiresAt: r.ExpiresAt().Unix(),
		TimeMs:    r.Time.UnixMilli(),
		RequestID: r.RequestID, AccountID: r.AccountID, TokenID: r.TokenID, UserID: r.UserID,
		Service: r.Service, Method: r.Method, Path: r.Path, Query: r.Query,
		Status: r.Status, LatencyMs: r.LatencyMs, SourceIP: r.SourceIP,
	}
	// Sparse indexes: a userless call has no place in byUser.
	if r.UserID != "" {
		it.UserPK = partKey(r.AccountID, "USER", r.UserID, shard)
	}
	if r.Service != "" {
		it.ServicePK = partKey(r.AccountID, "SERVICE", r.Service, shard)
	}
	return it
}

// Item returns r as the store writes it, for tools that write the table
// directly (the benchmark's raw BatchWriteItem baseline).
func Item(r usage.Record) (map[string]types.AttributeValue, error) { return newItem(r).marshal() }

func (it item) marshal() (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("usagestore: marshal record %s: %w", it.RequestID, err)
	}
	return av, nil
}

func (it item) record() usage.Record {
	return usage.Record{
		Time: time.UnixMilli(it.TimeMs).UTC(), RequestID: it.RequestID, AccountID: it.AccountID,
		TokenID: it.TokenID, UserID: it.UserID, Service: it.Service, Method: it.Method, Path: it.Path, Query: it.Query,
		Status: it.Status, LatencyMs: it.LatencyMs, SourceIP: it.SourceIP,
	}
}

// shardOf spreads calls over the shards by request ID, so that the same
// call always maps to the same shard.
func shardOf(requestID string) int {
	h := fnv.New32a()
	h.Write([]byte(requestID))
	return int(h.Sum32() % Shards)
}

func accountKey(accountID string, shard int) string {
	return "ACCOUNT#" + accountID + "#" + strconv.Itoa(shard)
}

func partKey(accountID, kind, value string, shard int) string {
	return "ACCOUNT#" + accountID + "#" + kind + "#" + value + "#" + strconv.Itoa(shard)
}

// sortKey orders by time (fixed-width epoch milliseconds sort as strings)
// and makes the key unique per call.
func sortKey(t time.Time, requestID string) string {
	return timePrefix(t) + "#" + requestID
}

func timePrefix(t time.Time) string { return fmt.Sprintf("%013d", t.UnixMilli()) }

// Key bounds for a time window: every sort key of a call at t lies in
// [lowerBound(t), upperBound(t)], since '#' < '~' and request IDs are
// printable ASCII below '~'.
func lowerBound(t time.Time) string { return timePrefix(t) + "#" }
func upperBound(t time.Time) string { return timePrefix(t) + "#~" }

// index is one way to query: an index (empty: the table) and the
// partition key attribute and value for a shard.
type index struct {
	name    string
	attr    string
	keyOf   func(shard int) string
	filters map[string]string // attribute -> value, applied as a filter expression
}

// chooseIndex picks the most selective index f allows for accountID.
func chooseIndex(accountID string, f usage.Filter) index {
	rest := map[string]string{}
	add := func(attr, v string) {
		if v != "" {
			rest[attr] = v
		}
	}
	switch {
	case f.TokenID != "":
		add(attrUserID, f.UserID)
		add(attrService, f.Service)
		return index{schema.UsageByToken, attrTokenPK, func(s int) string { return partKey(accountID, "TOKEN", f.TokenID, s) }, rest}
	case f.UserID != "":
		add(attrService, f.Service)
		return index{schema.UsageByUser, attrUserPK, func(s int) string { return partKey(accountID, "USER", f.UserID, s) }, rest}
	case f.Service != "":
		return index{schema.UsageByService, attrServicePK, func(s int) string { return partKey(accountID, "SERVICE", f.Service, s) }, rest}
	}
	return index{"", attrPK, func(s int) string { return accountKey(accountID, s) }, rest}
}
