package console

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/openapi"
	"github.com/acmedata/tokenservice/pkg/routes"
)

//go:embed web
var embedded embed.FS

// ContentSecurityPolicy allows scripts, styles, images and API calls from
// the console's own origin only: no inline script or style, no plug-ins, no
// <base> rewriting, and no page of any origin may frame the console.
const ContentSecurityPolicy = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Cache policies: revalidate by ETag on every load, or keep for a year
// for files whose name changes with their content (vendor/, versioned).
const (
	cacheRevalidate = "no-cache"
	cacheImmutable  = "public, max-age=31536000, immutable"
)

// contentTypes are the only kinds of file the console ships. All are text:
// a REST API answers a Lambda's binary body only for configured binary
// media types, which the console does not need.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
}

// notServed are files kept beside the assets for people, not browsers.
var notServed = map[string]bool{"vendor/SHA256SUMS": true}

// file is one embedded asset, ready to answer.
type file struct {
	body        string
	contentType string
	etag        string
	cache       string
}

// Handler answers the console's routes from the embedded files, and the
// API's OpenAPI document.
type Handler struct {
	files map[string]file // by path below web/, e.g. "index.html"
	log   *slog.Logger
	// document is the OpenAPI document, made on its first request: the
	// console's pages need no YAML conversion at a cold start.
	document func() (file, error)
}

// New loads the embedded console. It fails if a file has a type the
// console cannot serve.
func New(log *slog.Logger) (*Handler, error) { return newHandler(embedded, log) }

func newHandler(fsys fs.FS, log *slog.Logger) (*Handler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	root, err := fs.Sub(fsys, "web")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	h := &Handler{files: map[string]file{}, log: log, document: sync.OnceValues(document)}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || notServed[name] {
			return err
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			return fmt.Errorf("console: %s: no content type for %q files", name, path.Ext(name))
		}
		b, err := fs.ReadFile(root, name)
		if err != nil {
			return fmt.Errorf("console: %w", err)
		}
		cache := cacheRevalidate
		if strings.HasPrefix(name, "vendor/") {
			cache = cacheImmutable
		}
		h.files[name] = newFile(b, ct, cache)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := h.files["index.html"]; !ok {
		return nil, fmt.Errorf("console: no index.html")
	}
	return h, nil
}

// newFile is body ready to answer, with its ETag.
func newFile(body []byte, contentType, cache string) file {
	sum := sha256.Sum256(body)
	return file{body: string(body), contentType: contentType, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, cache: cache}
}

// document is the OpenAPI document as GET /openapi.json answers it: the
// bytes of openapi.JSON, revalidated on every load (a deploy changes it
// under the same URL).
func document() (file, error) {
	b, err := openapi.JSON()
	if err != nil {
		return file{}, err
	}
	return newFile(b, "application/json", cacheRevalidate), nil
}

// Serve answers the console's routes (routes.ConsolePage, the page at
// /console/, and routes.ConsoleAsset, its files, each for GET and HEAD)
// and routes.OpenAPIDocument, the API's description (static content too).
// It answers files, not JSON, so it is not an httpapi.Router; errors still
// have the JSON body. A HEAD answers GET's status and headers without the
// body. Compression is API Gateway's (routes.MinimumCompressionSize): a
// REST API passes a Lambda's gzipped, base64-encoded body through only
// for binary media types, which the console does not configure.
func (h *Handler) Serve(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	resp := h.get(ctx, req)
	if req.HTTPMethod == http.MethodHead {
		resp.Body = ""
	}
	return resp, nil
}

// get is the answer to a GET of the request's path.
func (h *Handler) get(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	var name string
	switch req.Resource {
	case routes.ConsolePage.Path:
		if !strings.HasSuffix(req.Path, "/") {
			// Relative, so it keeps the stage prefix (/prod/console ->
			// /prod/console/) that the event's path lacks; the page links
			// its files relative to itself.
			return respond(http.StatusMovedPermanently, map[string]string{"Location": "console/", "Cache-Control": cacheRevalidate}, "")
		}
		name = "index.html"
	case routes.ConsoleAsset.Path:
		name = req.PathParameters["proxy"]
		if name == "index.html" {
			// One URL for the page, so relative links always resolve alike.
			return respond(http.StatusMovedPermanently, map[string]string{"Location": "./", "Cache-Control": cacheRevalidate}, "")
		}
	case routes.OpenAPIDocument.Path:
		f, err := h.document()
		if err != nil {
			// The embedded document is checked by pkg/openapi's tests: a
			// build defect, logged, never detailed to the caller.
			h.log.ErrorContext(ctx, "openapi document unavailable", slog.String("requestId", req.RequestContext.RequestID), slog.Any("error", err))
			return respond(http.StatusInternalServerError, map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
				string(httpapi.ErrorBody("internal_error", "the API description is unavailable")))
		}
		return answer(req, f)
	}
	f, ok := h.files[name]
	if !ok {
		h.log.InfoContext(ctx, "console file not found", slog.String("requestId", req.RequestContext.RequestID), slog.String("resource", req.Resource))
		return respond(http.StatusNotFound, map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
			string(httpapi.ErrorBody("not_found", "no such console file")))
	}
	return answer(req, f)
}

// answer is f, or 304 when the request already holds it.
func answer(req events.APIGatewayProxyRequest, f file) events.APIGatewayProxyResponse {
	headers := map[string]string{"Content-Type": f.contentType, "Cache-Control": f.cache, "ETag": f.etag}
	if etagMatches(header(req, "If-None-Match"), f.etag) {
		return respond(http.StatusNotModified, headers, "")
	}
	return respond(http.StatusOK, headers, f.body)
}

// respond adds the headers every console answer carries.
func respond(status int, headers map[string]string, body string) events.APIGatewayProxyResponse {
	headers["Content-Security-Policy"] = ContentSecurityPolicy
	headers["X-Content-Type-Options"] = "nosniff"
	headers["Referrer-Policy"] = "no-referrer"
	headers["X-Frame-Options"] = "DENY"
	headers["Cross-Origin-Opener-Policy"] = "same-origin"
	headers["Cross-Origin-Resource-Policy"] = "same-origin"
	headers["Strict-Transport-Security"] = "max-age=31536000"
	headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: headers, Body: body}
}

// header reads a request header whatever its case (API Gateway passes
// them as the client sent them).
func header(req events.APIGatewayProxyRequest, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// etagMatches reports whether an If-None-Match value lists etag (or is *).
func etagMatches(ifNoneMatch, etag string) bool {
	for _, candidate := range strings.Split(ifNoneMatch, ",") {
		c := strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if c == etag || c == "*" {
			return true
		}
	}
	return false
}
