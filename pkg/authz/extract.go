package authz

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/apigw"
	"github.com/acmedata/tokenservice/pkg/redact"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// TokenParam names the token in the query string and in the feed route's
// path (/feed/{token}/...).
const TokenParam = redact.TokenParam

// presentedOutcomes are the refusals (and Valid) that gathering a
// request's tokens can end in.
var presentedOutcomes = [...]tokens.Outcome{
	apigw.PresentedNone:      tokens.Missing,
	apigw.PresentedOne:       tokens.Valid,
	apigw.PresentedMalformed: tokens.Malformed,
	apigw.PresentedAmbiguous: tokens.Ambiguous,
}

// extractToken finds the one token a request presents (apigw.Credential):
// in the query string (token, every value of a multi-value parameter), in
// the path parameter token, or as an Authorization Bearer credential (any
// header-name case, single- and multi-value headers). The same token in
// several places is fine. It returns the token and Valid, or "" and the
// refusal: Missing, Malformed (an empty value, another scheme, anything but
// 32 lowercase hex) or Ambiguous (two different tokens). It judges the
// shape only, never touching a store: the check is the decision's
// (Authorizer.admit).
func extractToken(req *events.APIGatewayCustomAuthorizerRequestTypeRequest) (string, tokens.Outcome) {
	c := apigw.NewCredential(secret.IsTokenShaped)
	if addParameters(&c, req) {
		c.AddBearer(req.Headers, req.MultiValueHeaders)
	}
	token, presented := c.Result()
	return token, presentedOutcomes[presented]
}

// addParameters adds the token parameter's values of the query string and
// the path to c; it reports whether to keep looking.
func addParameters(c *apigw.Credential, req *events.APIGatewayCustomAuthorizerRequestTypeRequest) bool {
	if v, ok := req.QueryStringParameters[TokenParam]; ok && !c.Add(v) {
		return false
	}
	for _, v := range req.MultiValueQueryStringParameters[TokenParam] {
		if !c.Add(v) {
			return false
		}
	}
	v, ok := req.PathParameters[TokenParam]
	return !ok || c.Add(v)
}
