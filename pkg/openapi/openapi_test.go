package openapi_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/openapi"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/testkit/apicontract"
)

// TestDocumentAndRoutesListTheSameOperations keeps the one route list and
// the document in step: a route added to pkg/routes without its
// description, or described but not served, fails here.
func TestDocumentAndRoutesListTheSameOperations(t *testing.T) {
	described, err := openapi.Operations()
	if err != nil {
		t.Fatal(err)
	}
	var served []openapi.Operation
	for _, r := range routes.All {
		served = append(served, openapi.Operation{Method: r.Method, Path: openapi.SpecPath(r.Path)})
	}
	for _, op := range served {
		if !slices.Contains(described, op) {
			t.Errorf("pkg/routes serves %s, which pkg/openapi/openapi.yaml does not describe", op)
		}
	}
	for _, op := range described {
		// A REST API routes /x/ to the resource /x; the document may name
		// both when the function answers them apart (/console/, /console).
		trimmed := openapi.Operation{Method: op.Method, Path: strings.TrimSuffix(op.Path, "/")}
		if !slices.Contains(served, op) && !(trimmed.Path != op.Path && slices.Contains(served, trimmed)) {
			t.Errorf("pkg/openapi/openapi.yaml describes %s, which pkg/routes does not serve", op)
		}
	}
	if len(described) == 0 {
		t.Fatal("the document lists no operations: Operations reads the wrong place")
	}
}

func TestDocumentIsValidOpenAPI31(t *testing.T) {
	if _, err := apicontract.New(); err != nil {
		t.Fatal(err)
	}
	b, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi: %q, want 3.1.0", doc.OpenAPI)
	}
}

func TestSpecPathNamesAGreedyParameterAsOpenAPIDoes(t *testing.T) {
	for in, want := range map[string]string{
		"/data/{service}/{proxy+}": "/data/{service}/{proxy}",
		"/admin/users/{userId}":    "/admin/users/{userId}",
		"/healthz":                 "/healthz",
	} {
		if got := openapi.SpecPath(in); got != want {
			t.Errorf("SpecPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// The README sends people to GET /console/: the document describes that
// very URL (and HEAD of it), not only the redirect at /console.
func TestDocumentDescribesTheConsolesPageAtItsURL(t *testing.T) {
	described, err := openapi.Operations()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []openapi.Operation{{Method: "GET", Path: "/console/"}, {Method: "HEAD", Path: "/console/"}, {Method: "HEAD", Path: "/console/{proxy}"}} {
		if !slices.Contains(described, want) {
			t.Errorf("the document does not describe %s", want)
		}
	}
}
