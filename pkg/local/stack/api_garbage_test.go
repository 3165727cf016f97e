package stack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/routes"
)

// garbageSeed makes the random-garbage run reproducible: a failure names
// its request number, and the same seed sends the same requests.
const garbageSeed = 20261201

// TestRandomGarbageWithValidCredentialsAnswersNo5xxAndNoSecret sends
// 1,200 requests of random method, path, query, headers and body, most
// with valid credentials. None may answer a 5xx other than 503, every
// refusal has the JSON error body, and no answer nor log line holds a
// secret the caller had before (a key route's 201 shows its new key once;
// the run carries on with it).
func TestRandomGarbageWithValidCredentialsAnswersNo5xxAndNoSecret(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy", "timeseries")
	u := a.createUser(t, acc, "garbage@example.com")
	a.setAccess(t, acc, "tmy", u.ID, true)
	tok := a.issue(t, acc, "tmy", map[string]any{"userId": u.ID})
	g := &garbage{
		rnd: rand.New(rand.NewPCG(garbageSeed, 1)),
		ids: []string{acc.ID, u.ID, tok.ID, "tmy", "timeseries", tok.Token, acc.Key},
	}
	key := acc.Key
	secrets := []string{acc.Key, tok.Token, a.operatorKey}
	for i := range 1200 {
		rt, method, path, header, body := g.request()
		// Mostly the credential the route takes, so the garbage gets past
		// the authorizers to the handlers.
		credential := map[routes.Auth]string{routes.IAMAuth: a.operatorKey, routes.TokenAuth: tok.Token}[rt.Auth]
		if credential == "" {
			credential = key
		}
		switch g.rnd.IntN(10) {
		case 0:
			credential = a.operatorKey
		case 1:
			credential = key
		case 2:
			credential = headerSafe(g.pick(g.ids) + g.str(3))
		}
		req, err := http.NewRequestWithContext(t.Context(), method, a.url+path, bytes.NewReader(body))
		if err != nil {
			continue // a path no client can send
		}
		req.Header = header
		req.Header.Set("Authorization", "Bearer "+credential)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request %d %s %q: %v", i, method, path, err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		what := fmt.Sprintf("request %d (seed %d) %s %.200q", i, garbageSeed, method, path)
		if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: %d %s", what, res.StatusCode, raw)
		}
		if res.StatusCode >= 400 && method != http.MethodHead {
			wantErrorBody(t, what, res.StatusCode, raw)
		}
		var answer strings.Builder
		answer.Write(raw)
		_ = res.Header.Write(&answer)
		for _, s := range secrets {
			if strings.Contains(answer.String(), s) {
				t.Errorf("%s: the answer holds a secret: %.300s", what, answer.String())
			}
		}
		// A key route shows its new key this once; keep calling with it.
		var created struct{ APIKey, Token string }
		if json.Unmarshal(raw, &created) == nil {
			if created.APIKey != "" && credential == key {
				key = created.APIKey
			}
			for _, s := range []string{created.APIKey, created.Token} {
				if s != "" {
					secrets = append(secrets, s)
				}
			}
		}
		a.remember(raw)
	}
	a.flushUsage(t)
	a.assertNoSecretInLogs(t, secrets...)
}

func wantErrorBody(t *testing.T, what string, status int, raw []byte) {
	t.Helper()
	var body struct {
		Error *struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(raw, &body) != nil || body.Error == nil || body.Error.Code == "" || body.Error.Message == "" {
		t.Errorf("%s: %d without the JSON error body: %.300s", what, status, raw)
	}
}

// garbage makes random requests from a seeded source.
type garbage struct {
	rnd *rand.Rand
	ids []string // values that exist: IDs, services, secrets
}

func (g *garbage) pick(s []string) string { return s[g.rnd.IntN(len(s))] }

// str is a random string of up to n runes of every kind: ASCII, controls,
// bidi controls, invalid UTF-8, %-escapes.
func (g *garbage) str(n int) string {
	var b strings.Builder
	for range g.rnd.IntN(n + 1) {
		switch g.rnd.IntN(8) {
		case 0:
			b.WriteByte(byte(g.rnd.IntN(256)))
		case 1:
			b.WriteString(g.pick([]string{"\u202e", "\u200b", "\ufeff", "\x00", "%", "%zz", "%00", "/", "..", "{", "}", "\"", "\\", "é", "😀", "\ud7ff"}))
		default:
			b.WriteByte(byte('!' + g.rnd.IntN(94)))
		}
	}
	return b.String()
}

// value is a parameter or field value: something that exists, something
// near it, an edge, or noise.
func (g *garbage) value() string {
	switch g.rnd.IntN(6) {
	case 0:
		return g.pick(g.ids)
	case 1:
		return g.pick(g.ids) + g.str(4)
	case 2:
		return strings.Repeat(g.pick([]string{"a", "9", "%41", "é"}), []int{101, 1025, 2049, 5000}[g.rnd.IntN(4)])
	case 3:
		return g.pick([]string{"", "0", "-1", "1e400", "null", "true", "2025-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "user", "userless", "active", "csv", "hour", "token"})
	default:
		return g.str(24)
	}
}

func (g *garbage) request() (rt routes.Route, method, path string, header http.Header, body []byte) {
	method = g.pick([]string{"GET", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "BREW"})
	rt = routes.All[g.rnd.IntN(len(routes.All))]
	if g.rnd.IntN(4) > 0 {
		method = rt.Method
	}
	segments := strings.Split(rt.Path, "/")
	for i, s := range segments {
		if i > 0 && (strings.HasPrefix(s, "{") || g.rnd.IntN(20) == 0) {
			segments[i] = url.PathEscape(g.value())
		}
	}
	if g.rnd.IntN(8) == 0 {
		segments = append(segments, url.PathEscape(g.value()))
	}
	path = strings.Join(segments, "/")
	q := url.Values{}
	for range g.rnd.IntN(5) {
		name := g.pick([]string{"limit", "cursor", "status", "type", "userId", "tokenId", "service", "from", "to", "format", "groupBy", "interval", "name", "token", "includeRestricted", g.str(6)})
		q.Add(name, g.value())
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	header = http.Header{}
	for range g.rnd.IntN(4) {
		name := g.pick([]string{"Content-Type", "Origin", "Referer", "X-Forwarded-For", "Accept", "X-Amzn-Trace-Id", "Cookie"})
		header.Set(name, headerSafe(g.value()))
	}
	return rt, method, path, header, g.body()
}

// headerSafe replaces what net/http's client refuses to send in a header
// (the server's refusal of those is TestRequestsTheServerCannotParse...).
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r > '~' {
			return 'x'
		}
		return r
	}, s)
}

// body is nothing, a valid-looking object with odd values, or noise.
func (g *garbage) body() []byte {
	switch g.rnd.IntN(5) {
	case 0:
		return nil
	case 1:
		return []byte(g.str(200))
	default:
		fields := []string{"name", "email", "active", "enabled", "userId", "expiresAt", "settings", "services", "status", "revokeSourceAfterSeconds", "restrictions", "protected", "Name", "EMAIL"}
		var b strings.Builder
		b.WriteString("{")
		for i := range g.rnd.IntN(5) {
			if i > 0 {
				b.WriteString(",")
			}
			k, _ := json.Marshal(g.pick(fields))
			b.Write(k)
			b.WriteString(":")
			switch g.rnd.IntN(6) {
			case 0:
				b.WriteString(g.pick([]string{"true", "1e126", "-1e200", "1e-131", "null", "[]", `{"a":{"b":1}}`, `["tmy","tmy"]`, "9223372036854775808"}))
			case 1:
				fmt.Fprintf(&b, `{"k%d":%s}`, g.rnd.IntN(3), g.pick([]string{"1", "1e300", `"x"`, "[]"}))
			default:
				v, _ := json.Marshal(g.value())
				b.Write(v)
			}
		}
		b.WriteString("}")
		return []byte(b.String())
	}
}
