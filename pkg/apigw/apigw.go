// Package apigw holds the parts of API Gateway's REQUEST-authorizer protocol
// that both of our authorizers speak: reading bearer credentials from the
// headers as API Gateway delivers them, taking a method ARN apart, and
// building the Allow and Deny responses.
//
// It knows nothing about tokens, keys or stores: pkg/authz and pkg/keyauth
// decide, this package only speaks the gateway's language.
package apigw

import (
	"errors"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// ErrUnauthorized is the one error API Gateway turns into a 401. Its text
// is fixed by API Gateway; any other error becomes a 500, so an authorizer
// returns this value itself, never a wrapped copy.
var ErrUnauthorized = errors.New("Unauthorized")

// ErrBadMethodARN reports a method ARN that is not
// arn:aws:execute-api:region:account:apiId/stage/METHOD/path.
var ErrBadMethodARN = errors.New("apigw: malformed method ARN")

// BearerValues calls yield with the credential of every Authorization header
// of a request, in the shapes API Gateway delivers: Headers (one value per
// name) and MultiValueHeaders (every value), header names in any case. The
// scheme must be Bearer (in any case); a header with another scheme, or an
// empty credential, is yielded as "" so that the caller refuses it rather
// than silently ignoring a credential it cannot read. The same header seen
// in both maps is yielded twice; callers compare values, not counts.
// BearerValues stops when yield returns false.
func BearerValues(headers map[string]string, multi map[string][]string, yield func(credential string) bool) {
	for name, v := range headers {
		if isAuthorization(name) && !yield(bearer(v)) {
			return
		}
	}
	for name, vs := range multi {
		if !isAuthorization(name) {
			continue
		}
		for _, v := range vs {
			if !yield(bearer(v)) {
				return
			}
		}
	}
}

// Presented is what the values of one credential a request presents
// amount to.
type Presented int

// What a request presents.
const (
	PresentedNone      Presented = iota // no value
	PresentedOne                        // one credential, perhaps more than once
	PresentedMalformed                  // a value not of the credential's shape
	PresentedAmbiguous                  // two different credentials
)

// Credential gathers the one credential a request presents, value by
// value, wherever the authorizer reads it from (the query, the path, the
// Authorization headers). The same credential in several places is fine;
// a value not of the credential's shape or a second, different credential
// refuses the request, and Add says to stop as soon as the answer is
// known, so garbage never costs more than a scan of the request. It judges
// the shape only: whether the credential exists is the store's to say.
// Both authorizers extract their credential through it.
type Credential struct {
	shaped func(string) bool
	value  string
	state  Presented
}

// NewCredential returns a Credential whose values must satisfy shaped.
func NewCredential(shaped func(string) bool) Credential {
	return Credential{shaped: shaped}
}

// Add takes one presented value; it reports whether to keep looking.
func (c *Credential) Add(v string) bool {
	switch {
	case !c.shaped(v):
		c.value, c.state = "", PresentedMalformed
	case c.state == PresentedNone:
		c.value, c.state = v, PresentedOne
	case v != c.value:
		c.value, c.state = "", PresentedAmbiguous
	}
	return c.state == PresentedOne
}

// AddBearer takes the credential of every Authorization header
// (BearerValues), stopping as Add says.
func (c *Credential) AddBearer(headers map[string]string, multi map[string][]string) {
	BearerValues(headers, multi, c.Add)
}

// Result returns the credential and PresentedOne, or "" and what refuses
// the request.
func (c *Credential) Result() (string, Presented) { return c.value, c.state }

func isAuthorization(name string) bool {
	return len(name) == len("authorization") && strings.EqualFold(name, "authorization")
}

// bearer returns the credential of an Authorization header value, "" if the
// scheme is not Bearer.
func bearer(v string) string {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(cred)
}

// MethodARN is a parsed execute-api method ARN.
type MethodARN struct {
	// Stage is everything up to and including the stage and its trailing
	// slash (arn:aws:execute-api:region:account:apiId/stage/): the part a
	// policy for the same API and stage shares.
	Stage string
	// Route is the rest (METHOD/path), as the request made it.
	Route string
}

// ParseMethodARN splits a method ARN after its stage.
func ParseMethodARN(arn string) (MethodARN, error) {
	if !strings.HasPrefix(arn, "arn:") {
		return MethodARN{}, ErrBadMethodARN
	}
	api, rest, ok := strings.Cut(arn, "/")
	if !ok || strings.Count(api, ":") != 5 {
		return MethodARN{}, ErrBadMethodARN
	}
	stage, route, ok := strings.Cut(rest, "/")
	if !ok || stage == "" || route == "" || strings.ContainsAny(api, "*?") || strings.ContainsAny(stage, "*?") {
		return MethodARN{}, ErrBadMethodARN
	}
	return MethodARN{Stage: arn[:len(api)+1+len(stage)+1], Route: route}, nil
}

// Resource returns the ARN of route (METHOD/path pattern) in the same API
// and stage.
func (m MethodARN) Resource(route string) string { return m.Stage + route }

// Exact returns the request's own method ARN, and false if it contains an
// IAM wildcard character ('*' or '?'): a path may hold one literally, and
// a policy naming it would then match other paths as well.
func (m MethodARN) Exact() (string, bool) {
	if strings.ContainsAny(m.Route, "*?") {
		return "", false
	}
	return m.Stage + m.Route, true
}

// Allow answers an Allow for resources to principal, with context.
func Allow(principal string, resources []string, context map[string]any) events.APIGatewayCustomAuthorizerResponse {
	return response(principal, "Allow", resources, context)
}

// Deny answers an explicit Deny for resources, which API Gateway turns into
// a 403. context still reaches the access log ($context.authorizer.*), so a
// refused call can be attributed to its token.
func Deny(principal string, resources []string, context map[string]any) events.APIGatewayCustomAuthorizerResponse {
	return response(principal, "Deny", resources, context)
}

func response(principal, effect string, resources []string, context map[string]any) events.APIGatewayCustomAuthorizerResponse {
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: principal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action:   invokeAction,
				Effect:   effect,
				Resource: resources,
			}},
		},
		Context: context,
	}
}

// invokeAction is shared by every response; nothing mutates it.
var invokeAction = []string{"execute-api:Invoke"}
