package wire

import (
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/apigwplans"
	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/schema"
)

func TestDepsBuildOneClientPerOptions(t *testing.T) {
	d := Deps{
		Config:  config.Config{DynamoEndpoint: "http://127.0.0.1:1"}, // never dialled
		clients: map[config.ClientOptions]*dynamodb.Client{},
	}
	bounded := config.ClientOptions{Timeout: time.Second, MaxAttempts: 2}
	client := func(o config.ClientOptions) *dynamodb.Client {
		t.Helper()
		c, err := d.dynamoDB(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := client(config.ClientOptions{})
	if again := client(config.ClientOptions{}); again != first {
		t.Error("the same options built a second client")
	}
	if other := client(bounded); other == first {
		t.Error("other options got the default options' client")
	}
}

func TestEveryRouteFunctionAndAuthorizerHasABuildStep(t *testing.T) {
	for _, r := range routes.All {
		if _, ok := Proxies[r.Function]; !ok {
			t.Errorf("route %s: function %s has no build step in Proxies", r, r.Function)
		}
		if r.Auth == routes.TokenAuth || r.Auth == routes.APIKeyAuth {
			if _, ok := Authorizers[r.Auth]; !ok {
				t.Errorf("route %s: authorizer %s has no build step", r, r.Auth)
			}
		}
	}
	for fn := range Proxies {
		if len(routes.Of(fn)) == 0 {
			t.Errorf("Proxies builds %s, which serves no route", fn)
		}
	}
}

// countingDoer answers every request with an error, counting them.
type countingDoer struct{ n atomic.Int64 }

func (c *countingDoer) Do(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("no network at init")
}

// TestNoFunctionCallsTheNetworkAtInit: every build step (what a cold start
// runs before the first event) makes no DynamoDB request: no table check,
// no warm-up read. Init stays cheap and cannot fail on a slow store.
func TestNoFunctionCallsTheNetworkAtInit(t *testing.T) {
	net := &countingDoer{}
	client := dynamodb.New(dynamodb.Options{Region: "eu-west-1", HTTPClient: net, Credentials: aws.AnonymousCredentials{}})
	env := map[string]string{schema.Core.EnvVar: "core", schema.Usage.EnvVar: "usage", apigwplans.EnvRestAPIID: "a1b2c3d4e5", apigwplans.EnvStage: "prod"}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	d := SharedDeps(cfg, getenv, slog.New(slog.DiscardHandler), client)
	builds := map[string]func() error{
		"recorder": func() error { _, err := Recorder(t.Context(), d); return err },
		"sweeper":  func() error { _, err := Sweeper(t.Context(), d); return err },
	}
	for fn, b := range Proxies {
		builds[string(fn)] = func() error { _, err := b(t.Context(), d); return err }
	}
	for a, b := range Authorizers {
		builds[string(a)] = func() error { _, err := b(t.Context(), d); return err }
	}
	for name, build := range builds {
		if err := build(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if n := net.n.Swap(0); n != 0 {
			t.Errorf("%s made %d DynamoDB requests at init", name, n)
		}
	}
}
