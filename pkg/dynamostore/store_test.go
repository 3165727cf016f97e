package dynamostore_test

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
	"github.com/acmedata/tokenservice/pkg/testkit/storesuite"
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
	storesuite.Run(t, func(t *testing.T) storesuite.Store { return newStore(t) })
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
