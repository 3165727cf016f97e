package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Store is the DynamoDB implementation of the domain's stores, over the
// core table of pkg/schema.
type Store struct {
	db    *dynamodb.Client
	table string
}

var (
	_ tokens.Store           = (*Store)(nil)
	_ tokens.CredentialStore = (*Store)(nil)
)

// New returns a Store over the core table named coreTable.
func New(client *dynamodb.Client, coreTable string) (*Store, error) {
	if client == nil {
		return nil, errors.New("dynamostore: nil DynamoDB client")
	}
	if coreTable == "" {
		return nil, errors.New("dynamostore: empty core table name")
	}
	return &Store{db: client, table: coreTable}, nil
}

// Ping checks that the table can be read, for the health check: a GetItem
// of a key that never exists costs half a read unit and needs no more
// permission than serving requests does.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: itemKey("PING", "PING")})
	return storeErr(err)
}

// get reads one item with a strongly consistent GetItem into out; found
// reports whether it exists.
func (s *Store) get(ctx context.Context, pk, sk string, out any) (found bool, err error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: itemKey(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, storeErr(err)
	}
	if res.Item == nil {
		return false, nil
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return false, fmt.Errorf("decode item %s/%s: %w", pk, sk, err)
	}
	return true, nil
}

// exists reports whether an item exists; used after a conditional write
// failed, to tell "gone" (NotFound) from "changed" (ErrStale).
func (s *Store) exists(ctx context.Context, pk, sk string) (bool, error) {
	var discard map[string]any
	return s.get(ctx, pk, sk, &discard)
}

// staleOrMissing turns a failed conditional write on pk/sk into the truth.
func (s *Store) staleOrMissing(ctx context.Context, err error, pk, sk, what string) error {
	if !errors.Is(err, apperr.ErrStale) {
		return err
	}
	found, getErr := s.exists(ctx, pk, sk)
	switch {
	case getErr != nil:
		return getErr
	case !found:
		return apperr.NotFound(what)
	}
	return err
}

// update runs one UpdateItem built from expressions (see expr).
func (s *Store) update(ctx context.Context, key map[string]types.AttributeValue, update, cond string, values map[string]types.AttributeValue, extraNames map[string]string) error {
	in := &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key, UpdateExpression: &update,
		ExpressionAttributeNames:  exprNames(extraNames, update, cond),
		ExpressionAttributeValues: values,
	}
	if cond != "" {
		in.ConditionExpression = &cond
	}
	_, err := s.db.UpdateItem(ctx, in)
	return storeErr(err)
}

// ---- expressions ----

var nameRef = regexp.MustCompile(`#[A-Za-z]\w*`)

// exprNames derives ExpressionAttributeNames from the expressions: every
// attribute is written as #name and means name, which sidesteps DynamoDB's
// reserved words (name, status, ...) without a hand-kept map. extra adds
// placeholders for names that are not identifiers (map keys).
func exprNames(extra map[string]string, exprs ...string) map[string]string {
	names := maps.Clone(extra)
	if names == nil {
		names = map[string]string{}
	}
	for _, e := range exprs {
		for _, ref := range nameRef.FindAllString(e, -1) {
			if _, ok := names[ref]; !ok {
				names[ref] = ref[1:]
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	return names
}

// txn builds one TransactWriteItems call; the first build error sticks.
type txn struct {
	table string
	items []types.TransactWriteItem
	err   error
}

func (s *Store) txn() *txn { return &txn{table: s.table} }

func (t *txn) put(item any, cond string, values map[string]types.AttributeValue) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		t.err = errors.Join(t.err, fmt.Errorf("encode item: %w", err))
		return
	}
	t.items = append(t.items, types.TransactWriteItem{Put: &types.Put{
		TableName: &t.table, Item: av, ConditionExpression: optional(cond),
		ExpressionAttributeNames: exprNames(nil, cond), ExpressionAttributeValues: values,
	}})
}

func (t *txn) update(key map[string]types.AttributeValue, update, cond string, values map[string]types.AttributeValue) {
	t.items = append(t.items, types.TransactWriteItem{Update: &types.Update{
		TableName: &t.table, Key: key, UpdateExpression: &update, ConditionExpression: optional(cond),
		ExpressionAttributeNames: exprNames(nil, update, cond), ExpressionAttributeValues: values,
	}})
}

func (t *txn) check(key map[string]types.AttributeValue, cond string, values map[string]types.AttributeValue) {
	t.items = append(t.items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &t.table, Key: key, ConditionExpression: &cond,
		ExpressionAttributeNames: exprNames(nil, cond), ExpressionAttributeValues: values,
	}})
}

func (t *txn) delete(key map[string]types.AttributeValue, cond string, values map[string]types.AttributeValue) {
	t.items = append(t.items, types.TransactWriteItem{Delete: &types.Delete{
		TableName: &t.table, Key: key, ConditionExpression: optional(cond),
		ExpressionAttributeNames: exprNames(nil, cond), ExpressionAttributeValues: values,
	}})
}

// run commits the transaction, mapping a failure with storeErr;
// conditionFailedAt tells which item's condition did not hold.
func (t *txn) run(ctx context.Context, db *dynamodb.Client) error {
	if t.err != nil {
		return t.err
	}
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: t.items})
	return storeErr(err)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Conditions used throughout.
const (
	notExists = "attribute_not_exists(#pk)"
	exists    = "attribute_exists(#pk)"
)

// retryConflicts runs a single-item write again while it collides with a
// transaction in flight on the same item; such writes (fan-out, MarkUsed)
// are idempotent and have no caller to retry them.
func retryConflicts(ctx context.Context, write func() error) error {
	for attempt := 1; ; attempt++ {
		err := write()
		if !isConflict(err) || attempt == conflictAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		}
	}
}

const conflictAttempts = 5

// ---- fan-out ----

// fanOutWorkers bounds the writes one fan-out keeps in flight.
const fanOutWorkers = 8

// parallel runs fn for every item, fanOutWorkers at a time, and joins the
// errors; every item is attempted, so a re-run has less to reconcile.
func parallel[T any](ctx context.Context, items []T, fn func(context.Context, T) error) error {
	sem := make(chan struct{}, fanOutWorkers)
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = fn(ctx, it)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// queryAll runs a Query to the end and decodes every item into T.
func queryAll[T any](ctx context.Context, db *dynamodb.Client, in *dynamodb.QueryInput) ([]T, error) {
	var out []T
	p := dynamodb.NewQueryPaginator(db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, storeErr(err)
		}
		var items []T
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("decode items: %w", err)
		}
		out = append(out, items...)
	}
	return out, nil
}

// count runs a Select COUNT Query to the end.
func count(ctx context.Context, db *dynamodb.Client, in *dynamodb.QueryInput) (int, error) {
	in.Select = types.SelectCount
	n := 0
	p := dynamodb.NewQueryPaginator(db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, storeErr(err)
		}
		n += int(page.Count)
	}
	return n, nil
}
