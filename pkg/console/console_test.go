package console

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/routes"
)

func serve(t *testing.T, h *Handler, route routes.Route, path string, headers map[string]string) events.APIGatewayProxyResponse {
	t.Helper()
	req := events.APIGatewayProxyRequest{HTTPMethod: route.Method, Resource: route.Path, Path: path, Headers: headers}
	if proxy, ok := strings.CutPrefix(path, "/console/"); ok && route.Path == routes.ConsoleAsset.Path {
		req.PathParameters = map[string]string{"proxy": proxy}
	}
	resp, err := h.Serve(t.Context(), req)
	if err != nil {
		t.Fatalf("Serve returned an error: %v", err)
	}
	return resp
}

func newTestHandler(t *testing.T) *Handler {
	t.Helper()
	h, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestEveryAnswerCarriesTheStrictSecurityHeaders(t *testing.T) {
	h := newTestHandler(t)
	for _, tc := range []struct {
		name   string
		route  routes.Route
		path   string
		status int
	}{
		{"page", routes.ConsolePage, "/console/", http.StatusOK},
		{"script", routes.ConsoleAsset, "/console/app.js", http.StatusOK},
		{"redirect", routes.ConsolePage, "/console", http.StatusMovedPermanently},
		{"missing", routes.ConsoleAsset, "/console/nope.js", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := serve(t, h, tc.route, tc.path, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			csp := resp.Headers["Content-Security-Policy"]
			for _, directive := range []string{"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
				if !strings.Contains(csp, directive) {
					t.Errorf("CSP %q lacks %q", csp, directive)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP %q allows inline code", csp)
			}
			for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
				if got := resp.Headers[name]; got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestFilesAnswerTheirContentTypeAndCachePolicy(t *testing.T) {
	h := newTestHandler(t)
	for _, tc := range []struct {
		route              routes.Route
		path, ctype, cache string
	}{
		{routes.ConsolePage, "/console/", "text/html; charset=utf-8", "no-cache"},
		{routes.ConsoleAsset, "/console/app.js", "text/javascript; charset=utf-8", "no-cache"},
		{routes.ConsoleAsset, "/console/views/tokens.js", "text/javascript; charset=utf-8", "no-cache"},
		{routes.ConsoleAsset, "/console/style.css", "text/css; charset=utf-8", "no-cache"},
		{routes.ConsoleAsset, "/console/favicon.svg", "image/svg+xml", "no-cache"},
		{routes.ConsoleAsset, "/console/vendor/chart-4.6.1.umd.min.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp := serve(t, h, tc.route, tc.path, nil)
			if resp.StatusCode != http.StatusOK || resp.Body == "" {
				t.Fatalf("status %d, body of %d bytes", resp.StatusCode, len(resp.Body))
			}
			if got := resp.Headers["Content-Type"]; got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if got := resp.Headers["Cache-Control"]; got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
			if resp.IsBase64Encoded {
				t.Error("a console file answered as binary; the REST API has no binary media types")
			}
		})
	}
}

func TestARevalidationWithTheSameETagAnswers304WithoutABody(t *testing.T) {
	h := newTestHandler(t)
	first := serve(t, h, routes.ConsoleAsset, "/console/app.js", nil)
	etag := first.Headers["ETag"]
	if etag == "" {
		t.Fatal("no ETag")
	}
	again := serve(t, h, routes.ConsoleAsset, "/console/app.js", map[string]string{"if-none-match": `"other", ` + etag})
	if again.StatusCode != http.StatusNotModified || again.Body != "" {
		t.Fatalf("status %d with %d bytes, want 304 without a body", again.StatusCode, len(again.Body))
	}
	stale := serve(t, h, routes.ConsoleAsset, "/console/app.js", map[string]string{"If-None-Match": `"stale"`})
	if stale.StatusCode != http.StatusOK {
		t.Fatalf("a stale ETag answered %d", stale.StatusCode)
	}
}

func TestThePageHasOneURLEndingInASlash(t *testing.T) {
	h := newTestHandler(t)
	for _, tc := range []struct {
		route          routes.Route
		path, location string
	}{
		// Relative, so that the stage prefix on AWS (/prod/console) is kept.
		{routes.ConsolePage, "/console", "console/"},
		{routes.ConsoleAsset, "/console/index.html", "./"},
	} {
		resp := serve(t, h, tc.route, tc.path, nil)
		if resp.StatusCode != http.StatusMovedPermanently || resp.Headers["Location"] != tc.location {
			t.Errorf("%s: status %d, Location %q; want 301 to %q", tc.path, resp.StatusCode, resp.Headers["Location"], tc.location)
		}
	}
}

func TestUnknownFilesAnswer404WithTheProductErrorBody(t *testing.T) {
	h := newTestHandler(t)
	for _, path := range []string{"/console/nope.js", "/console/../go.mod", "/console/vendor/SHA256SUMS", "/console/views"} {
		resp := serve(t, h, routes.ConsoleAsset, path, nil)
		var body struct {
			Error struct{ Code, Message string }
		}
		if resp.StatusCode != http.StatusNotFound || json.Unmarshal([]byte(resp.Body), &body) != nil || body.Error.Code != "not_found" || body.Error.Message == "" {
			t.Errorf("%s: status %d body %s, want 404 with the JSON error body", path, resp.StatusCode, resp.Body)
		}
	}
}

func TestTheConsoleRefusesToShipAFileItCannotTypeOrAPageWithoutIndex(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"binary":   {"web/index.html": {Data: []byte("<!doctype html>")}, "web/logo.png": {Data: []byte{0x89}}},
		"no index": {"web/app.js": {Data: []byte("")}},
	} {
		if _, err := newHandler(fsys, nil); err == nil {
			t.Errorf("%s: newHandler accepted it", name)
		}
	}
}

// Inline code would need 'unsafe-inline' (refused by the CSP above): the
// page and scripts must keep every script and style in files, and never
// write markup from strings.
func TestTheAssetsHoldNoInlineScriptStyleOrHTMLInjection(t *testing.T) {
	err := fs.WalkDir(embedded, "web", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(name, "web/vendor/") {
			return err
		}
		b, err := fs.ReadFile(embedded, name)
		if err != nil {
			return err
		}
		src := string(b)
		for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", " style=", "<style", "localStorage", "document.cookie"} {
			if strings.Contains(src, banned) {
				t.Errorf("%s contains %q", name, banned)
			}
		}
		if strings.HasSuffix(name, ".html") && strings.Count(src, "<script") != strings.Count(src, "<script type=\"module\" src=") {
			t.Errorf("%s has a script that is not a module file", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The vendored files are exactly the published packages' files: each one's
// SHA-256 is pinned in web/vendor/SHA256SUMS (docs/console.md says how to
// update them), and nothing unlisted ships there.
func TestVendoredFilesMatchTheirPinnedChecksums(t *testing.T) {
	f, err := os.Open("web/vendor/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{"SHA256SUMS": true}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("bad SHA256SUMS line %q", sc.Text())
		}
		listed[name] = true
		b, err := os.ReadFile("web/vendor/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("web/vendor/%s: SHA-256 %s, pinned %s", name, got, want)
		}
	}
	entries, err := os.ReadDir("web/vendor")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !listed[e.Name()] && !strings.HasSuffix(e.Name(), "-LICENSE.txt") {
			t.Errorf("web/vendor/%s is not pinned in SHA256SUMS", e.Name())
		}
	}
}

// HEAD answers what GET would, headers only: a link checker or a browser
// asking for a file's headers gets the same status, type and ETag.
func TestHEADAnswersTheHeadersOfGETWithoutABody(t *testing.T) {
	h := newTestHandler(t)
	for _, tc := range []struct {
		get, head routes.Route
		path      string
		status    int
	}{
		{routes.ConsolePage, routes.ConsolePageHead, "/console/", http.StatusOK},
		{routes.ConsoleAsset, routes.ConsoleAssetHead, "/console/app.js", http.StatusOK},
		{routes.ConsoleAsset, routes.ConsoleAssetHead, "/console/vendor/chart-4.6.1.umd.min.js", http.StatusOK},
		{routes.ConsolePage, routes.ConsolePageHead, "/console", http.StatusMovedPermanently},
		{routes.ConsoleAsset, routes.ConsoleAssetHead, "/console/nope.js", http.StatusNotFound},
	} {
		get := serve(t, h, tc.get, tc.path, nil)
		head := serve(t, h, tc.head, tc.path, nil)
		if head.StatusCode != tc.status || get.StatusCode != tc.status || head.Body != "" {
			t.Errorf("HEAD %s: %d with %d bytes; GET %d; want %d without a body", tc.path, head.StatusCode, len(head.Body), get.StatusCode, tc.status)
		}
		for _, name := range []string{"Content-Type", "ETag", "Cache-Control", "Location", "Content-Security-Policy"} {
			if head.Headers[name] != get.Headers[name] {
				t.Errorf("HEAD %s: %s %q, GET's %q", tc.path, name, head.Headers[name], get.Headers[name])
			}
		}
	}
}

// Search engines and link previews show the page's description
// (Lighthouse's meta-description).
func TestThePageDescribesItself(t *testing.T) {
	page := serve(t, newTestHandler(t), routes.ConsolePage, "/console/", nil)
	m := regexp.MustCompile(`<meta name="description" content="([^"]{20,})">`).FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatal("the page has no meta description")
	}
}
