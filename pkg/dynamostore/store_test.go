package dynamostore_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
	"github.com/acmedata/tokenservice/pkg/testkit/storesuite"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

func newStore(t *testing.T) *dynamostore.Store {
	t.Helper()
	s, err := dynamostore.New(dynamotest.Client(t), dynamotest.Tables(t)[schema.Core.ID])
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestStorePassesTheRepositorySuite(t *testing.T) {
	storesuite.Run(t, func(t *testing.T) (storesuite.Store, storesuite.Faults) {
		db := &faultyDB{DB: dynamotest.Client(t), failAfter: -1}
		s, err := dynamostore.New(db, dynamotest.Tables(t)[schema.Core.ID])
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return s, db
	})
}

// faultyDB counts the write requests a store sends and fails them on
// demand before they reach DynamoDB, as a Lambda that died between two
// writes would leave the table.
type faultyDB struct {
	dynamostore.DB
	mu        sync.Mutex
	writes    int
	failAfter int
	examined  atomic.Int64
}

// Examined implements storesuite.Examiner: the items every read so far
// examined, as DynamoDB bills them (a Query's ScannedCount counts the
// items it read before any filter).
func (f *faultyDB) Examined() int { return int(f.examined.Load()) }

func (f *faultyDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := f.DB.Query(ctx, in, opts...)
	if err == nil {
		f.examined.Add(int64(out.ScannedCount))
	}
	return out, err
}

func (f *faultyDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := f.DB.GetItem(ctx, in, opts...)
	if err == nil && out.Item != nil {
		f.examined.Add(1)
	}
	return out, err
}

func (f *faultyDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := f.DB.BatchGetItem(ctx, in, opts...)
	if err == nil {
		for _, items := range out.Responses {
			f.examined.Add(int64(len(items)))
		}
	}
	return out, err
}

var errCrashed = errors.New("faultyDB: crashed before this write")

func (f *faultyDB) Writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

func (f *faultyDB) FailWritesAfter(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failAfter = n
}

func (f *faultyDB) write() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAfter == 0 {
		return errCrashed
	}
	if f.failAfter > 0 {
		f.failAfter--
	}
	f.writes++
	return nil
}

func (f *faultyDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if err := f.write(); err != nil {
		return nil, err
	}
	return f.DB.UpdateItem(ctx, in, opts...)
}

func (f *faultyDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if err := f.write(); err != nil {
		return nil, err
	}
	return f.DB.TransactWriteItems(ctx, in, opts...)
}

func TestNewRefusesMissingDependencies(t *testing.T) {
	client := dynamodb.New(dynamodb.Options{})
	cases := []struct {
		name  string
		table string
		nilDB bool
	}{
		{"nil client", "Core", true},
		{"empty table name", "", false},
	}
	for _, tc := range cases {
		c := client
		if tc.nilDB {
			c = nil
		}
		if s, err := dynamostore.New(c, tc.table); err == nil || s != nil {
			t.Errorf("%s: New = %v, %v; want an error", tc.name, s, err)
		}
	}
}

func TestPingReachesTheTable(t *testing.T) {
	if err := newStore(t).Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	missing, err := dynamostore.New(dynamotest.Client(t), "no-such-table")
	if err != nil {
		t.Fatal(err)
	}
	if err := missing.Ping(t.Context()); err == nil {
		t.Fatal("Ping of a missing table succeeded")
	}
}

// readCountingDB counts the read requests a store sends.
type readCountingDB struct {
	dynamostore.DB
	reads atomic.Int64
}

func (r *readCountingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	r.reads.Add(1)
	return r.DB.GetItem(ctx, in, opts...)
}

func (r *readCountingDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	r.reads.Add(1)
	return r.DB.BatchGetItem(ctx, in, opts...)
}

// TestAColdDecisionReadsTheStoreTwice protects the authorizer's cost on a
// cache miss (docs/data-model.md): the token's item in one request, then
// whatever gates it depends on (a user token's two, a userless token's
// one) in one more.
func TestAColdDecisionReadsTheStoreTwice(t *testing.T) {
	ctx := audit.WithOperator(t.Context(), "test")
	db := &readCountingDB{DB: dynamotest.Client(t)}
	store, err := dynamostore.New(db, dynamotest.Tables(t)[schema.Core.ID])
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := tokens.NewManager(store, tokens.Config{Services: []tokens.Service{{ID: "tmy", Name: "TMY data"}}})
	if err != nil {
		t.Fatal(err)
	}
	acc, _, err := mgr.CreateAccount(ctx, "reads", []string{"tmy"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := mgr.CreateUser(ctx, acc.ID, "reads@example.com", "Reads")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.SetAccess(ctx, acc.ID, "tmy", u.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  tokens.IssueRequest
	}{
		{"user token", tokens.IssueRequest{UserID: u.ID}},
		{"userless token", tokens.IssueRequest{}},
	} {
		_, plain, err := mgr.IssueToken(ctx, acc.ID, "tmy", tc.req)
		if err != nil {
			t.Fatal(err)
		}
		before := db.reads.Load()
		c, err := tokens.LoadCredential(ctx, store, secret.Hash(plain))
		if err != nil {
			t.Fatalf("%s: LoadCredential: %v", tc.name, err)
		}
		if got := tokens.Verify(c, "tmy", time.Now()); got != tokens.Valid {
			t.Fatalf("%s: Verify = %v, want Valid", tc.name, got)
		}
		if reads := db.reads.Load() - before; reads != 2 {
			t.Errorf("%s: a cold decision sent %d read requests, want 2", tc.name, reads)
		}
	}
}
