package dynamostore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// TestNoSecretIsStoredInPlainText drives the real domain over the store and
// then reads back every item of the table (a Scan is fine in a test) to
// check that neither the API keys nor the token appear anywhere.
func TestNoSecretIsStoredInPlainText(t *testing.T) {
	client := dynamotest.Client(t)
	table := dynamotest.Tables(t)[schema.Core.ID]
	store, err := dynamostore.New(client, table)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tokens.NewManager(store, tokens.Config{Services: []tokens.Service{{ID: "tmy", Name: "TMY"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithOperator(t.Context(), "test")
	a, firstKey, err := m.CreateAccount(ctx, "Acme", []string{"tmy"})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	_, secondKey, err := m.ReplaceAPIKey(ctx, a.ID)
	if err != nil {
		t.Fatalf("ReplaceAPIKey: %v", err)
	}
	view, plain, err := m.IssueToken(ctx, a.ID, "tmy", tokens.IssueRequest{})
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	if err := store.MarkUsed(ctx, a.ID, view.ID, time.Now()); err != nil {
		t.Fatalf("MarkUsed: %v", err)
	}

	out, err := client.Scan(ctx, &dynamodb.ScanInput{TableName: &table})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if len(out.Items) == 0 {
		t.Fatal("the table is empty: nothing was checked")
	}
	for _, item := range out.Items {
		var m map[string]any
		if err := attributevalue.UnmarshalMap(item, &m); err != nil {
			t.Fatal(err)
		}
		dump := fmt.Sprint(m)
		for name, secret := range map[string]string{"first API key": firstKey, "second API key": secondKey, "token": plain} {
			if strings.Contains(dump, secret) {
				t.Errorf("the %s is stored in plain text in %s/%s", name, m["pk"], m["sk"])
			}
		}
	}
}
