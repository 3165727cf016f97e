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

// extraction gathers every token a request presents. It refuses as soon as
// the answer is known, so garbage never costs more than a scan of the
// request, and it never touches a store.
type extraction struct {
	token   string
	outcome tokens.Outcome
}

// add records one presented value; it reports whether to keep looking.
func (e *extraction) add(v string) bool {
	switch {
	case !secret.IsTokenShaped(v):
		e.token, e.outcome = "", tokens.Malformed
	case e.outcome == tokens.Missing:
		e.token, e.outcome = v, tokens.Valid
	case v != e.token:
		e.token, e.outcome = "", tokens.Ambiguous
	}
	return e.outcome == tokens.Valid
}

// extractToken finds the one token a request presents: in the query string
// (token, every value of a multi-value parameter), in the path parameter
// token, or as an Authorization Bearer credential (any header-name case,
// single- and multi-value headers). The same token in several places is
// fine. It returns the token and Valid, or "" and the refusal: Missing,
// Malformed (an empty value, another scheme, anything but 32 lowercase hex)
// or Ambiguous (two different tokens). It judges the shape only: the check
// is the decision's (Authorizer.admit).
func extractToken(req *events.APIGatewayCustomAuthorizerRequestTypeRequest) (string, tokens.Outcome) {
	e := extraction{outcome: tokens.Missing}
	if v, ok := req.QueryStringParameters[TokenParam]; ok && !e.add(v) {
		return "", e.outcome
	}
	for _, v := range req.MultiValueQueryStringParameters[TokenParam] {
		if !e.add(v) {
			return "", e.outcome
		}
	}
	if v, ok := req.PathParameters[TokenParam]; ok && !e.add(v) {
		return "", e.outcome
	}
	apigw.BearerValues(req.Headers, req.MultiValueHeaders, e.add)
	return e.token, e.outcome
}
