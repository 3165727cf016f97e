package dynamotest_test

import (
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/local/dynamolocal"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

func TestTablesGivesEachCallItsOwnTables(t *testing.T) {
	a, b := dynamotest.Tables(t), dynamotest.Tables(t)
	for _, tbl := range schema.All {
		if a[tbl.ID] == "" || a[tbl.ID] == b[tbl.ID] {
			t.Errorf("table %s: names %q and %q, want two distinct names", tbl.ID, a[tbl.ID], b[tbl.ID])
		}
	}

	client := dynamotest.Client(t)
	key := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "p"},
		"sk": &types.AttributeValueMemberS{Value: "s"},
	}
	if _, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(a[schema.Core.ID]), Item: key}); err != nil {
		t.Fatal(err)
	}
	got, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(b[schema.Core.ID]), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Item != nil {
		t.Error("an item written to one call's tables appeared in another's")
	}
}

func TestTablesAreDeletedWhenTheTestEnds(t *testing.T) {
	var names map[string]string
	t.Run("user", func(t *testing.T) { names = dynamotest.Tables(t) })

	client := dynamotest.Client(t)
	for id, name := range names {
		_, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if !errors.As(err, new(*types.ResourceNotFoundException)) {
			t.Errorf("table %s (%s) after its test ended: err = %v, want ResourceNotFoundException", id, name, err)
		}
	}
}

func TestEndpointServesTheClientsTables(t *testing.T) {
	names := dynamotest.Tables(t)
	own, err := dynamolocal.NewClient(t.Context(), dynamotest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := own.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(names[schema.Core.ID])}); err != nil {
		t.Errorf("a client built from Endpoint cannot see the test's tables: %v", err)
	}
}
