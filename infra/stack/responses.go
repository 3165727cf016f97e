package stack

import (
	"encoding/json"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
)

// gatewayResponse is an error API Gateway answers without calling a
// function, rewritten to the product's error body.
type gatewayResponse struct {
	responseType  awsapigateway.ResponseType
	status        int // 0 keeps the status API Gateway chose
	code, message string
}

// id is the construct ID, e.g. "UnauthorizedResponse".
func (r gatewayResponse) id() string {
	var b strings.Builder
	for part := range strings.SplitSeq(strings.ToLower(*r.responseType.ResponseType()), "_") {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String() + "Response"
}

// body is {"error":{"code":...,"message":...}}. Static text only: the
// gateway's own messages could echo request details.
func (r gatewayResponse) body() string {
	type apiError struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	b, err := json.Marshal(map[string]apiError{"error": {r.code, r.message}})
	if err != nil {
		panic(err) // two strings always marshal
	}
	return string(b)
}

// gatewayResponses covers every response type of a REST API. jsii values
// cannot be built at package initialisation, hence a function.
func gatewayResponses() []gatewayResponse {
	const (
		unavailable = "The service is temporarily unavailable; retry later."
		forbidden   = "This credential does not grant access to this resource."
		notFound    = "No such route or resource."
		invalid     = "The request is not valid."
		throttled   = "Too many requests; retry later."
	)
	return []gatewayResponse{
		// Our authorizers refuse with "Unauthorized" (401) or a Deny policy (403).
		{awsapigateway.ResponseType_UNAUTHORIZED(), 401, "unauthorized", "A valid token or API key is required."},
		{awsapigateway.ResponseType_ACCESS_DENIED(), 403, "forbidden", forbidden},
		// REST APIs answer unknown routes, and unsigned calls to IAM
		// routes, with MISSING_AUTHENTICATION_TOKEN: to a caller both are
		// a route that does not exist for them.
		{awsapigateway.ResponseType_MISSING_AUTHENTICATION_TOKEN(), 404, "not_found", notFound},
		{awsapigateway.ResponseType_RESOURCE_NOT_FOUND(), 404, "not_found", notFound},
		{awsapigateway.ResponseType_INVALID_SIGNATURE(), 403, "invalid_signature", "The request signature is not valid."},
		{awsapigateway.ResponseType_EXPIRED_TOKEN(), 403, "expired_signature", "The request signature has expired."},
		{awsapigateway.ResponseType_INVALID_API_KEY(), 403, "forbidden", forbidden},
		{awsapigateway.ResponseType_WAF_FILTERED(), 403, "forbidden", forbidden},
		{awsapigateway.ResponseType_BAD_REQUEST_BODY(), 400, "invalid_request", invalid},
		{awsapigateway.ResponseType_BAD_REQUEST_PARAMETERS(), 400, "invalid_request", invalid},
		{awsapigateway.ResponseType_UNSUPPORTED_MEDIA_TYPE(), 415, "unsupported_media_type", "Send application/json."},
		{awsapigateway.ResponseType_REQUEST_TOO_LARGE(), 413, "request_too_large", "The request body is too large."},
		{awsapigateway.ResponseType_THROTTLED(), 429, "throttled", throttled},
		{awsapigateway.ResponseType_QUOTA_EXCEEDED(), 429, "throttled", throttled},
		// An authorizer that fails (its store unreachable) is a 503, not a
		// 500 or a 401: the caller's credential may well be fine.
		{awsapigateway.ResponseType_AUTHORIZER_FAILURE(), 503, "unavailable", unavailable},
		{awsapigateway.ResponseType_AUTHORIZER_CONFIGURATION_ERROR(), 503, "unavailable", unavailable},
		{awsapigateway.ResponseType_INTEGRATION_FAILURE(), 502, "bad_gateway", unavailable},
		{awsapigateway.ResponseType_INTEGRATION_TIMEOUT(), 504, "timeout", unavailable},
		{awsapigateway.ResponseType_API_CONFIGURATION_ERROR(), 500, "internal_error", "The service failed; retry later."},
		{awsapigateway.ResponseType_DEFAULT_4XX(), 0, "bad_request", "The request was refused."},
		{awsapigateway.ResponseType_DEFAULT_5XX(), 0, "internal_error", "The service failed; retry later."},
	}
}
