package gateway

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"*", "", true},
		{"*", "a/b/c", true},
		{"a*c", "a/b/c", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"GET/data/tmy/*", "GET/data/tmy/hourly/x", true},
		{"GET/data/tmy/*", "GET/data/timeseries/hourly", false},
		{"*/GET/*", "stage/POST/x", false},
		{"", "", true},
		{"", "a", false},
	} {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestPolicyEvaluationDenyWinsAndNoMatchDenies(t *testing.T) {
	const arn = "arn:aws:execute-api:r:1:api/s/GET/admin/users"
	st := func(effect string, action, resource string) events.IAMPolicyStatement {
		return events.IAMPolicyStatement{Effect: effect, Action: []string{action}, Resource: []string{resource}}
	}
	for _, tc := range []struct {
		name    string
		stmts   []events.IAMPolicyStatement
		want    decision
		wantErr bool
	}{
		{"allow", []events.IAMPolicyStatement{st("Allow", "execute-api:Invoke", arn)}, allowed, false},
		{"allow any action", []events.IAMPolicyStatement{st("Allow", "execute-api:*", arn)}, allowed, false},
		{"action case-insensitive", []events.IAMPolicyStatement{st("Allow", "Execute-API:invoke", arn)}, allowed, false},
		{"other action", []events.IAMPolicyStatement{st("Allow", "execute-api:ManageConnections", arn)}, denied, false},
		{"resource case-sensitive", []events.IAMPolicyStatement{st("Allow", "execute-api:Invoke", "arn:aws:execute-api:r:1:api/s/get/admin/users")}, denied, false},
		{"deny wins", []events.IAMPolicyStatement{st("Allow", "*", "*"), st("Deny", "execute-api:Invoke", arn)}, denied, false},
		{"deny elsewhere", []events.IAMPolicyStatement{st("Allow", "*", "*"), st("Deny", "*", arn+"/x")}, allowed, false},
		{"no match", []events.IAMPolicyStatement{st("Allow", "execute-api:Invoke", "arn:aws:execute-api:r:1:api/s/POST/*")}, denied, false},
		{"no statements", nil, denied, true},
		{"bad effect", []events.IAMPolicyStatement{st("allow", "*", "*")}, denied, true},
		{"no resource", []events.IAMPolicyStatement{{Effect: "Allow", Action: []string{"*"}}}, denied, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evaluate(events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: tc.stmts}, arn)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("evaluate = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
