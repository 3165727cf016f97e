package gateway

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// decision is the outcome of evaluating an authorizer's policy.
type decision int

const (
	denied  decision = iota // no matching Allow (implicit deny) or a matching Deny
	allowed                 // a matching Allow and no matching Deny
)

// invokeAction is the action API Gateway checks a policy for.
const invokeAction = "execute-api:Invoke"

// errBadPolicy reports a policy API Gateway refuses to evaluate
// (AUTHORIZER_CONFIGURATION_ERROR on AWS).
var errBadPolicy = errors.New("localgw: malformed authorizer policy")

// evaluate decides whether policy lets the caller invoke methodARN, as IAM
// evaluates identity policies: an explicit Deny wins over any Allow, and
// without a matching Allow the answer is no.
func evaluate(policy events.APIGatewayCustomAuthorizerPolicy, methodARN string) (decision, error) {
	if len(policy.Statement) == 0 {
		return denied, fmt.Errorf("%w: no statements", errBadPolicy)
	}
	result := denied
	for i, st := range policy.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return denied, fmt.Errorf("%w: statement %d has effect %q", errBadPolicy, i, st.Effect)
		}
		if len(st.Action) == 0 || len(st.Resource) == 0 {
			return denied, fmt.Errorf("%w: statement %d lacks an action or a resource", errBadPolicy, i)
		}
		if !anyMatch(st.Action, invokeAction, strings.ToLower) || !anyMatch(st.Resource, methodARN, nil) {
			continue
		}
		if st.Effect == "Deny" {
			return denied, nil
		}
		result = allowed
	}
	return result, nil
}

// anyMatch reports whether s matches one of patterns, both passed through
// fold first if it is not nil: IAM compares actions case-insensitively and
// resources exactly.
func anyMatch(patterns []string, s string, fold func(string) string) bool {
	if fold != nil {
		s = fold(s)
	}
	for _, p := range patterns {
		if fold != nil {
			p = fold(p)
		}
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch reports whether s matches pattern, where * matches any run
// of characters (slashes included, as in IAM resource ARNs) and ? exactly
// one. It runs in O(len(pattern)*len(s)) without recursion.
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			// Let the last * swallow one more character and retry.
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
