// Package recorder is the usage recorder Lambda's logic: it receives
// CloudWatch Logs subscription deliveries (events.CloudwatchLogsEvent,
// gzip+base64), turns each line into a usage record, writes the batch and
// moves the tokens' lastUsedAt forward.
//
// Two kinds of line reach it:
//
//   - API Gateway access-log lines (pkg/accesslog.Format), for every call.
//     A line with the authorizer's token context (Allow, or a Deny's 403)
//     becomes a record; a line without it (a 401, an admin or public call)
//     is skipped, because it cannot be attributed to a token.
//   - The token authorizer's decision lines. Only "unauthorized" decisions
//     of a known token become records: they are exactly the calls whose
//     access-log line carries no context. Allow and deny decisions are
//     ignored because the access log already records them (with the
//     status and latency only it knows).
//
// So each call is recorded from exactly one source, and records are keyed
// by request ID, so a delivery retried by Lambda or the local shipper
// writes the same items again instead of new ones.
//
// A line that cannot be parsed is skipped and counted, never failing the
// batch: failing it would make Lambda retry the same bad line forever while
// the good ones wait. A storage failure does fail the delivery, so it is
// retried whole, idempotently.
//
// lastUsedAt moves through TokenMarker, at most one call per token per
// delivery, with the token's latest call time in it; refused calls count as
// use too, since a client still presenting a revoked token is exactly what
// an admin wants to see after a rotation.
package recorder
