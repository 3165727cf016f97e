package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
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
	db    DB
	table string
}

var (
	_ tokens.Store           = (*Store)(nil)
	_ tokens.CredentialStore = (*Store)(nil)
	_ tokens.Sweeper         = (*Store)(nil)
	_ DB                     = (*dynamodb.Client)(nil)
)

// DB is the part of the DynamoDB API the store calls. *dynamodb.Client is
// one; tests wrap it to count the writes a change costs and to fail them
// part-way, as a crash would.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// New returns a Store over the core table named coreTable.
func New(client DB, coreTable string) (*Store, error) {
	if c, ok := client.(*dynamodb.Client); client == nil || ok && c == nil {
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

// txnItem is the handle of one item of a txn, as its adding method
// returns it: after run, failed tells whether that item's condition did
// not hold, so no caller counts positions. noItem is the handle of an
// item that was not added.
type txnItem int

const noItem txnItem = -1

// failed reports whether err is a cancelled transaction whose item i
// failed its condition.
func (i txnItem) failed(err error) bool { return i != noItem && conditionFailedAt(err, int(i)) }

// add appends an item and returns its handle.
func (t *txn) add(item types.TransactWriteItem) txnItem {
	t.items = append(t.items, item)
	return txnItem(len(t.items) - 1)
}

func (t *txn) put(item any, cond string, values map[string]types.AttributeValue) txnItem {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		t.err = errors.Join(t.err, fmt.Errorf("encode item: %w", err))
		return noItem
	}
	return t.add(types.TransactWriteItem{Put: &types.Put{
		TableName: &t.table, Item: av, ConditionExpression: optional(cond),
		ExpressionAttributeNames: exprNames(nil, cond), ExpressionAttributeValues: values,
	}})
}

func (t *txn) update(key map[string]types.AttributeValue, update, cond string, values map[string]types.AttributeValue) txnItem {
	return t.add(types.TransactWriteItem{Update: &types.Update{
		TableName: &t.table, Key: key, UpdateExpression: &update, ConditionExpression: optional(cond),
		ExpressionAttributeNames: exprNames(nil, update, cond), ExpressionAttributeValues: values,
	}})
}

func (t *txn) check(key map[string]types.AttributeValue, cond string, values map[string]types.AttributeValue) txnItem {
	return t.checkNamed(key, cond, values, nil)
}

// checkNamed is check with placeholders for names that are not
// identifiers (map keys), as in exprNames.
func (t *txn) checkNamed(key map[string]types.AttributeValue, cond string, values map[string]types.AttributeValue, extraNames map[string]string) txnItem {
	return t.add(types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &t.table, Key: key, ConditionExpression: &cond,
		ExpressionAttributeNames: exprNames(extraNames, cond), ExpressionAttributeValues: values,
	}})
}

func (t *txn) delete(key map[string]types.AttributeValue, cond string, values map[string]types.AttributeValue) txnItem {
	return t.add(types.TransactWriteItem{Delete: &types.Delete{
		TableName: &t.table, Key: key, ConditionExpression: optional(cond),
		ExpressionAttributeNames: exprNames(nil, cond), ExpressionAttributeValues: values,
	}})
}

// run commits the transaction, mapping a failure with storeErr; the
// handle of an item (txnItem.failed) tells whether its condition did not
// hold.
func (t *txn) run(ctx context.Context, db DB) error {
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
// transaction in flight on the same item; such writes (MarkUsed) are
// idempotent and have no caller to retry them.
func retryConflicts(ctx context.Context, write func() error) error {
	for attempt := 1; ; attempt++ {
		err := write()
		if !isConflict(err) || attempt == conflictAttempts {
			return err
		}
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
}

const conflictAttempts = 5

// maxAttempts bounds the optimistic-concurrency attempts of one change.
const maxAttempts = 12

// optimistic runs attempt, which reads what it changes and writes it on
// condition that it did not change meanwhile, until it does not lose a race
// (apperr.ErrStale: a failed version condition or a transaction conflict).
// This is the one retry loop of the store; the domain never sees a version.
func optimistic(ctx context.Context, attempt func() error) error {
	for n := 1; ; n++ {
		err := attempt()
		if !errors.Is(err, apperr.ErrStale) {
			return err
		}
		if n == maxAttempts {
			return apperr.Conflict("concurrent_update", "the resource was changed by other requests meanwhile; retry")
		}
		if err := pause(ctx, n); err != nil {
			return err
		}
	}
}

// pause waits a jittered, exponentially growing while before attempt n+1,
// so that racing writers stop colliding.
func pause(ctx context.Context, n int) error {
	backoff := time.Millisecond + time.Duration(rand.Int64N(int64(time.Millisecond)<<min(n, 6)))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(backoff):
		return nil
	}
}
