// Package usagestore keeps usage records (pkg/usage) in the DynamoDB usage
// table described by schema.Usage.
//
// # Keys
//
// Every item is written under four keys, one per query GET /admin/usage
// can make, each an account's calls newest first within a time window:
//
//	table      pk        ACCOUNT#<account>#<shard>
//	byToken    tokenPk   ACCOUNT#<account>#TOKEN#<token ID>#<shard>
//	byUser     userPk    ACCOUNT#<account>#USER#<user ID>#<shard>     (user tokens only)
//	byService  servicePk ACCOUNT#<account>#SERVICE#<service>#<shard>
//	all        sk        <call time, 13-digit epoch ms>#<request ID>
//
// The account is part of every partition key, so no query can reach
// another account's records whatever its filters say. The sort key orders
// by time and is unique per call: a time window is one key condition, and a
// page cursor is simply the last sort key returned. A query picks the most
// selective index its filter allows (token, then user, then service, then
// the account) and applies any remaining filter as a filter expression. No
// request path ever scans.
//
// # Write sharding
//
// A DynamoDB partition absorbs about 1,000 write units per second, and a
// record (about 300 bytes) costs one unit in the table and one in each
// index it appears in. A busy account at 2,000 calls/s would overflow one
// partition twice over, and adaptive capacity's split-for-heat cannot help
// a partition whose writes all land at the end of a time-ordered sort key.
// So each key carries a shard, Shards of them, chosen by a hash of the
// request ID: an account (or one busy token) gets Shards x 1,000 writes/s
// of headroom, and a redelivered call lands on the same shard and key,
// which keeps writes idempotent. Reads pay for it by querying every shard
// in parallel and merging newest first; with Shards = 4 that is four small
// queries per page.
//
// # Writes
//
// PutRecords writes with BatchWriteItem, 25 items per request, a few
// requests in flight, and retries UnprocessedItems with capped exponential
// backoff and jitter. Items are PutRequests keyed by request ID, so a batch
// delivered twice leaves exactly one item per call. expiresAt is a number of
// epoch seconds (call time + usage.Retention) for native TTL.
package usagestore
