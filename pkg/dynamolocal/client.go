package dynamolocal

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	return dynamodb.New(dynamodb.Options{
		Region:       localRegion,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(localAccessKey, localSecretKey, ""),
	}, optFns...)
}
