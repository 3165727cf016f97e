package authz

import (
	"context"
	"testing"

	"github.com/acmedata/tokenservice/pkg/tokens"
)

// TestAllowCountsTheCallUnderTheBudgetThatLimitsIt: the usage key of an
// Allow is the token's own plan's, else its account's plan's for the
// service, else the deployment's unlimited key, so API Gateway counts the
// call in the right usage plan (and never answers 403 for a call without a
// key on a method that requires one).
func TestAllowCountsTheCallUnderTheBudgetThatLimitsIt(t *testing.T) {
	const unlimited = "unlimited-usage-key-of-the-deployment"
	cases := []struct {
		name      string
		change    func(c *tokens.Credential)
		unlimited string
		want      string
	}{
		{"no plan anywhere: the unlimited key", nil, unlimited, unlimited},
		{"no plan, no unlimited key configured (local): none", nil, "", ""},
		{"the account's plan for the service", func(c *tokens.Credential) {
			c.Account.UsageKeys = map[string]string{"tmy": "account-tmy-key", "timeseries": "account-ts-key"}
		}, unlimited, "account-tmy-key"},
		{"the account's plan for another service only: unlimited", func(c *tokens.Credential) {
			c.Account.UsageKeys = map[string]string{"timeseries": "account-ts-key"}
		}, unlimited, unlimited},
		{"the token's own plan overrides the service's", func(c *tokens.Credential) {
			c.Account.UsageKeys = map[string]string{"tmy": "account-tmy-key"}
			c.Token.PlanID, c.Token.UsageKey = "pln_1", "token-key"
		}, unlimited, "token-key"},
		{"the token's own plan not made in the engine yet: the service's meanwhile", func(c *tokens.Credential) {
			c.Account.UsageKeys = map[string]string{"tmy": "account-tmy-key"}
			c.Token.PlanID = "pln_1"
		}, unlimited, "account-tmy-key"},
		{"a key left from a plan the token no longer has is not used", func(c *tokens.Credential) {
			c.Token.UsageKey = "stale-token-key"
		}, unlimited, unlimited},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			c := validCredential("tmy")
			if tc.change != nil {
				tc.change(&c)
			}
			store.put(fixtureToken, c)
			a := newTestAuthorizer(t, store, Options{UnlimitedUsageKey: tc.unlimited})
			resp, err := a.Authorize(context.Background(), loadEvent(t, "data-query"))
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			if effect := resp.PolicyDocument.Statement[0].Effect; effect != "Allow" {
				t.Fatalf("effect %s, want Allow", effect)
			}
			if resp.UsageIdentifierKey != tc.want {
				t.Errorf("usageIdentifierKey %q, want %q", resp.UsageIdentifierKey, tc.want)
			}
		})
	}
}
