package dynamolocal

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DynamoDB Local accepts any credentials made of letters and digits; fixed
// ones keep a developer's real keys out of local requests altogether.
const (
	localRegion    = "us-east-1"
	localAccessKey = "local"
	localSecretKey = "local"
)

// maxIdleConns is how many idle connections a client keeps to DynamoDB
// Local. On AWS every function has a client of its own serving one request
// at a time, and the SDK's default of 10 idle connections per host is
// plenty; the local stack runs every function, the recorder and the tests
// through one client, with dozens of requests in flight. With 10, every
// request over that number dials a connection and closes it afterwards:
// thousands of TCP handshakes a second for DynamoDB Local to accept, and as
// many sockets left in TIME_WAIT.
const maxIdleConns = 256

// NewClient returns a DynamoDB client for the DynamoDB Local at endpoint
// (e.g. http://127.0.0.1:8000) and checks that it answers, so a wrong
// endpoint fails here rather than in the first test that uses it.
func NewClient(ctx context.Context, endpoint string) (*dynamodb.Client, error) {
	client := newClient(endpoint)
	if _, err := client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}); err != nil {
		return nil, fmt.Errorf("dynamolocal: no DynamoDB Local answering at %s: %w", endpoint, err)
	}
	return client, nil
}

// newClient builds the client from explicit options only: no shared config
// files, no environment variables, no instance metadata.
func newClient(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = maxIdleConns
		tr.MaxIdleConnsPerHost = maxIdleConns
	})
	return dynamodb.New(dynamodb.Options{
		Region:       localRegion,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(localAccessKey, localSecretKey, ""),
		HTTPClient:   httpClient,
	}, optFns...)
}
