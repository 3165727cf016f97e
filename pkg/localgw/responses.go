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
	// Default5XX covers a Lambda integration that fails, panics or answers
	// a malformed proxy response (502 on API Gateway).
	Default5XX         ResponseType = "DEFAULT_5XX"
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

// Responses are the gateway responses of our deployment. The CDK stack
// must configure the same statuses and bodies (as GatewayResponses with an
// application/json template) for the local stack to be faithful.
var Responses = map[ResponseType]Response{
	MissingAuthenticationToken: {http.StatusNotFound, "not_found", "no such route"},
	Unauthorized:               {http.StatusUnauthorized, "unauthorized", "missing or invalid credentials"},
	AccessDenied:               {http.StatusForbidden, "forbidden", "the credentials do not allow this request"},
	AuthorizerFailure:          {http.StatusInternalServerError, "internal_error", "something went wrong on our side"},
	AuthorizerConfigError:      {http.StatusInternalServerError, "internal_error", "something went wrong on our side"},
	RequestTooLarge:            {http.StatusRequestEntityTooLarge, "payload_too_large", "the request body is too large"},
	Default5XX:                 {http.StatusBadGateway, "bad_gateway", "the service failed to answer"},
	IntegrationTimeout:         {http.StatusGatewayTimeout, "timeout", "the service did not answer in time"},
}
