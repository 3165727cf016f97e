package dynamolocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/schema"
)

// tableActiveTimeout bounds the wait for a new table to become ACTIVE, which
// on DynamoDB Local is immediate.
const tableActiveTimeout = 30 * time.Second

// EnsureTables creates every table in tables, named schema.LocalName(prefix,
// t), unless it already exists, waits until each is ACTIVE and enables TTL
// where the table has a TTLAttribute. It returns each table's ID mapped to
// its physical name. Running it again changes nothing.
func EnsureTables(ctx context.Context, client *dynamodb.Client, prefix string, tables []schema.Table) (map[string]string, error) {
	names := make(map[string]string, len(tables))
	for _, t := range tables {
		name := schema.LocalName(prefix, t)
		if err := ensureTable(ctx, client, name, t); err != nil {
			return nil, fmt.Errorf("dynamolocal: ensure table %s: %w", name, err)
		}
		names[t.ID] = name
	}
	return names, nil
}

// FreshTables creates tables under a prefix of label and 32 random bits
// (e.g. "t1a2b3c4_"), so that runs sharing a server never see each other's
// items, and returns their names (schema ID -> physical name) and a
// function that deletes them.
func FreshTables(ctx context.Context, client *dynamodb.Client, label string, tables []schema.Table) (names map[string]string, drop func(context.Context) error, err error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return nil, nil, fmt.Errorf("dynamolocal: table prefix: %w", err)
	}
	names, err = EnsureTables(ctx, client, label+hex.EncodeToString(b)+"_", tables)
	if err != nil {
		return nil, nil, err
	}
	drop = func(ctx context.Context) error {
		return DeleteTables(ctx, client, slices.Collect(maps.Values(names)))
	}
	return names, drop, nil
}

func ensureTable(ctx context.Context, client *dynamodb.Client, name string, t schema.Table) error {
	_, err := client.CreateTable(ctx, createTableInput(name, t))
	existed := errors.As(err, new(*types.ResourceInUseException))
	if err != nil && !existed {
		return err
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
	})
	out, err := waiter.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, tableActiveTimeout)
	if err != nil {
		return err
	}
	if existed {
		if err := sameIndexes(out.Table, t); err != nil {
			return err
		}
	}
	if t.TTLAttribute == "" {
		return nil
	}
	return ensureTTL(ctx, client, name, t.TTLAttribute)
}

// ErrOlderTable means a table that already exists was made from another
// version of the schema: local secondary indexes exist only from a table's
// creation, so it cannot be brought up to date in place.
var ErrOlderTable = errors.New("the table was made by another version of the schema")

// sameIndexes checks that an existing table has the schema's indexes, so
// that a stack started on data kept from an older version says so at once
// rather than failing its first listing.
func sameIndexes(got *types.TableDescription, t schema.Table) error {
	var have, want []string
	for _, ix := range got.LocalSecondaryIndexes {
		have = append(have, "local "+aws.ToString(ix.IndexName))
	}
	for _, ix := range got.GlobalSecondaryIndexes {
		have = append(have, "global "+aws.ToString(ix.IndexName))
	}
	for _, ix := range t.LocalIndexes {
		want = append(want, "local "+ix.Name)
	}
	for _, ix := range t.GlobalIndexes {
		want = append(want, "global "+ix.Name)
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		return fmt.Errorf("%w: it has the indexes %v, this version needs %v; "+
			"stop the stack and delete its data directory (.local/ for make run) to start afresh", ErrOlderTable, have, want)
	}
	return nil
}

// ensureTTL enables TTL on attr unless it is already on: DynamoDB rejects
// enabling TTL twice.
func ensureTTL(ctx context.Context, client *dynamodb.Client, name, attr string) error {
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return err
	}
	if d := ttl.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == attr &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)},
	})
	return err
}

// createTableInput translates a schema.Table: on-demand billing, string keys,
// every index projecting all attributes.
func createTableInput(name string, t schema.Table) *dynamodb.CreateTableInput {
	attrs := newAttributeSet()
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   keySchema(attrs, t.PartitionKey, t.SortKey),
	}
	for _, ix := range t.LocalIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(ix.Name),
			KeySchema:  keySchema(attrs, t.PartitionKey, ix.SortKey),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	for _, ix := range t.GlobalIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(ix.Name),
			KeySchema:  keySchema(attrs, ix.PartitionKey, ix.SortKey),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	in.AttributeDefinitions = attrs.defs
	return in
}

// attributeSet collects each key attribute once: DynamoDB rejects duplicate
// definitions, and the table's partition key recurs in every local index.
type attributeSet struct {
	seen map[string]bool
	defs []types.AttributeDefinition
}

func newAttributeSet() *attributeSet { return &attributeSet{seen: map[string]bool{}} }

func (s *attributeSet) add(name string) {
	if s.seen[name] {
		return
	}
	s.seen[name] = true
	s.defs = append(s.defs, types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS})
}

// keySchema returns a hash key and, if sortKey is set, a range key,
// recording both as string attributes.
func keySchema(attrs *attributeSet, partitionKey, sortKey string) []types.KeySchemaElement {
	attrs.add(partitionKey)
	ks := []types.KeySchemaElement{{AttributeName: aws.String(partitionKey), KeyType: types.KeyTypeHash}}
	if sortKey != "" {
		attrs.add(sortKey)
		ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(sortKey), KeyType: types.KeyTypeRange})
	}
	return ks
}

// DeleteTables deletes the named tables; tables already gone are not an
// error. It tries every table and reports all failures.
func DeleteTables(ctx context.Context, client *dynamodb.Client, names []string) error {
	var errs []error
	for _, name := range names {
		_, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		if err != nil && !errors.As(err, new(*types.ResourceNotFoundException)) {
			errs = append(errs, fmt.Errorf("dynamolocal: delete table %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
