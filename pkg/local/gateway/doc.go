// Package localgw emulates Amazon API Gateway (REST API, Lambda proxy
// integration, REQUEST authorizers) as an http.Handler, so that the local
// stack and the API tests run the very Lambda handlers and authorizers that
// run on AWS, fed the events AWS would feed them.
//
// # What is emulated
//
// Routing follows pkg/routes in API Gateway's resource-template syntax: a
// literal segment beats a {param}, which beats a greedy {proxy+}; a path
// that matches no resource, or a resource without the method, is API
// Gateway's MISSING_AUTHENTICATION_TOKEN, which our deployment maps to 404.
//
// A route guarded by an authorizer gets a REQUEST authorizer event with the
// method ARN arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>.
// The error "Unauthorized" answers 401, any other error (or a panic, or a
// malformed answer) 503, as our deployment maps AUTHORIZER_FAILURE. The returned policy is evaluated against the method
// ARN as IAM does: an explicit Deny wins, otherwise an Allow whose Action and
// Resource match (with the * and ? wildcards) lets the call through, and
// anything else is 403. The policy's context plus principalId reach the
// backend as requestContext.authorizer, every value turned into a string, as
// REST APIs deliver them.
//
// Events and responses make a round trip through JSON, exactly as they do
// between API Gateway and Lambda, so handlers see only what they would see
// on AWS. Bodies over 10 MB answer 413; an integration that fails, panics,
// runs past the integration timeout or answers a malformed response
// answers 502 or 504. Every answer the gateway makes itself uses the
// product's error body {"error":{"code","message"}}, with the statuses
// and messages of pkg/gatewayresp, the table infra/stack deploys. That
// includes the requests net/http's server refuses before any handler runs
// (a bad %-escape, a NUL in a header, headers over API Gateway's 10,240
// bytes): serve the gateway with NewServer on Listener, which also says
// what API Gateway itself answers for them. A query string with a bad
// %-escape is refused too (url.Values would drop the pair silently).
//
// Routes with routes.IAMAuth are AWS_IAM-authorised on AWS. SigV4 cannot be
// checked locally, so the gateway accepts "Authorization: Bearer <operator
// key>" instead, compared in constant time, and strips the header before the
// event reaches the function: the key is a secret, unlike a SigV4 signature.
//
// # Usage plans
//
// With Options.UsagePlans (the twin of pkg/local/usageplans), the methods
// the token authorizer guards require an API key whose source is the
// authorizer, as on our REST API: after an Allow, the gateway takes the
// answer's usageIdentifierKey to the usage plans with the time it received
// the call. Over the key's rate it answers THROTTLED (429 rate_limited),
// over its quota QUOTA_EXCEEDED (429 quota_exceeded), and without a key in
// a plan INVALID_API_KEY (403), each with the body of pkg/gatewayresp. The
// access-log entry of a refused call keeps the authorizer's context, so
// the usage history records it like every other call.
//
// # What is not
//
// Stage and method throttling, CORS, binary media types (a body that is not
// UTF-8 is delivered base64-encoded, as with binary media type */*), stage
// variables and the authorizer result cache (off by default on our API).
//
// The gateway never logs a raw path or query string: a data path or query
// can carry a token. Access records (Options.AccessLog) carry the resource
// template instead.
package gateway
