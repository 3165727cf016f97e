// Package authz is the REQUEST authorizer that guards the data routes: it
// finds the token a request presents, looks its credential up by hash, lets
// tokens.Verify decide, and answers API Gateway in its own terms.
//
// # Decisions
//
// Every request ends in exactly one of four answers, and one log line:
//
//   - 401: apigw.ErrUnauthorized, the one error text API Gateway maps to
//     401, for every outcome that condemns the token itself (missing,
//     malformed, ambiguous, unknown or deleted, disabled, expired, made
//     under a replaced API key, account closed).
//   - 403: an explicit Deny for the outcomes that refuse a genuine token for
//     this request only (tokens.Outcome.Forbidden: token_wrong_service,
//     user_access_off, service_not_subscribed, origin_not_allowed,
//     ip_not_allowed), and for a valid token whose request no policy can
//     name exactly (a literal '*' or '?' in a path outside the service's
//     data routes), which answers the gateway's plain forbidden. The Deny
//     carries the token's identity in its context so the access log can
//     attribute the refusal, and the precise reason (code and message) the
//     gateway's ACCESS_DENIED response answers.
//   - Allow: a scoped policy, the caller's identity in the context, and the
//     usage key of the token's plan: API Gateway's usage plan, not the
//     authorizer, answers 429 rate_limited or quota_exceeded
//     (docs/limits.md).
//   - 500: any other error, when the authorizer cannot decide: the store
//     failed or timed out (ErrStoreUnavailable), or the route names no
//     service (ErrNoService). It fails closed: nothing is allowed that was
//     not verified.
//
// A request is refused without any store call unless it presents exactly
// one well-formed token (32 lowercase hex), in any mix of the query string
// (token, all values), the feed route's path parameter token and
// Authorization: Bearer (any header-name case, single- and multi-value),
// and that token passes its check (the CRC-32 of its first 12 bytes in its
// last 4, pkg/secret). A made-up or mistyped token fails the check and is
// refused as malformed at the cost of a CRC over 12 bytes: a flood of
// random strings never reaches DynamoDB. The check is refused in exactly
// one place, admit, so tokens imported later from a system without checks
// (known only by their SHA-256) can be admitted there and nowhere else.
//
// # Target service
//
// The service is the route's service path parameter, else the route's entry
// in Options.RouteServices ("METHOD /resource" → service), which a deployer
// sets through the ROUTE_SERVICES environment variable for routes of their
// own. A route in neither is refused with a 500, never guessed.
//
// # Policy scope and the authorizer cache
//
// With three token placements API Gateway's result cache must stay off (it
// needs every identity source present), so revocation takes effect on the
// next request. A deployer may still turn it on; the Allow is scoped so a
// cached one is harmless: it names this service's /data routes of the same
// API and stage (GET/data/<service>/*) and, for any other route, the
// request's exact method ARN. No pattern is used where a parameter precedes
// the service: '*' and '?' match '/' in execute-api policies, so a pattern
// for /feed/{token}/<service>/* would also match /feed/x/other/<service>/...
//
// # The context a backend receives
//
// On Allow, requestContext.authorizer holds (keys in pkg/authctx):
// accountId, tokenId, tokenType ("user" or "userless"), userId ("" for a
// userless token), service, outcome ("valid") and settings. API Gateway
// context values are flat strings, numbers and booleans, so the settings
// travel as one JSON object string with sorted keys; a backend reads them
// with
//
//	var s map[string]any
//	err := json.Unmarshal([]byte(authctx.String(req.RequestContext.Authorizer, authctx.Settings)), &s)
//
// and gets back exactly the strings, float64 numbers and booleans the
// operator set. principalId is the token ID, never the token.
//
// # The decision log line
//
// One JSON line per request, accesslog.DecisionLine: the line's one
// definition, which the usage recorder reads refused calls of known tokens
// back through. It holds the decision, status, outcome, the token's
// identity once known, the service, method, route template, the request's
// path and query rebuilt redacted (redact.RequestPath, redact.RequestQuery:
// never the raw path), source IP and latency. DecisionLine.Log redacts
// every field, so no line ever holds a token.
//
// The Allow and Deny contexts carry the same redacted path and query
// (authctx.Path, authctx.Query) for the stage's access log, which must not
// log $context.path. With the authorizer cache on, API Gateway replays the
// context of the call that filled the cache, path and query included.
package authz
