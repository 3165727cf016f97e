package dynamolocal

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/schema"
)

// Connect finds or starts a DynamoDB Local as EnvOrStart does and returns
// a NewClient client for it; stop stops the server Connect started, if it
// started one. On error nothing is left running.
func Connect(ctx context.Context, opts Options) (endpoint string, client *dynamodb.Client, stop func() error, err error) {
	endpoint, stop, err = EnvOrStart(ctx, opts)
	if err != nil {
		return "", nil, nil, err
	}
	if client, err = NewClient(ctx, endpoint); err != nil {
		return "", nil, nil, errors.Join(err, stop())
	}
	return endpoint, client, stop, nil
}

// Scratch is a DynamoDB with fresh tables on it, for one run of a load
// program.
type Scratch struct {
	Endpoint string            // the server's URL, e.g. http://127.0.0.1:8000
	Client   *dynamodb.Client  // NewClient's client for it
	Tables   map[string]string // schema ID -> physical name
}

// NewScratch connects as Connect does, with default Options (so
// $DYNAMODB_ENDPOINT, when set, names the server), and creates fresh copies
// of tables under label as FreshTables does. cleanup drops those tables and
// then stops the server if NewScratch started it, and returns both errors
// joined. On error nothing is left behind.
func NewScratch(ctx context.Context, label string, tables []schema.Table) (s Scratch, cleanup func() error, err error) {
	endpoint, client, stop, err := Connect(ctx, Options{})
	if err != nil {
		return Scratch{}, nil, err
	}
	names, drop, err := FreshTables(ctx, client, label, tables)
	if err != nil {
		return Scratch{}, nil, errors.Join(err, stop())
	}
	cleanup = func() error {
		// The run's own context may be cancelled by now.
		return errors.Join(drop(context.Background()), stop())
	}
	return Scratch{Endpoint: endpoint, Client: client, Tables: names}, cleanup, nil
}
