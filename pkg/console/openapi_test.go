package console

import (
	"net/http"
	"testing"

	"github.com/acmedata/tokenservice/pkg/openapi"
	"github.com/acmedata/tokenservice/pkg/routes"
)

// TestTheConsoleFunctionServesTheOpenAPIDocumentAsJSON: the deployed API
// answers GET /openapi.json from this function with the very bytes
// pkg/openapi embeds, so a client generator can point at any deployment.
func TestTheConsoleFunctionServesTheOpenAPIDocumentAsJSON(t *testing.T) {
	h := newTestHandler(t)
	want, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	resp := serve(t, h, routes.OpenAPIDocument, routes.OpenAPIDocument.Path, nil)
	if resp.StatusCode != http.StatusOK || resp.Body != string(want) {
		t.Fatalf("status %d with %d bytes, want 200 with the document's %d bytes", resp.StatusCode, len(resp.Body), len(want))
	}
	if got := resp.Headers["Content-Type"]; got != "application/json" {
		t.Errorf("Content-Type %q, want application/json", got)
	}
	if got := resp.Headers["Cache-Control"]; got != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache: a deploy changes the document under the same URL", got)
	}
	if resp.IsBase64Encoded {
		t.Error("the document answered as binary; the REST API has no binary media types")
	}
	again := serve(t, h, routes.OpenAPIDocument, routes.OpenAPIDocument.Path, map[string]string{"If-None-Match": resp.Headers["ETag"]})
	if resp.Headers["ETag"] == "" || again.StatusCode != http.StatusNotModified || again.Body != "" {
		t.Errorf("revalidation with ETag %q: status %d with %d bytes, want 304 without a body", resp.Headers["ETag"], again.StatusCode, len(again.Body))
	}
}

// TestEveryRouteOfTheConsoleFunctionIsAnswered: the function serves what
// pkg/routes gives it, and nothing it is given falls through to a 404.
func TestEveryRouteOfTheConsoleFunctionIsAnswered(t *testing.T) {
	h := newTestHandler(t)
	paths := map[string]string{
		routes.ConsolePage.Path:     "/console/",
		routes.ConsoleAsset.Path:    "/console/app.js",
		routes.OpenAPIDocument.Path: routes.OpenAPIDocument.Path,
	}
	for _, r := range routes.Of(routes.Console) {
		path, ok := paths[r.Path]
		if !ok {
			t.Errorf("%s: no request to try; add one here and an answer in Handler.get", r)
			continue
		}
		if resp := serve(t, h, r, path, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s (%s): status %d, want 200", r, path, resp.StatusCode)
		}
	}
}
