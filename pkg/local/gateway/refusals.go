package gateway

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/acmedata/tokenservice/pkg/gatewayresp"
)

// MaxHeaderBytes is API Gateway's quota on a REST API request's line and
// headers together (10,240 bytes). net/http allows a little more than its
// MaxHeaderBytes (a buffer's worth), which keeps the local limit near it.
const MaxHeaderBytes = 10240

// NewServer returns the HTTP server for a Gateway (or any handler in front
// of one): API Gateway's header limit and a header read timeout. Serve it
// on Listener(l) so that the requests it refuses itself are answered in the
// product's error shape too.
//
// OPTIONS * reaches the handler (the gateway answers it as any request
// for no route) rather than net/http's own empty 200.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: MaxHeaderBytes, DisableGeneralOptionsHandler: true}
}

// Listener wraps l so that the answers net/http's server writes by itself,
// for a request it cannot parse (a malformed request line or %-escape, a
// NUL or other control byte in a header, headers over MaxHeaderBytes, an
// unknown transfer coding), are the gateway's JSON error body rather than
// Go's text/plain "400 Bad Request". net/http offers no hook for these
// (go.dev/issue/25116 was declined), so the connection recognises them by
// their fixed form: a status line followed by exactly Go's two error
// headers. Every answer a handler writes carries a Date header and never
// has that form.
//
// What API Gateway answers for such requests: its documented quotas are
// 10,240 bytes for the request line and headers, and 10,240 characters of
// URL (8,192 edge-optimised); a method ARN over 1,600 bytes is a 414. A
// request its front end cannot parse is refused before a stage runs, and
// AWS does not document which gateway response type, if any, applies. The
// local gateway answers BAD_REQUEST_PARAMETERS (400) for anything
// unparseable and DEFAULT_4XX with 431 for headers over the limit, both
// with the body of pkg/gatewayresp, so a client sees JSON whatever it sent.
func Listener(l net.Listener) net.Listener { return refusingListener{l} }

type refusingListener struct{ net.Listener }

func (l refusingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return refusingConn{c}, nil
}

type refusingConn struct{ net.Conn }

// goErrorHeaders are the headers net/http's server writes, and only them,
// when it refuses a request it could not read.
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c refusingConn) Write(p []byte) (int, error) {
	status, ok := serverRefusal(p)
	if !ok {
		status, ok = expectationFailed(p)
	}
	if !ok {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(refusal(status)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// serverRefusal reports whether p is a whole answer net/http's server
// wrote by itself, and its status.
func serverRefusal(p []byte) (int, bool) {
	const proto = "HTTP/1.1 "
	if !bytes.HasPrefix(p, []byte(proto)) || len(p) < len(proto)+3 {
		return 0, false
	}
	line, _, ok := bytes.Cut(p, []byte("\r\n"))
	if !ok || !bytes.HasPrefix(p[len(line):], []byte(goErrorHeaders)) {
		return 0, false
	}
	status, err := strconv.Atoi(string(p[len(proto) : len(proto)+3]))
	if err != nil || status < 400 {
		return 0, false
	}
	return status, true
}

// expectationFailed reports whether p is the 417 net/http's server writes
// by itself, before any handler runs, for an Expect header other than
// 100-continue: a status line, then Go's own headers and no body. The
// gateway never answers 417 itself.
func expectationFailed(p []byte) (int, bool) {
	const line = "HTTP/1.1 417 Expectation Failed\r\n"
	if !bytes.HasPrefix(p, []byte(line)) || bytes.Contains(p, []byte("\r\nX-Amzn-Requestid:")) || !bytes.HasSuffix(p, []byte("\r\n\r\n")) {
		return 0, false
	}
	return http.StatusExpectationFailed, true
}

// refusal is the gateway's answer to a request net/http refused with
// status: headers over the limit keep their 431 and an unmet Expect its
// 417 (as DEFAULT_4XX, with the JSON body), anything else is a 400
// (an unknown transfer coding, which Go answers 501, is the client's
// fault, not the service's).
func refusal(status int) []byte {
	t := gatewayresp.BadRequestParameters
	if status == http.StatusRequestHeaderFieldsTooLarge || status == http.StatusExpectationFailed {
		t = gatewayresp.Default4XX
	}
	resp, _ := gatewayresp.Lookup(t)
	if resp.Status != 0 {
		status = resp.Status
	}
	body := resp.Body()
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n", len(body))
	fmt.Fprintf(&b, "X-Amzn-Errortype: %s\r\nX-Amzn-Requestid: %s\r\n\r\n", t, newRequestID())
	b.Write(body)
	return b.Bytes()
}
