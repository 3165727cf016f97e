// Package accesslog is the contract between API Gateway's stage access log
// and the usage recorder: the access-log format the stage writes (Format),
// one line of it as a Go value (Entry), parsing a line back (Parse), the
// token authorizer's decision line (DecisionLine, whose decision words and
// field names the API-key authorizer's line shares), and the CloudWatch
// Logs subscription envelope the recorder Lambda receives (Decode). The
// local stack's stand-in for CloudWatch Logs is pkg/local/cwlogs (its
// Shipper).
//
// # Why the access log
//
// The stage access log sees every call API Gateway answers — served,
// denied, refused, and answered from an authorizer cache — without adding a
// millisecond to the authorizer or the backend. A subscription filter
// streams it to the recorder in batches, so usage is written with
// BatchWriteItem rather than one write per call.
//
// # Format choices
//
// Every value in Format is quoted. API Gateway writes "-" for a variable it
// has no value for; an unquoted "-" would make the whole line invalid JSON.
// Parse therefore reads numbers from strings or numbers and treats "-" as
// empty. The resource path ($context.resourcePath, e.g.
// /feed/{token}/{service}/{proxy+}) is logged, never $context.path, which
// would carry a path-form token into the logs: the request's path and query
// come redacted from the authorizer's context ($context.authorizer.path,
// $context.authorizer.query; see redact.RequestPath). API Gateway does not
// JSON-escape what it substitutes, so every context value the authorizer
// sets is escaped to be JSON-safe.
//
// The authorizer's context values (accountId, tokenId, ...) reach the line
// on Allow and on an explicit Deny (403). A 401 ("Unauthorized") carries no
// context, so such a line cannot be attributed; refused calls of a known
// token reach usage through the authorizer's own decision line instead
// (DecisionLine, the one definition of that line; see docs/usage.md).
package accesslog
