package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/authz"
	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/testkit/bulktokens"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// latency prints the cold and the half-warm decision against a raw
// GetItem of the token's own item, the one read no design can avoid.
// store writes the setup; reads is the same table behind the authorizer's
// client.
func latency(ctx context.Context, c *check, client *dynamodb.Client, store, reads *dynamostore.Store, table string, n int) error {
	mgr, err := tokens.NewManager(store, tokens.Config{Services: []tokens.Service{{ID: "tmy", Name: "TMY data"}}})
	if err != nil {
		return err
	}
	acc, _, err := mgr.CreateAccount(ctx, "authbench", []string{"tmy"})
	if err != nil {
		return err
	}
	u, err := mgr.CreateUser(ctx, acc.ID, "bench@example.com", "Bench")
	if err != nil {
		return err
	}
	if _, err := mgr.SetAccess(ctx, acc.ID, "tmy", u.ID, true); err != nil {
		return err
	}
	_, token, err := mgr.IssueToken(ctx, acc.ID, "tmy", tokens.IssueRequest{UserID: u.ID})
	if err != nil {
		return err
	}
	_, userless, err := mgr.IssueToken(ctx, acc.ID, "tmy", tokens.IssueRequest{})
	if err != nil {
		return err
	}
	getItem := func(token string) func() error {
		// The token's item as dynamostore lays it out (pk CRED#<hash>, sk
		// CRED), read the way the store reads it: strongly consistent.
		in := &dynamodb.GetItemInput{
			TableName: aws.String(table),
			Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "CRED#" + secret.Hash(token)},
				"sk": &types.AttributeValueMemberS{Value: "CRED"},
			},
			ConsistentRead: aws.Bool(true),
		}
		return func() error {
			out, err := client.GetItem(ctx, in)
			if err == nil && out.Item == nil {
				err = errors.New("the raw GetItem found no token item: dynamostore's layout changed")
			}
			return err
		}
	}
	// The two gate items of a user token in one BatchGetItem, as
	// dynamostore lays them out (pk ACC#<account>, sk ACCOUNT and
	// USER#<user>) and reads them.
	gates := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: {
		Keys: []map[string]types.AttributeValue{
			{"pk": &types.AttributeValueMemberS{Value: "ACC#" + acc.ID}, "sk": &types.AttributeValueMemberS{Value: "ACCOUNT"}},
			{"pk": &types.AttributeValueMemberS{Value: "ACC#" + acc.ID}, "sk": &types.AttributeValueMemberS{Value: "USER#" + u.ID}},
		},
		ConsistentRead: aws.Bool(true),
	}}}
	batchGet := func(int) func() error {
		return func() error {
			out, err := client.BatchGetItem(ctx, gates)
			if err == nil && len(out.Responses[table]) != 2 {
				err = errors.New("the raw BatchGetItem found fewer than two gate items: dynamostore's layout changed")
			}
			return err
		}
	}
	authorize := func(a *authz.Authorizer, token string) func() error {
		req := dataRequest(token)
		return func() error {
			resp, err := a.Authorize(ctx, req)
			if err == nil && resp.PolicyDocument.Statement[0].Effect != "Allow" {
				err = errNotAllowed
			}
			return err
		}
	}

	// Cold: no revocation delay, so every decision reads the token's item
	// and then its gate items: a user token's account and user items in
	// one BatchGetItem, a userless token's account item in one GetItem.
	cold, err := authz.New(reads, authz.Options{Services: benchServices})
	if err != nil {
		return err
	}
	// DynamoDB Local's JIT compiles for the first thousands of requests:
	// the first figure measured before it has would read up to twice as
	// slow as the same calls later.
	warmup := max(n/10, 100)
	if _, _, err := measure(max(n, 1000), 0, func(int) func() error { return authorize(cold, token) }, func(int) func() error { return getItem(userless) }); err != nil {
		return err
	}

	// What DynamoDB Local charges for reading two items in one request:
	// a user token's decision can be no faster than its item's read plus
	// this, whatever the authorizer does.
	two, one, err := measure(warmup, n, batchGet, func(int) func() error { return getItem(token) })
	if err != nil {
		return err
	}
	fmt.Printf("reading two items in one request (a BatchGetItem of a user token's two gate items) against one GetItem, %d calls each:\n", n)
	fmt.Printf("  raw GetItem p50 %v; raw BatchGetItem of 2 p50 %v = %.2fx, so a user token's cold p50 is at least 1 + %.2f = %.2fx here\n",
		pct(one, 50), pct(two, 50), ratio(two, one, 50), ratio(two, one, 50), 1+ratio(two, one, 50))
	coldUserP50 := 0.0
	for _, k := range []struct{ kind, gates, token string }{
		{"user", "account and user items in one BatchGetItem", token},
		{"userless", "account item in one GetItem", userless},
	} {
		auth, raw, err := measure(warmup, n, func(int) func() error { return authorize(cold, k.token) }, func(int) func() error { return getItem(k.token) })
		if err != nil {
			return err
		}
		fmt.Printf("cold decision of a %s token (its item, then its %s), %d calls each, interleaved:\n", k.kind, k.gates, n)
		fmt.Printf("  raw GetItem p50 %v p99 %v; decision p50 %v p99 %v\n", pct(raw, 50), pct(raw, 99), pct(auth, 50), pct(auth, 99))
		c.figure("cold decision, "+k.kind+" token / raw GetItem, p50", ratio(auth, raw, 50), maxColdP50, "x")
		c.figure("cold decision, "+k.kind+" token / raw GetItem, p99", ratio(auth, raw, 99), maxColdP99, "x")
		if k.kind == "user" {
			coldUserP50 = ratio(auth, raw, 50)
		}
	}

	// Seen before (issue 22): an authorizer that has decided on the user
	// token, whose clock then passes the revocation delay before every
	// call, so every decision finds the token's answer expired and reads
	// the token and its two gate items in one BatchGetItem (the identity
	// memory). Its floor is that raw BatchGetItem of three items.
	var shift time.Duration
	seen, err := authz.New(reads, authz.Options{Services: benchServices, RevocationDelay: time.Second, Now: func() time.Time { return time.Now().Add(shift) }})
	if err != nil {
		return err
	}
	if err := authorize(seen, token)(); err != nil {
		return err
	}
	seenCall := func(int) func() error {
		decide := authorize(seen, token)
		return func() error {
			shift += 2 * time.Second
			return decide()
		}
	}
	three := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: {
		Keys: append([]map[string]types.AttributeValue{{
			"pk": &types.AttributeValueMemberS{Value: "CRED#" + secret.Hash(token)},
			"sk": &types.AttributeValueMemberS{Value: "CRED"},
		}}, gates.RequestItems[table].Keys...),
		ConsistentRead: aws.Bool(true),
	}}}
	floorCall := func(int) func() error {
		return func() error {
			out, err := client.BatchGetItem(ctx, three)
			if err == nil && len(out.Responses[table]) != 3 {
				err = errors.New("the raw BatchGetItem found fewer than three items: dynamostore's layout changed")
			}
			return err
		}
	}
	floor, floorRaw, err := measure(warmup, n, floorCall, func(int) func() error { return getItem(token) })
	if err != nil {
		return err
	}
	seenAuth, seenRaw, err := measure(warmup, n, seenCall, func(int) func() error { return getItem(token) })
	if err != nil {
		return err
	}
	floorRatio, seenRatio := ratio(floor, floorRaw, 50), ratio(seenAuth, seenRaw, 50)
	fmt.Printf("decision of a user token seen before whose answer expired (its item and both gate items in one BatchGetItem), %d calls each, interleaved:\n", n)
	fmt.Printf("  floor: raw BatchGetItem of those 3 items p50 %v = %.2fx a raw GetItem; decision p50 %v p99 %v = %.2fx (cold user decision %.2fx)\n",
		pct(floor, 50), floorRatio, pct(seenAuth, 50), pct(seenAuth, 99), seenRatio, coldUserP50)
	c.figure("seen-before token / raw GetItem, p50, over its floor", seenRatio/floorRatio, maxSeenOverFloor, "x")
	c.figure("seen-before token / cold user-token decision, p50", seenRatio/coldUserP50, maxSeenOverCold, "x")

	// Half-warm: every decision presents a token the instance has not seen,
	// of an account whose gate it holds.
	half := min(n, 1000)
	fresh, err := userlessTokens(ctx, store, acc, half+warmup)
	if err != nil {
		return err
	}
	cached, err := authz.New(reads, authz.Options{Services: benchServices, RevocationDelay: tokens.MaxRevocationDelay})
	if err != nil {
		return err
	}
	if err := authorize(cached, token)(); err != nil { // the account's gate, now cached
		return err
	}
	auth, raw, err := measure(warmup, half, func(i int) func() error { return authorize(cached, fresh[i]) }, func(i int) func() error { return getItem(fresh[i]) })
	if err != nil {
		return err
	}
	fmt.Printf("decision of a token not yet cached whose account's gate is (one GetItem), %d calls each:\n", half)
	fmt.Printf("  raw GetItem p50 %v p99 %v; decision p50 %v p99 %v\n", pct(raw, 50), pct(raw, 99), pct(auth, 50), pct(auth, 99))
	c.figure("uncached token, cached gates / raw GetItem, p50", ratio(auth, raw, 50), maxHalfP50, "x")
	c.figure("uncached token, cached gates / raw GetItem, p99", ratio(auth, raw, 99), maxHalfP99, "x")
	return nil
}

// userlessTokens stores n userless tokens of acc's current key through the
// store and returns their secrets.
func userlessTokens(ctx context.Context, store *dynamostore.Store, acc tokens.Account, n int) ([]string, error) {
	proto := tokens.Token{AccountID: acc.ID, Name: "authbench", Service: "tmy", KeyGeneration: acc.APIKey.Generation}
	_, secrets, err := bulktokens.Write(ctx, store, "authbench", n, proto, nil)
	return secrets, err
}

// measure runs warm unmeasured rounds, then n measured ones, alternating
// which call goes first so neither always runs on a warmer connection.
// Round i calls a(i) and b(i).
func measure(warm, n int, a, b func(i int) func() error) (da, db []time.Duration, err error) {
	timed := func(f func() error, into *[]time.Duration) error {
		start := time.Now()
		if err := f(); err != nil {
			return err
		}
		if into != nil {
			*into = append(*into, time.Since(start))
		}
		return nil
	}
	for i := range warm + n {
		pa, pb := &da, &db
		if i < warm {
			pa, pb = nil, nil
		}
		fa, fb := a(i), b(i)
		first, second := func() error { return timed(fa, pa) }, func() error { return timed(fb, pb) }
		if i%2 == 1 {
			first, second = second, first
		}
		if err := first(); err != nil {
			return nil, nil, err
		}
		if err := second(); err != nil {
			return nil, nil, err
		}
	}
	return da, db, nil
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(time.Microsecond)
}

func ratio(a, b []time.Duration, p int) float64 { return float64(pct(a, p)) / float64(pct(b, p)) }

// dataRequest is a REQUEST authorizer event for GET /data/tmy/hourly with
// the token in the query string, shaped as API Gateway sends it.
func dataRequest(token string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	const raw = `{"type":"REQUEST","methodArn":"arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/data/tmy/hourly",
	"resource":"/data/{service}/{proxy+}","path":"/data/tmy/hourly","httpMethod":"GET",
	"headers":{"Accept":"application/json","Host":"a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com","User-Agent":"authbench"},
	"pathParameters":{"service":"tmy","proxy":"hourly"},
	"requestContext":{"stage":"prod","requestId":"authbench","identity":{"sourceIp":"127.0.0.1"},"apiId":"a1b2c3d4e5"}}`
	var req events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal([]byte(raw), &req); err != nil {
		panic(err) // a constant that does not parse is a bug in this file
	}
	req.QueryStringParameters = map[string]string{"token": token}
	req.MultiValueQueryStringParameters = map[string][]string{"token": {token}}
	return req
}
