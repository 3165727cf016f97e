// Package redact is the one redaction of the service: it cuts anything
// token-shaped (a token, an API key's random part) out of a string and
// bounds its length, and rebuilds a request's path and query without the
// token. The token authorizer's context, the decision line
// (pkg/accesslog), usage records and the recorder's set-aside lines
// (pkg/usage), and the audit log's request fields (pkg/audit) all go
// through it.
//
// It is a leaf: it imports nothing of the module, so every package that
// writes or reads a line can use it without importing another's domain.
package redact

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Marker stands in for a token wherever one is cut out: in a path, a
// query, a service name, a log line. It is the one marker of the service.
const Marker = "{token}"

// TokenParam names the token in the query string and in the feed route's
// path (/feed/{token}/...), as PRODUCT.md fixes them.
const TokenParam = "token"

// Bounds of what a usage record or a log line keeps (PRODUCT.md: path
// and query are cut to 1,024 characters). MaxService bounds a service name that was never in
// the catalogue, so a 2,000-character {service} segment can become
// neither a key over DynamoDB's limits nor a log line's burden.
const (
	MaxPath    = 1024
	MaxQuery   = 1024
	MaxService = 64
	// MaxField bounds every other free-text field a log line hands the
	// usage recorder (IDs, method, source IP, outcome).
	MaxField = 128
)

// tokenLike matches what a token looks like (32 hexadecimal characters),
// in any letter case, wherever it appears: a caller may put a token in any
// field by mistake, and a longer hex run holds one as well. It matches an
// API key's random part too (40 base32 characters, secret.NewAPIKey): an
// admin may paste a key into a data URL as readily as a token.
var tokenLike = regexp.MustCompile(`[0-9a-fA-F]{32}|[A-Z2-7]{40}`)

// HasToken reports whether s holds anything String would cut out: a run
// of 32 hexadecimal characters or of 40 base32 ones, exactly what tokenLike
// matches. It is a scan rather than the pattern because it guards every
// field of every decision's log line, where the pattern's backtracking was
// a third of the authorizer's time; the pattern only replaces what the
// scan found.
func HasToken(s string) bool {
	hexRun, base32Run := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			hexRun++
		default:
			hexRun = 0
		}
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z' || c >= '2' && c <= '7':
			base32Run++
		default:
			base32Run = 0
		}
		if hexRun >= 32 || base32Run >= 40 {
			return true
		}
	}
	return false
}

// String replaces anything token-shaped in s with Marker and cuts the
// result to at most limit bytes, on a rune boundary and as valid UTF-8.
// Redacting before cutting means a cut can never leave a token behind.
// It is the one function that redacts: the authorizer's context and
// decision line, the recorder, the store, the audit log and the API all
// go through it.
func String(s string, limit int) string {
	if HasToken(s) {
		s = tokenLike.ReplaceAllLiteralString(s, Marker)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// RequestPath rebuilds the path a caller called from its route template
// and path parameters (as API Gateway hands them to an authorizer): the
// token parameter becomes Marker, every other parameter its value, then
// the whole is redacted of anything token-shaped and cut to MaxPath.
// Building from the template means nothing the template does not name can
// reach a record: /feed/{token}/{service}/{proxy+} with service=tmy and
// proxy=hourly is /feed/{token}/tmy/hourly. Parameter values are
// re-escaped (API Gateway hands them decoded), so the path holds no quote,
// backslash or control character: it travels through the authorizer
// context into an access-log line that API Gateway does not JSON-escape.
func RequestPath(resource string, params map[string]string) string {
	var b strings.Builder
	b.Grow(len(resource) + 16)
	for rest := resource; rest != ""; {
		open := strings.IndexByte(rest, '{')
		end := strings.IndexByte(rest[max(open, 0):], '}')
		if open < 0 || end < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:open])
		name := strings.TrimSuffix(rest[open+1:open+end], "+")
		switch value, ok := params[name]; {
		case name == TokenParam:
			b.WriteString(Marker)
		case !ok:
			b.WriteString(rest[open : open+end+1])
		default:
			writeEscaped(&b, value)
		}
		rest = rest[open+end+1:]
	}
	return String(b.String(), MaxPath)
}

// writeEscaped writes a decoded path-parameter value, escaping each
// segment and keeping the slashes of a greedy parameter.
func writeEscaped(b *strings.Builder, value string) {
	for first := true; ; first = false {
		seg, rest, more := strings.Cut(value, "/")
		if !first {
			b.WriteByte('/')
		}
		b.WriteString(escape(seg))
		if !more {
			return
		}
		value = rest
	}
}

// escape path-escapes one segment after redacting it, keeping the marker
// readable: escaping first could glue an escape's hex digits to a token's
// and leave part of it behind.
func escape(seg string) string {
	if !HasToken(seg) { // the common case: nothing to keep apart
		return url.PathEscape(seg)
	}
	parts := strings.Split(tokenLike.ReplaceAllLiteralString(seg, Marker), Marker)
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, Marker)
}

// RequestQuery rebuilds the query string a caller sent, without the token
// parameter, from the parameters API Gateway decoded (it hands neither an
// authorizer nor an access log the raw query): keys sorted, each key's
// values in the order sent, URL-encoded, redacted and cut to MaxQuery.
// multi wins over single, as API Gateway fills both.
func RequestQuery(single map[string]string, multi map[string][]string) string {
	v := url.Values{}
	for k, vs := range multi {
		if k != TokenParam {
			v[k] = vs
		}
	}
	for k, s := range single {
		if _, ok := multi[k]; !ok && k != TokenParam {
			v[k] = []string{s}
		}
	}
	if len(v) == 0 {
		return ""
	}
	return String(v.Encode(), MaxQuery)
}
