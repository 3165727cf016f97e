package main

import (
	"context"
	"fmt"
	"time"

	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/testkit/dbcount"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// rotation times key rotations, and counts their writes, on an account
// with many tokens and on one with a single token, alternately.
func rotation(ctx context.Context, c *check, store *dynamostore.Store, db *dbcount.Writes, many int) error {
	const rounds = 30
	mgr, err := tokens.NewManager(store, tokens.Config{Services: []tokens.Service{{ID: "tmy", Name: "TMY data"}}})
	if err != nil {
		return err
	}
	type side struct {
		name    string
		account tokens.Account
		tokens  int
		took    []time.Duration
		writes  int64
	}
	sides := []*side{{name: "1 token", tokens: 1}, {name: fmt.Sprintf("%d tokens", many), tokens: many}}
	for _, s := range sides {
		if s.account, _, err = mgr.CreateAccount(ctx, "authbench "+s.name, []string{"tmy"}); err != nil {
			return err
		}
		start := time.Now()
		if _, err := userlessTokens(ctx, store, s.account, s.tokens); err != nil {
			return err
		}
		if s.tokens > 1 {
			fmt.Printf("key rotation: stored %d tokens in one account in %v\n", s.tokens, time.Since(start).Round(time.Millisecond))
		}
	}
	for i := range rounds {
		for _, s := range sides {
			before := db.Count()
			start := time.Now()
			if _, _, err := mgr.ReplaceAPIKey(ctx, s.account.ID); err != nil {
				return err
			}
			if i > 0 { // the first round warms the connection
				s.took = append(s.took, time.Since(start))
			}
			s.writes = db.Count() - before
		}
	}
	one, big := sides[0], sides[1]
	fmt.Printf("key rotation, %d rounds each: %s p50 %v, %d write(s); %s p50 %v, %d write(s)\n",
		rounds-1, one.name, pct(one.took, 50), one.writes, big.name, pct(big.took, 50), big.writes)
	c.figure("rotation writes, "+big.name+" / 1 token", float64(big.writes)/float64(one.writes), maxRotationRatio, "x")
	c.figure("rotation wall time p50, "+big.name+" / 1 token", ratio(big.took, one.took, 50), maxRotationRatio, "x")
	return nil
}
