package localgw

import (
	"net/http"

	"github.com/acmedata/tokenservice/pkg/httpapi"
)

// ResponseType names an API Gateway gateway response: an answer the gateway
// makes itself, without the integration.
type ResponseType string

// The gateway responses this API can produce.
const (
	// MissingAuthenticationToken is API Gateway's answer for an unknown
	// resource or method.
	MissingAuthenticationToken ResponseType = "MISSING_AUTHENTICATION_TOKEN"
	Unauthorized               ResponseType = "UNAUTHORIZED"
	AccessDenied               ResponseType = "ACCESS_DENIED"
	AuthorizerFailure          ResponseType = "AUTHORIZER_FAILURE"
	AuthorizerConfigError      ResponseType = "AUTHORIZER_CONFIGURATION_ERROR"
	RequestTooLarge            ResponseType = "REQUEST_TOO_LARGE"
	// IntegrationFailure covers a Lambda integration that fails, panics or
	// answers a malformed proxy response (502 on API Gateway).
	IntegrationFailure ResponseType = "INTEGRATION_FAILURE"
	IntegrationTimeout ResponseType = "INTEGRATION_TIMEOUT"
)

// Response is the status and body of a gateway response.
type Response struct {
	Status  int
	Code    string
	Message string
}

// Body is the response's JSON body, PRODUCT.md's error shape.
func (r Response) Body() []byte { return httpapi.ErrorBody(r.Code, r.Message) }

// Responses are the gateway responses of our deployment, with the
// statuses, codes and messages infra/stack configures on the REST API
// (infra/stack/responses.go); the two tables must agree for the local
// stack to be faithful.
var Responses = map[ResponseType]Response{
	MissingAuthenticationToken: {http.StatusNotFound, "not_found", "No such route or resource."},
	Unauthorized:               {http.StatusUnauthorized, "unauthorized", "A valid token or API key is required."},
	AccessDenied:               {http.StatusForbidden, "forbidden", "This credential does not grant access to this resource."},
	// An authorizer that fails (its store unreachable) is a 503: the
	// caller's credential may well be fine.
	AuthorizerFailure:     {http.StatusServiceUnavailable, "unavailable", "The service is temporarily unavailable; retry later."},
	AuthorizerConfigError: {http.StatusServiceUnavailable, "unavailable", "The service is temporarily unavailable; retry later."},
	RequestTooLarge:       {http.StatusRequestEntityTooLarge, "request_too_large", "The request body is too large."},
	IntegrationFailure:    {http.StatusBadGateway, "bad_gateway", "The service is temporarily unavailable; retry later."},
	IntegrationTimeout:    {http.StatusGatewayTimeout, "timeout", "The service is temporarily unavailable; retry later."},
}
