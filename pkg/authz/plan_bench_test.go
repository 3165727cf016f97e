package authz

import (
	"context"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// BenchmarkAuthorizeWarmWithPlan measures an Allow from the cache for a
// token without a plan, on its service's plan and on its own: the three
// cost the same, with no store read, and the usage key is the plan's
// (targets: <= 10 us/op, <= 30 allocs/op, 0 reads/op; scripts/planbench
// prints the figure beside them).
func BenchmarkAuthorizeWarmWithPlan(b *testing.B) {
	svcKey := plans.KeyFor(plans.Assignment{AccountID: "acc", Service: "tmy"}, "pln_service")
	ownKey := plans.KeyFor(plans.Assignment{TokenID: "tok"}, "pln_own")
	for _, tc := range []struct {
		name string
		plan func(*tokens.Credential)
		key  string
	}{
		{"no plan", func(*tokens.Credential) {}, "unlimited"},
		{"service plan", func(c *tokens.Credential) { c.Account.UsageKeys = map[string]string{"tmy": svcKey} }, svcKey},
		{"own plan", func(c *tokens.Credential) {
			c.Account.UsageKeys = map[string]string{"tmy": svcKey}
			c.Token.PlanID, c.Token.UsageKey = "pln_own", ownKey
		}, ownKey},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cred := validCredential("tmy")
			tc.plan(&cred)
			store := newFakeStore()
			store.put(fixtureToken, cred)
			a := newTestAuthorizer(b, store, Options{RevocationDelay: time.Minute, UnlimitedUsageKey: "unlimited"})
			ev := loadEvent(b, "data-query")
			ctx := context.Background()
			if resp, err := a.Authorize(ctx, ev); err != nil || resp.UsageIdentifierKey != tc.key {
				b.Fatalf("usage key %q, %v; want the plan's", resp.UsageIdentifierKey, err)
			}
			reads := store.calls.Load()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authorize(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
			if r := store.calls.Load() - reads; r != 0 {
				b.Errorf("%d store reads in %d warm decisions, want 0", r, b.N)
			}
			b.ReportMetric(float64(store.calls.Load()-reads)/float64(b.N), "reads/op")
		})
	}
}
