package stack

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/acmedata/tokenservice/pkg/openapi"
)

// TestLocalStackServesTheOpenAPIDocument: a client generator can point at
// the running stack. (Not through a.call: the document does not describe
// itself.)
func TestLocalStackServesTheOpenAPIDocument(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	res, err := http.Get(a.url + openapi.Path)
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
		t.Fatalf("GET %s: %d %s, %d bytes; want 200 application/json with the document's %d bytes", openapi.Path, res.StatusCode, res.Header.Get("Content-Type"), len(got), len(want))
	}
	if r := a.call(t, "POST", openapi.Path, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("POST %s: %d, want 404 (only GET serves the document)", openapi.Path, r.Status)
	}
}
