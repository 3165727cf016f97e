package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// countingDB counts the write requests the store sends.
type countingDB struct {
	dynamostore.DB
	writes atomic.Int64
}

func (c *countingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.writes.Add(1)
	return c.DB.UpdateItem(ctx, in, opts...)
}

func (c *countingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.writes.Add(1)
	return c.DB.TransactWriteItems(ctx, in, opts...)
}

// rotation times key rotations, and counts their writes, on an account
// with many tokens and on one with a single token, alternately.
func rotation(ctx context.Context, c *check, store *dynamostore.Store, db *countingDB, many int) error {
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
			before := db.writes.Load()
			start := time.Now()
			if _, _, err := mgr.ReplaceAPIKey(ctx, s.account.ID); err != nil {
				return err
			}
			if i > 0 { // the first round warms the connection
				s.took = append(s.took, time.Since(start))
			}
			s.writes = db.writes.Load() - before
		}
	}
	one, big := sides[0], sides[1]
	fmt.Printf("key rotation, %d rounds each: %s p50 %v, %d write(s); %s p50 %v, %d write(s)\n",
		rounds-1, one.name, pct(one.took, 50), one.writes, big.name, pct(big.took, 50), big.writes)
	c.figure("rotation writes, "+big.name+" / 1 token", float64(big.writes)/float64(one.writes), maxRotationRatio, "x")
	c.figure("rotation wall time p50, "+big.name+" / 1 token", ratio(big.took, one.took, 50), maxRotationRatio, "x")
	return nil
}
