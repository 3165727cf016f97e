// Package usagestore keeps usage records (pkg/usage) and their hourly
// counts in the DynamoDB usage table described by schema.Usage.
//
// # Packs
//
// A record item packs the calls of one token in one minute of one
// delivery (at most 256 calls, DEFLATE-compressed JSON), so a recorded
// call costs a fraction of a write unit instead of one per item and index:
//
//	table    pk       ACCOUNT#<account>#<shard>
//	byToken  tokenPk  ACCOUNT#<account>#TOKEN#<token ID>#<shard>
//	byUser   userPk   ACCOUNT#<account>#USER#<user ID>#<shard>   (user tokens only)
//	all      sk       <minute start, 13-digit epoch ms>#<pack ID>
//
// The pack ID is a digest of its calls' request IDs and the shard a hash of
// the pack ID: a delivery written again writes the same items, and one hot
// token's packs spread over Shards partitions of the table and of each
// index. The account is part of every partition key, so no query can reach
// another account's records whatever its filters say. A query picks the
// token's index, else the user's, else the account's; a service is a
// filter (a token serves one service, so an index per service would buy
// little for a write per pack). Each shard is read newest minute first to
// the end of a minute, then the shards are merged newest first; a call two
// packs hold is shown once. No request path ever scans.
//
// # Counts
//
// PutRecords also adds every call to hourly counts per account and
// service, per token and per user (counts.go), idempotently: a delivery's
// calls are counted in chunks, each in one transaction with a marker that
// a redelivery finds.
//
// # Writes
//
// PutRecords writes packs with BatchWriteItem, 25 per request, a few
// requests in flight, and retries UnprocessedItems with capped exponential
// backoff and jitter. A batch DynamoDB refuses for its content is written
// item by item and the refused packs' calls are reported in a
// usage.RejectedError, the rest written and counted. expiresAt is a number
// of epoch seconds (newest call + usage.Retention) for native TTL.
//
// docs/usage.md has the whole layout, its access patterns and its cost.
package usagestore
