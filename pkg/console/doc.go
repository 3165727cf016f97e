// Package console serves the account admins' web console: static files
// embedded in the binary (go:embed), answered by the console Lambda
// function behind GET /console/ and GET /console/{proxy+} on the same API
// and origin as the admin routes, so the browser needs no CORS and nothing
// is deployed apart from the functions. The same function answers the
// API's OpenAPI document (GET /openapi.json, pkg/openapi), the other static
// content of the API.
//
// The console itself (web/) is plain ES modules without a framework or a
// build step, so what is reviewed is what runs. It talks only to the admin
// HTTP API, with the account's API key as a bearer credential kept in
// sessionStorage. The one third-party file, Chart.js for the usage chart,
// is committed under web/vendor/ with its licence and its SHA-256 in
// web/vendor/SHA256SUMS, which a test checks (see docs/console.md for why it
// is committed rather than installed at build time).
//
// Every answer carries a strict Content-Security-Policy (no inline script or
// style, nothing from another origin, no framing), nosniff and no-referrer.
// Files are revalidated by ETag on every load, except vendor files, whose
// names carry their version and which are cached for a year.
package console
