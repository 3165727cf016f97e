// Command authbench measures what the data authorizer costs over the one
// DynamoDB read it cannot avoid: the latency of a full authorizer decision
// (extraction, hashing, the credential GetItem, decoding, verification,
// policy and context) against DynamoDB Local, next to a raw GetItem of the
// same credential item through the same client, calls interleaved so both
// see the same machine. It prints p50 and p99 of each and their ratios, and
// fails above the targets (p50 1.3x, p99 1.5x). It uses $DYNAMODB_ENDPOINT
// if set, else starts its own in-memory DynamoDB Local.
//
//	go run ./scripts/authbench [-n 3000] [-max-p50 1.3] [-max-p99 1.5]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/authz"
	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/local/dynamolocal"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// The authorizer's client settings (functions/authorizer): 1 s per
// attempt, two attempts.
const (
	attemptTimeout = time.Second
	maxAttempts    = 2
)

func main() {
	n := flag.Int("n", 3000, "measured calls of each kind")
	maxP50 := flag.Float64("max-p50", 1.3, "fail above this authorizer/GetItem p50 ratio")
	maxP99 := flag.Float64("max-p99", 1.5, "fail above this authorizer/GetItem p99 ratio")
	flag.Parse()
	if err := run(context.Background(), *n, *maxP50, *maxP99); err != nil {
		fmt.Fprintln(os.Stderr, "authbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int, maxP50, maxP99 float64) error {
	endpoint, stop, err := dynamolocal.EnvOrStart(ctx, dynamolocal.Options{})
	if err != nil {
		return err
	}
	defer func() { _ = stop() }()
	client, err := newClient(ctx, endpoint)
	if err != nil {
		return err
	}
	names, drop, err := dynamolocal.FreshTables(ctx, client, "authbench", []schema.Table{schema.Core})
	if err != nil {
		return err
	}
	defer func() { _ = drop(context.Background()) }()
	table := names[schema.Core.ID]

	store, err := dynamostore.New(client, table)
	if err != nil {
		return err
	}
	token, err := issueToken(ctx, store)
	if err != nil {
		return err
	}
	a, err := authz.New(store, authz.Options{})
	if err != nil {
		return err
	}
	req := dataRequest(token)
	// The credential item as dynamostore lays it out (pk CRED#<hash>, sk
	// CRED), read the way the store reads it: strongly consistent.
	get := &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "CRED#" + secret.Hash(token)},
			"sk": &types.AttributeValueMemberS{Value: "CRED"},
		},
		ConsistentRead: aws.Bool(true),
	}

	authorize := func() error {
		resp, err := a.Authorize(ctx, req)
		if err != nil {
			return err
		}
		if resp.PolicyDocument.Statement[0].Effect != "Allow" {
			return errors.New("the authorizer did not allow the benchmark token")
		}
		return nil
	}
	getItem := func() error {
		out, err := client.GetItem(ctx, get)
		if err == nil && out.Item == nil {
			err = errors.New("the raw GetItem found no credential item: dynamostore's layout changed")
		}
		return err
	}

	warm := max(n/10, 100)
	auth, raw, err := measure(warm, n, authorize, getItem)
	if err != nil {
		return err
	}
	report := func(name string, d []time.Duration) {
		fmt.Printf("%-28s p50 %8s  p99 %8s\n", name, pct(d, 50), pct(d, 99))
	}
	fmt.Printf("authbench: %d calls each, interleaved, against DynamoDB Local at %s\n", n, endpoint)
	report("raw GetItem", raw)
	report("authorizer decision", auth)
	r50 := float64(pct(auth, 50)) / float64(pct(raw, 50))
	r99 := float64(pct(auth, 99)) / float64(pct(raw, 99))
	fmt.Printf("ratio p50 %.2fx (target <= %.1fx)  p99 %.2fx (target <= %.1fx)\n", r50, maxP50, r99, maxP99)
	if r50 > maxP50 || r99 > maxP99 {
		return fmt.Errorf("over target: p50 %.2fx, p99 %.2fx", r50, r99)
	}
	return nil
}

// measure runs warm unmeasured rounds, then n measured ones, alternating
// which call goes first so neither always runs on a warmer connection.
func measure(warm, n int, a, b func() error) (da, db []time.Duration, err error) {
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
		first, second := func() error { return timed(a, pa) }, func() error { return timed(b, pb) }
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

// issueToken makes an account, a user with access and a user token through
// the domain, as an admin would, and returns the token.
func issueToken(ctx context.Context, store *dynamostore.Store) (string, error) {
	mgr, err := tokens.NewManager(store, tokens.Config{Services: []tokens.Service{{ID: "tmy", Name: "TMY data"}}})
	if err != nil {
		return "", err
	}
	acc, _, err := mgr.CreateAccount(ctx, "authbench", []string{"tmy"})
	if err != nil {
		return "", err
	}
	u, err := mgr.CreateUser(ctx, acc.ID, "bench@example.com", "Bench")
	if err != nil {
		return "", err
	}
	if _, err := mgr.SetAccess(ctx, acc.ID, "tmy", u.ID, true); err != nil {
		return "", err
	}
	_, token, err := mgr.IssueToken(ctx, acc.ID, "tmy", tokens.IssueRequest{UserID: u.ID})
	return token, err
}

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

// newClient checks that DynamoDB Local answers, then builds the one client
// both measurements share, with the
// authorizer's timeout and retry bounds. It sets them on the SDK's own
// buildable HTTP client rather than through config.DynamoDB, whose plain
// http.Client fails to load when AWS_CA_BUNDLE is set (as on this machine).
func newClient(ctx context.Context, endpoint string) (*dynamodb.Client, error) {
	if _, err := dynamolocal.NewClient(ctx, endpoint); err != nil {
		return nil, err
	}
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:       awshttp.NewBuildableClient().WithTimeout(attemptTimeout),
		RetryMaxAttempts: maxAttempts,
	}), nil
}
