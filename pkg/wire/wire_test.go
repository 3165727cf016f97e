package wire

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/routes"
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
