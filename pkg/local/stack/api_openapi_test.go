package stack

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/acmedata/tokenservice/pkg/openapi"
	"github.com/acmedata/tokenservice/pkg/routes"
)

// TestLocalStackServesTheOpenAPIDocument: a client generator can point at
// the running stack, which serves the document through the gateway, by the
// same route (routes.OpenAPIDocument) and function as the deployed API.
// (http.Get for the headers; a.call checks the exchange against the
// document, which describes itself.)
func TestLocalStackServesTheOpenAPIDocument(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	path := routes.OpenAPIDocument.Path
	res, err := http.Get(a.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	want, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" || !bytes.Equal(got, want) {
		t.Fatalf("GET %s: %d %s, %d bytes; want 200 application/json with the document's %d bytes", path, res.StatusCode, res.Header.Get("Content-Type"), len(got), len(want))
	}
	if r := a.call(t, "GET", path, "", nil); r.Status != http.StatusOK {
		t.Fatalf("GET %s through the contract check: %d, want 200", path, r.Status)
	}
	if r := a.call(t, "POST", path, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("POST %s: %d, want 404 (only GET serves the document)", path, r.Status)
	}
}
