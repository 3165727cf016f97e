package wire

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/apigw"
	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/testkit/fixtures"
)

// scheduling is what the test allows beyond a bound for the machine's own
// delays (a loaded CI runner, the race detector): the bounds themselves
// are context deadlines and client timeouts, not measurements.
const scheduling = 400 * time.Millisecond

// silentStore is a DynamoDB endpoint that accepts connections and never
// answers: a store that hangs.
func silentStore(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = conn.Close() })
		}
	}()
	return "http://" + ln.Addr().String()
}

// refusingStore is a DynamoDB endpoint nobody listens on: a store that is
// down.
func refusingStore(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

// TestAStoreThatDoesNotAnswerFailsCallersFast: whether DynamoDB hangs or
// refuses connections, both authorizers fail closed within their decision
// budget (under 1 s; API Gateway answers 503) and an admin route answers
// 503 within 2 s, not after the SDK's default retries: the functions as
// they are built for Lambda.
func TestAStoreThatDoesNotAnswerFailsCallersFast(t *testing.T) {
	for name, endpoint := range map[string]string{"hanging": silentStore(t), "down": refusingStore(t)} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("AWS_REGION", "eu-west-1")
			env := map[string]string{schema.Core.EnvVar: "core", schema.Usage.EnvVar: "usage", config.EnvDynamoEndpoint: endpoint}
			getenv := func(k string) string { return env[k] }
			cfg, err := config.FromEnv(getenv)
			if err != nil {
				t.Fatal(err)
			}
			d := Deps{Config: cfg, Log: slog.New(slog.DiscardHandler), Getenv: getenv, clients: map[config.ClientOptions]*dynamodb.Client{}}
			ctx := context.Background()

			decide := func(auth routes.Auth, req events.APIGatewayCustomAuthorizerRequestTypeRequest, bound time.Duration) {
				t.Helper()
				authorize, err := Authorizers[auth](ctx, d)
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				_, err = authorize(ctx, req)
				took := time.Since(start)
				if err == nil || errors.Is(err, apigw.ErrUnauthorized) {
					t.Errorf("%s: answered %v without its store, want a failure (closed, 503)", auth, err)
				}
				if took > bound+scheduling {
					t.Errorf("%s: refused after %v, want within %v", auth, took, bound)
				}
			}
			token := fixtures.Load[events.APIGatewayCustomAuthorizerRequestTypeRequest](t, "authorizer/data-query.json", nil)
			presented := secret.NewToken()
			token.QueryStringParameters["token"] = presented
			token.MultiValueQueryStringParameters["token"] = []string{presented}
			decide(routes.TokenAuth, token, DecisionBudget)
			key := fixtures.Load[events.APIGatewayCustomAuthorizerRequestTypeRequest](t, "keyauthorizer/admin-header.json", nil)
			decide(routes.APIKeyAuth, key, DecisionBudget)

			manage, err := Proxies[routes.Manage](ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			req := fixtures.Load[events.APIGatewayProxyRequest](t, "manage/list-tokens.json", map[string]string{"accountId": "acc_01J9ZQ3V7W8X9Y0Z1A2B3C4D5E", "keyId": "key_01J9ZQ3V7W8X9Y0Z1A2B3C4D5E", "service": "tmy", "type": "user", "limit": "10"})
			start := time.Now()
			resp, err := manage(ctx, req)
			took := time.Since(start)
			if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("admin route without its store: %d %v, want 503", resp.StatusCode, err)
			}
			if took > 2*time.Second+scheduling {
				t.Errorf("admin route answered after %v, want within 2s", took)
			}
		})
	}
}
