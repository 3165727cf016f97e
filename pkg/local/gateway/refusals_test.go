package gateway

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveRefusing serves h as the local stack does and returns its address.
func serveRefusing(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h)
	go func() { _ = srv.Serve(Listener(ln)) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// rawRequest sends raw bytes as a request and reads the one answer.
func rawRequest(t *testing.T, addr, raw string) *http.Response {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() { _, _ = io.WriteString(c, raw) }() // a huge header may not be read whole
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return resp
}

// TestServerRefusalsAnswerTheJSONErrorBody: a request net/http's server
// refuses before any handler runs still gets the product's error body.
func TestServerRefusalsAnswerTheJSONErrorBody(t *testing.T) {
	addr := serveRefusing(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusBadRequest) // a handler's own 400 is left alone
		_, _ = io.WriteString(w, "handler")
	}))
	for _, tc := range []struct {
		name, raw string
		status    int
		errorType string
	}{
		{"bad %-escape in the path", "GET /admin/users/%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST_PARAMETERS"},
		{"NUL in a header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400, "BAD_REQUEST_PARAMETERS"},
		{"control byte in a header name", "GET / HTTP/1.1\r\nHost: x\r\nX\x01: a\r\n\r\n", 400, "BAD_REQUEST_PARAMETERS"},
		{"2 MB header", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n", 431, "DEFAULT_4XX"},
		{"headers just over the quota", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", MaxHeaderBytes+4096) + "\r\n\r\n", 431, "DEFAULT_4XX"},
		{"not HTTP", "hello\r\n\r\n", 400, "BAD_REQUEST_PARAMETERS"},
		{"unknown HTTP version", "GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST_PARAMETERS"},
		{"no Host header", "GET / HTTP/1.1\r\n\r\n", 400, "BAD_REQUEST_PARAMETERS"},
		{"unknown transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: zip\r\n\r\n", 400, "BAD_REQUEST_PARAMETERS"},
		{"two content lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, "BAD_REQUEST_PARAMETERS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := rawRequest(t, addr, tc.raw)
			defer resp.Body.Close()
			var body struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Amzn-Errortype") != tc.errorType {
				t.Fatalf("answer %d %s %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Amzn-Errortype"), raw)
			}
			if err := json.Unmarshal(raw, &body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
				t.Fatalf("body %q is not the JSON error body", raw)
			}
		})
	}
	t.Run("a handler's own answer", func(t *testing.T) {
		resp := rawRequest(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 400 || string(raw) != "handler" {
			t.Fatalf("handler's answer rewritten: %d %q", resp.StatusCode, raw)
		}
	})
}

// TestBadQueryEscapesAnswer400NotADroppedParameter: url.Values drops a
// pair it cannot decode, so ?cursor=%zz would list from the start; the
// gateway refuses it instead.
func TestBadQueryEscapesAnswer400NotADroppedParameter(t *testing.T) {
	f := newGateway(t, nil)
	for _, target := range []string{"/healthz?cursor=%zz", "/healthz?%zz=1", "/healthz?a=1&b=%"} {
		wantError(t, f.do(t, "GET", target, nil, nil), http.StatusBadRequest, "invalid_request")
	}
	event(t, f.do(t, "GET", "/healthz?a=%41&b=", nil, nil))
}
