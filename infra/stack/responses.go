package stack

import (
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/jsii-runtime-go"

	"github.com/acmedata/tokenservice/pkg/gatewayresp"
)

// createGatewayResponses makes every error API Gateway answers by itself
// use the product's JSON error body, as pkg/gatewayresp lists them (the
// local gateway answers from the same table); an authorizer's Deny takes
// its code and message from the authorizer's context.
func (s *TokenService) createGatewayResponses() {
	for _, r := range gatewayresp.All {
		var status *string
		if r.Status != 0 {
			status = jsii.String(strconv.Itoa(r.Status))
		}
		s.API.AddGatewayResponse(jsii.String(responseID(r.Type)), &awsapigateway.GatewayResponseOptions{
			Type:       awsapigateway.ResponseType_Of(jsii.String(string(r.Type))),
			StatusCode: status,
			Templates:  &map[string]*string{"application/json": jsii.String(r.Template())},
		})
	}
}

// responseID is the construct ID of a gateway response, e.g.
// "UnauthorizedResponse" for UNAUTHORIZED.
func responseID(t gatewayresp.Type) string {
	var b strings.Builder
	for part := range strings.SplitSeq(strings.ToLower(string(t)), "_") {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String() + "Response"
}
