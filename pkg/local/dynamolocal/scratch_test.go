package dynamolocal

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/schema"
)

// TestScratchTablesAreGoneAfterCleanup protects the load programs' promise
// to leave a shared server as they found it: NewScratch's tables exist
// until cleanup, and not after.
func TestScratchTablesAreGoneAfterCleanup(t *testing.T) {
	t.Setenv(config.EnvDynamoEndpoint, *testClient.Options().BaseEndpoint)
	s, cleanup, err := NewScratch(t.Context(), uniquePrefix(t), []schema.Table{schema.Core})
	if err != nil {
		t.Fatal(err)
	}
	name, ok := s.Tables[schema.Core.ID]
	if !ok || len(s.Tables) != 1 {
		t.Fatalf("tables %v, want the core table alone", s.Tables)
	}
	if !slices.Contains(tableNames(t), name) {
		t.Fatalf("table %s missing before cleanup", name)
	}
	if err := cleanup(); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(tableNames(t), name) {
		t.Errorf("table %s left behind after cleanup", name)
	}
}

func tableNames(t *testing.T) []string {
	t.Helper()
	var names []string
	p := dynamodb.NewListTablesPaginator(testClient, &dynamodb.ListTablesInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, out.TableNames...)
	}
	return names
}
