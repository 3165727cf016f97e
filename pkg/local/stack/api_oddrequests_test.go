package stack

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawCall writes raw to the stack over one connection, half-closes the
// connection's sending side if halfClose (the client has said all it will),
// and reads the one answer.
func (a *api) rawCall(t *testing.T, raw string, halfClose bool) (*http.Response, []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(a.url, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	if halfClose {
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

// TestOddRequestsAreAnsweredByTheGatewayWithTheJSONError: whatever a
// client sends at the HTTP level (a broken body, an Expect the server
// cannot meet, a request target that is no path, a path with empty, "."
// or ".." segments, a request line over API Gateway's 10,240 bytes), the
// answer is a 4xx with the contract's JSON error, from the gateway twin
// (its request ID), never a redirect, Go's text/plain, an empty body or a
// 5xx.
func TestOddRequestsAreAnsweredByTheGatewayWithTheJSONError(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	auth := "Authorization: Bearer " + acc.Key + "\r\n"
	post := "POST /admin/users HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\n"
	long := "/admin/users?cursor=" + strings.Repeat("a", 10300)
	for _, tc := range []struct {
		name, raw string
		halfClose bool
	}{
		{"a bad chunk size", post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", false},
		{"a truncated chunked body", post + "Transfer-Encoding: chunked\r\n\r\n10\r\n{\"email\"", true},
		{"a body shorter than its Content-Length", post + "Content-Length: 100\r\n\r\n{\"email\":\"a@b.co\"", true},
		{"an Expect other than 100-continue", "GET /admin/account HTTP/1.1\r\nHost: x\r\n" + auth + "Expect: teapot\r\n\r\n", false},
		{"GET *", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"PRI *", "PRI * HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", false},
		{"a double slash", "GET //admin/account HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", false},
		{"a dot segment", "GET /admin/./account HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", false},
		{"a dot-dot segment", "GET /admin/users/../account HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", false},
		{"a token in a path with a double slash", "GET /feed/" + tok.Token + "//tmy/hourly HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"a token before a dot-dot segment", "GET /x/../feed/" + tok.Token + "/tmy/hourly HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"a request line over 10,240 bytes", "GET " + long + " HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := a.rawCall(t, tc.raw, tc.halfClose)
			what := tc.name
			if res.StatusCode < 400 || res.StatusCode > 499 {
				t.Errorf("%s: status %d, want a 4xx; body %.200s", what, res.StatusCode, body)
			}
			if loc := res.Header.Get("Location"); loc != "" {
				t.Errorf("%s: redirected to %.100s", what, loc)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s: Content-Type %q", what, ct)
			}
			if res.Header.Get("X-Amzn-Requestid") == "" {
				t.Errorf("%s: no request ID: not answered by the gateway", what)
			}
			wantErrorBody(t, what, res.StatusCode, body)
			var all strings.Builder
			_ = res.Header.Write(&all)
			all.Write(body)
			if strings.Contains(all.String(), tok.Token) || strings.Contains(all.String(), acc.Key) {
				t.Errorf("%s: the answer holds a secret", what)
			}
		})
	}
	if strings.Contains(a.logs.String(), `"level":"ERROR"`) {
		t.Errorf("odd requests logged errors:\n%.2000s", a.logs.String())
	}
}

// TestAClientThatHalfClosesGetsItsAnswer: a client that sends its whole
// request and then closes its sending side (as some HTTP/1.0 clients and
// proxies do) still reads the answer; the function is not cancelled (API
// Gateway runs an integration whatever the client does), and nothing is
// logged as a failure.
func TestAClientThatHalfClosesGetsItsAnswer(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	for _, raw := range []string{
		"GET /admin/account HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + acc.Key + "\r\n\r\n",
		"POST /admin/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + acc.Key + "\r\nContent-Length: 32\r\n\r\n{\"email\":\"h@b.co\",\"name\":\"Half\"}",
	} {
		res, body := a.rawCall(t, raw, true)
		if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
			t.Errorf("%.30q: %d %s", raw, res.StatusCode, body)
		}
	}
	if strings.Contains(a.logs.String(), `"level":"ERROR"`) {
		t.Errorf("a half-closed client logged errors:\n%.2000s", a.logs.String())
	}
}
