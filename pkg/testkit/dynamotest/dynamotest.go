// Package dynamotest gives a package's tests a real DynamoDB (DynamoDB Local)
// and fresh tables for every test.
//
// A package opts in from its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }
//
// and each test that needs storage asks for its own tables:
//
//	names := dynamotest.Tables(t)          // schema ID -> physical name
//	client := dynamotest.Client(t)
//
// With DYNAMODB_ENDPOINT set (e.g. http://127.0.0.1:8000) the tests use that
// server. Otherwise the first test that needs DynamoDB starts one in-memory
// DynamoDB Local for the whole test binary, and Run stops it after the
// tests, so a binary whose selected tests never touch storage pays nothing.
// If the server cannot start the tests that need it fail with the reason: a
// storage test that skips silently would hide a broken environment.
//
// Every call to Tables creates its own copies of schema.All under a random
// prefix and deletes them when the test ends, so tests may run in parallel
// and never see each other's items. Creating tables on DynamoDB Local takes
// milliseconds.
package dynamotest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/local/dynamolocal"
	"github.com/acmedata/tokenservice/pkg/schema"
)

// startTimeout bounds starting the server, a cold JVM on a loaded machine.
const startTimeout = 2 * time.Minute

// cleanupTimeout bounds deleting a test's tables.
const cleanupTimeout = 30 * time.Second

// The test binary's one connection, made on first use.
var (
	running bool // Run is in charge: set before m.Run, read after
	once    sync.Once
	stop    func() error // stops the server connect started, if any
	client  *dynamodb.Client
	connErr error
)

// Run runs the tests and then stops the DynamoDB Local they started, if
// any. Call it from TestMain and pass its result to os.Exit.
func Run(m *testing.M) int {
	running = true
	code := m.Run()
	if stop != nil {
		if err := stop(); err != nil {
			fmt.Fprintln(os.Stderr, "dynamotest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// connect starts or finds the server and makes the shared client.
func connect() {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	var endpoint string
	endpoint, stop, connErr = dynamolocal.EnvOrStart(ctx, dynamolocal.Options{JavaArgs: dynamolocal.QuickStartJavaArgs()})
	if connErr != nil {
		return
	}
	client, connErr = dynamolocal.NewClient(ctx, endpoint)
}

// Client returns the client for the test binary's DynamoDB, starting
// DynamoDB Local on first use. It fails the test if there is none.
func Client(t testing.TB) *dynamodb.Client {
	t.Helper()
	if !running {
		t.Fatal("dynamotest: call dynamotest.Run from TestMain, which stops DynamoDB Local after the tests")
	}
	once.Do(connect)
	if connErr != nil {
		t.Fatalf("dynamotest: no DynamoDB for this test (install Java 17+ and npm, or set %s): %v", config.EnvDynamoEndpoint, connErr)
	}
	return client
}

// Endpoint returns the URL of the test binary's DynamoDB, for code under
// test that builds its own client.
func Endpoint(t testing.TB) string {
	t.Helper()
	c := Client(t)
	return *c.Options().BaseEndpoint
}

// Tables creates fresh copies of every table in schema.All under a random
// prefix, deletes them when the test ends, and returns each table's ID
// (schema.Core.ID, ...) mapped to its physical name.
func Tables(t testing.TB) map[string]string {
	t.Helper()
	c := Client(t)
	names, drop, err := dynamolocal.FreshTables(t.Context(), c, "t", schema.All)
	if err != nil {
		t.Fatalf("dynamotest: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := drop(ctx); err != nil {
			t.Errorf("dynamotest: %v", err)
		}
	})
	return names
}
