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
// This package also owns the redaction every part of the pipeline uses
// (Redact, RequestPath, RequestQuery, Service) and the summary's model
// (SummaryQuery, Bucket, Counts).
//
// docs/usage.md describes the whole pipeline and its design choices.
package usage
