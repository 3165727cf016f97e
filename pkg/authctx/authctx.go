// Package authctx names the values our authorizers hand to the functions
// behind them through API Gateway's authorizer context
// (requestContext.authorizer). API Gateway carries only flat strings,
// numbers and booleans there, and may deliver numbers and booleans as
// strings; readers therefore go through the helpers below.
package authctx

import (
	"fmt"
	"strconv"
)

// Keys of the authorizer context.
const (
	AccountID = "accountId" // both authorizers
	APIKeyID  = "apiKeyId"  // the API-key authorizer
	// APIKeyGeneration is the generation of the key the API-key authorizer
	// admitted: a token the request creates belongs to it, and a rotation
	// it asks for holds only while it is current (rule 7).
	APIKeyGeneration = "apiKeyGeneration"
	TokenID          = "tokenId"   // the token authorizer, from here on
	TokenType        = "tokenType" // "user" or "userless"
	UserID           = "userId"    // empty for a userless token
	Service          = "service"
	// Settings is the token's settings as one JSON object string: the only
	// faithful way to pass a typed map through a flat context.
	Settings = "settings"
	// Outcome is the verification outcome code; set on Deny too so that
	// refused calls of a known token can be attributed in usage records.
	Outcome = "outcome"
	// Path and Query are the request's, redacted (redact.RequestPath,
	// redact.RequestQuery), for the stage's access log: it must not log
	// $context.path, which can hold a token.
	Path  = "path"
	Query = "query"
	// ErrorCode and ErrorMessage are set on a Deny only: the error body's
	// code and message for the caller's 403, which API Gateway's
	// ACCESS_DENIED response reads from the context
	// (pkg/gatewayresp), so the caller learns why (origin_not_allowed,
	// ip_not_allowed, ...) and never anything about the token's account.
	ErrorCode    = "errorCode"
	ErrorMessage = "errorMessage"
)

// String returns the context value under key as a string ("" if absent).
func String(ctx map[string]any, key string) string {
	v, ok := ctx[key]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Int returns the context value under key as an integer (0 if absent or
// not an integer). API Gateway may deliver a number as a JSON number or as
// its decimal string.
func Int(ctx map[string]any, key string) int64 {
	switch v := ctx[key].(type) {
	case int64:
		return v
	case int:
		return int64(v)
	case float64:
		if v == float64(int64(v)) {
			return int64(v)
		}
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return 0
}
