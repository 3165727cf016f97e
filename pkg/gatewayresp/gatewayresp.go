// Package gatewayresp is the one table of the service's gateway responses:
// the answers API Gateway makes by itself, without calling a function (an
// authorizer's refusal, an unknown route, a failed integration), each
// rewritten to PRODUCT.md's error body. infra/stack configures every entry
// on the REST API and pkg/localgw answers with the same entries, so the
// local stack refuses exactly as the deployment does.
//
// The package imports no CDK code: types are plain strings, spelled as API
// Gateway spells them, which the stack turns into CDK response types.
//
// # The 403's reason
//
// An authorizer's Deny is ACCESS_DENIED, one response for every reason.
// Its body is the one template here that is not static: a gateway
// response's mapping template is not VTL but plain substitution, and it
// may name $context.authorizer.<key>, the context of the authorizer's
// answer. Our authorizers put the body's code and message there on every
// Deny (authctx.ErrorCode, authctx.ErrorMessage), so the caller reads
// origin_not_allowed, ip_not_allowed, token_wrong_service and so on.
// Plain substitution has no default: where the context lacks the keys,
// API Gateway substitutes nothing, so there the static forbidden body
// holds only on the local gateway (Render). On AWS the one such 403 is an
// IAM principal without execute-api:Invoke on an operator route; docs/deploy.md
// says so.
package gatewayresp

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/acmedata/tokenservice/pkg/authctx"
	"github.com/acmedata/tokenservice/pkg/httpapi"
)

// Type names a gateway response type as API Gateway spells it.
type Type string

// Every gateway response type of a REST API.
const (
	AccessDenied                 Type = "ACCESS_DENIED"
	APIConfigurationError        Type = "API_CONFIGURATION_ERROR"
	AuthorizerConfigurationError Type = "AUTHORIZER_CONFIGURATION_ERROR"
	AuthorizerFailure            Type = "AUTHORIZER_FAILURE"
	BadRequestBody               Type = "BAD_REQUEST_BODY"
	BadRequestParameters         Type = "BAD_REQUEST_PARAMETERS"
	Default4XX                   Type = "DEFAULT_4XX"
	Default5XX                   Type = "DEFAULT_5XX"
	ExpiredToken                 Type = "EXPIRED_TOKEN"
	IntegrationFailure           Type = "INTEGRATION_FAILURE"
	IntegrationTimeout           Type = "INTEGRATION_TIMEOUT"
	InvalidAPIKey                Type = "INVALID_API_KEY"
	InvalidSignature             Type = "INVALID_SIGNATURE"
	MissingAuthenticationToken   Type = "MISSING_AUTHENTICATION_TOKEN"
	QuotaExceeded                Type = "QUOTA_EXCEEDED"
	RequestTooLarge              Type = "REQUEST_TOO_LARGE"
	ResourceNotFound             Type = "RESOURCE_NOT_FOUND"
	Throttled                    Type = "THROTTLED"
	Unauthorized                 Type = "UNAUTHORIZED"
	UnsupportedMediaType         Type = "UNSUPPORTED_MEDIA_TYPE"
	WAFFiltered                  Type = "WAF_FILTERED"
)

// Response is what the gateway answers for one response type.
type Response struct {
	Type Type
	// Status is the HTTP status; 0 keeps the one API Gateway chose (the
	// DEFAULT_4XX and DEFAULT_5XX catch-alls cover many statuses).
	Status int
	// Code and Message are the error body's. Static text only: the
	// gateway's own messages could echo request details.
	Code, Message string
}

// FromAuthorizer reports whether the body's code and message are the
// authorizer's (the context's authctx.ErrorCode and authctx.ErrorMessage):
// only for an authorizer's Deny. Code and Message are then what the local
// gateway answers when the context lacks them.
func (r Response) FromAuthorizer() bool { return r.Type == AccessDenied }

// Body is the response's static JSON body, PRODUCT.md's error shape
// {"error":{"code":...,"message":...}}.
func (r Response) Body() []byte { return httpapi.ErrorBody(r.Code, r.Message) }

// authorizerTemplate is the body of a FromAuthorizer response as API
// Gateway substitutes it.
var authorizerTemplate = `{"error":{"code":"$context.authorizer.` + authctx.ErrorCode +
	`","message":"$context.authorizer.` + authctx.ErrorMessage + `"}}`

// Template is the response's body mapping template, as infra/stack
// deploys it: the static body, or for a FromAuthorizer response one that
// names the authorizer's context.
func (r Response) Template() string {
	if r.FromAuthorizer() {
		return authorizerTemplate
	}
	return string(r.Body())
}

// substitutable is what a context value may hold to be written into the
// template as it is: API Gateway does not escape it, so a quote or a
// backslash would break the JSON. Our authorizers' codes and messages are
// constants that fit.
var (
	snakeCode   = regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	plainPhrase = regexp.MustCompile(`^[A-Za-z0-9 ,.;:'()-]+$`)
)

// Render is the body the gateway answers with, given the authorizer
// context of the call (nil if there was none): the template with the
// context substituted, as API Gateway would, or the static body if the
// response is static or the context lacks a snake_case code and a plain
// message.
func (r Response) Render(authorizer map[string]string) []byte {
	code, message := authorizer[authctx.ErrorCode], authorizer[authctx.ErrorMessage]
	if !r.FromAuthorizer() || !snakeCode.MatchString(code) || !plainPhrase.MatchString(message) {
		return r.Body()
	}
	return []byte(strings.NewReplacer(
		"$context.authorizer."+authctx.ErrorCode, code,
		"$context.authorizer."+authctx.ErrorMessage, message,
	).Replace(authorizerTemplate))
}

const (
	unavailable = "The service is temporarily unavailable; retry later."
	failed      = "The service failed; retry later."
	forbidden   = "This credential does not grant access to this resource."
	notFound    = "No such route or resource."
	invalid     = "The request is not valid."
)

// Forbidden is the static 403 body: the fallback of ACCESS_DENIED and the
// reason an authorizer gives when it has no more precise one.
var Forbidden = Response{AccessDenied, http.StatusForbidden, "forbidden", forbidden}

// All is every gateway response of the deployment, one per Type.
var All = []Response{
	// Our authorizers refuse with "Unauthorized" (401) or a Deny policy
	// (403), whose reason is in its context.
	{Unauthorized, http.StatusUnauthorized, "unauthorized", "A valid token or API key is required."},
	Forbidden,
	// REST APIs answer unknown routes, and unsigned calls to IAM routes,
	// with MISSING_AUTHENTICATION_TOKEN: to a caller both are a route that
	// does not exist for them.
	{MissingAuthenticationToken, http.StatusNotFound, "not_found", notFound},
	{ResourceNotFound, http.StatusNotFound, "not_found", notFound},
	{InvalidSignature, http.StatusForbidden, "invalid_signature", "The request signature is not valid."},
	{ExpiredToken, http.StatusForbidden, "expired_signature", "The request signature has expired."},
	{InvalidAPIKey, http.StatusForbidden, "forbidden", forbidden},
	{WAFFiltered, http.StatusForbidden, "forbidden", forbidden},
	{BadRequestBody, http.StatusBadRequest, "invalid_request", invalid},
	{BadRequestParameters, http.StatusBadRequest, "invalid_request", invalid},
	{UnsupportedMediaType, http.StatusUnsupportedMediaType, "unsupported_media_type", "Send application/json."},
	{RequestTooLarge, http.StatusRequestEntityTooLarge, "request_too_large", "The request body is too large."},
	// A call over its plan (pkg/plans): the usage key the authorizer
	// returned is over its rate, or its quota for the period.
	{Throttled, http.StatusTooManyRequests, "rate_limited", "The call is over its plan's rate limit; retry later."},
	{QuotaExceeded, http.StatusTooManyRequests, "quota_exceeded", "The call is over its plan's quota for this period; retry when the period ends."},
	// An authorizer that fails (its store unreachable) is a 503, not a 500
	// or a 401: the caller's credential may well be fine.
	{AuthorizerFailure, http.StatusServiceUnavailable, "unavailable", unavailable},
	{AuthorizerConfigurationError, http.StatusServiceUnavailable, "unavailable", unavailable},
	// A Lambda integration that fails, panics or answers a malformed proxy
	// response.
	{IntegrationFailure, http.StatusBadGateway, "bad_gateway", unavailable},
	{IntegrationTimeout, http.StatusGatewayTimeout, "timeout", unavailable},
	{APIConfigurationError, http.StatusInternalServerError, "internal_error", failed},
	{Default4XX, 0, "bad_request", "The request was refused."},
	{Default5XX, 0, "internal_error", failed},
}

// Lookup returns the response for t.
func Lookup(t Type) (Response, bool) {
	for _, r := range All {
		if r.Type == t {
			return r, true
		}
	}
	return Response{}, false
}
