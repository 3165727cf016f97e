// Package usage is the seven-day usage history of PRODUCT.md rule 10: what
// one recorded call is (Record), how long it is kept (Retention), and how a
// history query is narrowed (Filter, and Window, which clamps every query
// to the retention period so that a record TTL has not deleted yet is never
// returned).
//
// The pieces around it:
//
//   - pkg/accesslog: the API Gateway access-log line a record is made from;
//   - pkg/usage/recorder: the Lambda logic that turns CloudWatch Logs
//     deliveries of those lines into records;
//   - pkg/usagestore: the DynamoDB table (packs, counts, keys, sharding, TTL);
//   - pkg/handlers/usage: GET /admin/usage (JSON or CSV) and
//     GET /admin/usage/summary.
//
// This package also owns the summary's model (SummaryQuery, Bucket,
// Counts). The redaction every part of the pipeline uses (a record's
// bounds, the path and query without the token) is pkg/redact's, a leaf
// that the access log and the audit log use without importing this
// package.
//
// docs/usage.md describes the whole pipeline and its design choices.
package usage
