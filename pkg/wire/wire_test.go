package wire

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/config"
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
