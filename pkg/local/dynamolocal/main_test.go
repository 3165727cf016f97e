package dynamolocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// These tests cannot use pkg/dynamotest, which is built on this package, so
// they start their own shared server.
var testClient *dynamodb.Client

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	srv, err := Start(ctx, Options{JavaArgs: QuickStartJavaArgs()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dynamolocal tests need DynamoDB Local:", err)
		return 1
	}
	defer srv.Stop()
	if testClient, err = NewClient(ctx, srv.Endpoint()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// uniquePrefix keeps each test's tables apart on the shared server.
func uniquePrefix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b) + "_"
}

// deleteAfter removes tables when the test ends. t.Context is already
// cancelled by then, hence a fresh context.
func deleteAfter(t *testing.T, names map[string]string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var list []string
		for _, n := range names {
			list = append(list, n)
		}
		if err := DeleteTables(ctx, testClient, list); err != nil {
			t.Error(err)
		}
	})
}
