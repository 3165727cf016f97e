package dynamolocal

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/schema"
)

// everyFeature exercises each part of schema.Table, including global
// indexes, which no service table uses yet.
var everyFeature = schema.Table{
	ID:           "Every",
	PartitionKey: "pk",
	SortKey:      "sk",
	LocalIndexes: []schema.Index{{Name: "byLocal", SortKey: "lsk"}},
	GlobalIndexes: []schema.Index{
		{Name: "byGlobal", PartitionKey: "gpk", SortKey: "gsk"},
		{Name: "byGlobalHashOnly", PartitionKey: "gpk2"},
	},
	TTLAttribute: "expiresAt",
}

func TestEnsureTablesBuildsTablesAsTheSchemaDescribes(t *testing.T) {
	tables := append(slices.Clone(schema.All), everyFeature)
	prefix := uniquePrefix(t)
	names, err := EnsureTables(t.Context(), testClient, prefix, tables)
	if err != nil {
		t.Fatal(err)
	}
	deleteAfter(t, names)

	for _, want := range tables {
		t.Run(want.ID, func(t *testing.T) {
			if got := names[want.ID]; got != schema.LocalName(prefix, want) {
				t.Fatalf("name of %s = %q, want %q", want.ID, got, schema.LocalName(prefix, want))
			}
			out, err := testClient.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(names[want.ID])})
			if err != nil {
				t.Fatal(err)
			}
			got := out.Table
			if got.TableStatus != types.TableStatusActive {
				t.Errorf("status = %s, want ACTIVE", got.TableStatus)
			}
			if got.BillingModeSummary == nil || got.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
				t.Errorf("billing mode = %+v, want PAY_PER_REQUEST", got.BillingModeSummary)
			}
			assertKeys(t, "table", got.KeySchema, want.PartitionKey, want.SortKey)
			for _, def := range got.AttributeDefinitions {
				if def.AttributeType != types.ScalarAttributeTypeS {
					t.Errorf("attribute %s has type %s, want S", aws.ToString(def.AttributeName), def.AttributeType)
				}
			}

			lsis := map[string]types.LocalSecondaryIndexDescription{}
			for _, ix := range got.LocalSecondaryIndexes {
				lsis[aws.ToString(ix.IndexName)] = ix
			}
			if len(lsis) != len(want.LocalIndexes) {
				t.Errorf("%d local indexes, want %d", len(lsis), len(want.LocalIndexes))
			}
			for _, w := range want.LocalIndexes {
				ix, ok := lsis[w.Name]
				if !ok {
					t.Errorf("local index %s missing", w.Name)
					continue
				}
				assertKeys(t, w.Name, ix.KeySchema, want.PartitionKey, w.SortKey)
				assertProjectsAll(t, w.Name, ix.Projection)
			}

			gsis := map[string]types.GlobalSecondaryIndexDescription{}
			for _, ix := range got.GlobalSecondaryIndexes {
				gsis[aws.ToString(ix.IndexName)] = ix
			}
			if len(gsis) != len(want.GlobalIndexes) {
				t.Errorf("%d global indexes, want %d", len(gsis), len(want.GlobalIndexes))
			}
			for _, w := range want.GlobalIndexes {
				ix, ok := gsis[w.Name]
				if !ok {
					t.Errorf("global index %s missing", w.Name)
					continue
				}
				assertKeys(t, w.Name, ix.KeySchema, w.PartitionKey, w.SortKey)
				assertProjectsAll(t, w.Name, ix.Projection)
			}

			ttl, err := testClient.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(names[want.ID])})
			if err != nil {
				t.Fatal(err)
			}
			d := ttl.TimeToLiveDescription
			if want.TTLAttribute == "" {
				if d != nil && d.TimeToLiveStatus == types.TimeToLiveStatusEnabled {
					t.Errorf("TTL enabled on %s, want it off", aws.ToString(d.AttributeName))
				}
			} else if d == nil || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != want.TTLAttribute {
				t.Errorf("TTL = %+v, want enabled on %s", d, want.TTLAttribute)
			}
		})
	}
}

func TestEnsureTablesIsIdempotent(t *testing.T) {
	prefix := uniquePrefix(t)
	tables := append(slices.Clone(schema.All), everyFeature)
	first, err := EnsureTables(t.Context(), testClient, prefix, tables)
	if err != nil {
		t.Fatal(err)
	}
	deleteAfter(t, first)
	item := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "kept"},
		"sk": &types.AttributeValueMemberS{Value: "kept"},
	}
	if _, err := testClient.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(first[schema.Core.ID]), Item: item}); err != nil {
		t.Fatal(err)
	}

	second, err := EnsureTables(t.Context(), testClient, prefix, tables)
	if err != nil {
		t.Fatalf("second EnsureTables: %v", err)
	}
	if !maps.Equal(first, second) {
		t.Errorf("second run named tables %v, first %v", second, first)
	}
	got, err := testClient.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(first[schema.Core.ID]), Key: item, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Item == nil {
		t.Error("second EnsureTables lost an existing item")
	}
}

func TestDeleteTablesRemovesTablesAndIgnoresMissingOnes(t *testing.T) {
	names, err := EnsureTables(t.Context(), testClient, uniquePrefix(t), schema.All)
	if err != nil {
		t.Fatal(err)
	}
	list := slices.Collect(maps.Values(names))
	if err := DeleteTables(t.Context(), testClient, list); err != nil {
		t.Fatal(err)
	}
	for _, name := range list {
		_, err := testClient.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if !errors.As(err, new(*types.ResourceNotFoundException)) {
			t.Errorf("DescribeTable(%s) after delete: err = %v, want ResourceNotFoundException", name, err)
		}
	}
	if err := DeleteTables(t.Context(), testClient, list); err != nil {
		t.Errorf("deleting tables already gone: %v", err)
	}
}

func assertKeys(t *testing.T, what string, ks []types.KeySchemaElement, hash, rng string) {
	t.Helper()
	want := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
	if rng != "" {
		want = append(want, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
	}
	if !slices.EqualFunc(ks, want, func(a, b types.KeySchemaElement) bool {
		return aws.ToString(a.AttributeName) == aws.ToString(b.AttributeName) && a.KeyType == b.KeyType
	}) {
		t.Errorf("%s keys = %s, want %s", what, keyString(ks), keyString(want))
	}
}

func keyString(ks []types.KeySchemaElement) string {
	var s []string
	for _, k := range ks {
		s = append(s, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	return strings.Join(s, ",")
}

func assertProjectsAll(t *testing.T, what string, p *types.Projection) {
	t.Helper()
	if p == nil || p.ProjectionType != types.ProjectionTypeAll {
		t.Errorf("%s projection = %+v, want ALL", what, p)
	}
}

// TestEnsureTablesRefusesATableOfAnotherSchema: data kept from an older
// version (a table without an index this version reads) is refused at
// start with what to do, never found out by a failing listing later.
func TestEnsureTablesRefusesATableOfAnotherSchema(t *testing.T) {
	prefix := uniquePrefix(t)
	older := everyFeature
	older.LocalIndexes = nil
	names, err := EnsureTables(t.Context(), testClient, prefix, []schema.Table{older})
	if err != nil {
		t.Fatal(err)
	}
	deleteAfter(t, names)
	_, err = EnsureTables(t.Context(), testClient, prefix, []schema.Table{everyFeature})
	if !errors.Is(err, ErrOlderTable) || !strings.Contains(err.Error(), ".local/") {
		t.Fatalf("EnsureTables over an older table: %v, want ErrOlderTable saying how to start afresh", err)
	}
	if _, err := EnsureTables(t.Context(), testClient, prefix, []schema.Table{older}); err != nil {
		t.Fatalf("EnsureTables of the table's own schema: %v", err)
	}
}
