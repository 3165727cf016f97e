// Package httpapi is the HTTP plumbing shared by the service's API
// functions behind API Gateway's Lambda proxy integration: routing a proxy
// event to its route handler, decoding JSON bodies strictly, reading the
// identity the authorizer passed, paging parameters, the JSON
// representations of accounts, users and tokens, and — in exactly one place,
// ErrorResponse — the mapping of errors to statuses and PRODUCT.md's error
// body {"error":{"code":...,"message":...}}.
//
// Route handlers return (status, body, error). They never write error
// bodies themselves and never see an internal error's detail: the Router
// logs the cause and answers a public message, and recovers from panics so
// that none reaches a caller.
package httpapi
