package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// requestTimeFormat is API Gateway's $context.requestTime layout.
const requestTimeFormat = "02/Jan/2006:15:04:05 -0700"

// newRequestID returns a random UUID (version 4), the shape of API
// Gateway's request IDs.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// call is one request on its way through the gateway.
type call struct {
	id       string
	received time.Time
	sourceIP string
	resource *resource
	params   map[string]string
	// authorizer is the authorizer's context once it answered, which a
	// gateway response's template may name (gatewayresp.Response.Render).
	authorizer map[string]string
	// usageKey is the usageIdentifierKey of the authorizer's Allow: the
	// usage plans' key the call counts against.
	usageKey string
}

// proxyEvent builds the Lambda proxy event API Gateway would send for r,
// without the authorizer context, which comes later.
func (g *Gateway) proxyEvent(r *http.Request, c *call, body []byte) events.APIGatewayProxyRequest {
	headers, multiHeaders := flatten(r.Header)
	if headers == nil {
		headers, multiHeaders = map[string]string{}, map[string][]string{}
	}
	// Go moves Host out of the header map; API Gateway passes it, and adds
	// the X-Forwarded-* headers of its load balancer.
	extra := map[string]string{
		"Host":              r.Host,
		"X-Forwarded-For":   c.sourceIP,
		"X-Forwarded-Port":  port(r),
		"X-Forwarded-Proto": "http",
	}
	for k, v := range extra {
		headers[k] = v
		multiHeaders[k] = []string{v}
	}
	query, multiQuery := flatten(r.URL.Query())

	ev := events.APIGatewayProxyRequest{
		Resource:                        c.resource.path,
		Path:                            r.URL.Path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multiHeaders,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: multiQuery,
		PathParameters:                  nilIfEmpty(c.params),
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:    g.opts.AccountID,
			ResourceID:   resourceID(c.resource.path),
			Stage:        g.opts.Stage,
			DomainName:   r.Host,
			RequestID:    c.id,
			Protocol:     r.Proto,
			Identity:     events.APIGatewayRequestIdentity{SourceIP: c.sourceIP, UserAgent: r.UserAgent()},
			ResourcePath: c.resource.path,
			// The path as the client called it. On an execute-api
			// address that starts with the stage (/prod/admin/usage);
			// the local server, like a custom domain, has no stage in
			// its URLs, so a link built from it (a CSV page's next)
			// must not add one.
			Path:             r.URL.Path,
			HTTPMethod:       r.Method,
			RequestTime:      c.received.UTC().Format(requestTimeFormat),
			RequestTimeEpoch: c.received.UnixMilli(),
			APIID:            g.opts.APIID,
		},
	}
	// Without binary media types API Gateway passes text bodies as they
	// are; we base64-encode only what is not valid UTF-8, which JSON could
	// not carry faithfully otherwise.
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// authorizerEvent is the REQUEST authorizer event for a proxy event.
func authorizerEvent(ev events.APIGatewayProxyRequest, methodARN string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	rc := ev.RequestContext
	return events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:                            "REQUEST",
		MethodArn:                       methodARN,
		Resource:                        ev.Resource,
		Path:                            ev.Path,
		HTTPMethod:                      ev.HTTPMethod,
		Headers:                         ev.Headers,
		MultiValueHeaders:               ev.MultiValueHeaders,
		QueryStringParameters:           ev.QueryStringParameters,
		MultiValueQueryStringParameters: ev.MultiValueQueryStringParameters,
		PathParameters:                  ev.PathParameters,
		StageVariables:                  ev.StageVariables,
		RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
			Path:         rc.Path,
			AccountID:    rc.AccountID,
			ResourceID:   rc.ResourceID,
			Stage:        rc.Stage,
			RequestID:    rc.RequestID,
			Identity:     events.APIGatewayCustomAuthorizerRequestTypeRequestIdentity{SourceIP: rc.Identity.SourceIP},
			ResourcePath: rc.ResourcePath,
			HTTPMethod:   rc.HTTPMethod,
			APIID:        rc.APIID,
		},
	}
}

// methodARN is the ARN API Gateway evaluates an authorizer's policy
// against: the request's own method and path, not the template.
func (g *Gateway) methodARN(method, path string) string {
	return fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s/%s",
		g.opts.Region, g.opts.AccountID, g.opts.APIID, g.opts.Stage, method, path[1:])
}

// flatten turns a multi-valued map into API Gateway's pair of maps: the
// single-valued one holds the last value of each name. Both are nil when
// empty, as API Gateway sends null.
func flatten(m map[string][]string) (map[string]string, map[string][]string) {
	if len(m) == 0 {
		return nil, nil
	}
	single := make(map[string]string, len(m))
	multi := make(map[string][]string, len(m))
	for k, vs := range m {
		if len(vs) == 0 {
			continue
		}
		single[k] = vs[len(vs)-1]
		multi[k] = append([]string(nil), vs...)
	}
	return single, multi
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// resourceID is a stable stand-in for API Gateway's generated resource
// IDs: ten lowercase alphanumerics derived from the template.
func resourceID(template string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(template)) // a hash.Hash never fails to write
	// The top bit set makes the base-36 form 13 digits long, never shorter.
	return strconv.FormatUint(h.Sum64()|1<<63, 36)[:10]
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func port(r *http.Request) string {
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		return p
	}
	return "80"
}
