package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/apigw"
	"github.com/acmedata/tokenservice/pkg/authctx"
	"github.com/acmedata/tokenservice/pkg/gatewayresp"
	"github.com/acmedata/tokenservice/pkg/local/usageplans"
	"github.com/acmedata/tokenservice/pkg/routes"
)

// ProxyFunc is a Lambda proxy-integration handler.
type ProxyFunc func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// AuthorizerFunc is a Lambda REQUEST authorizer.
type AuthorizerFunc func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error)

// Limits and defaults of API Gateway REST APIs.
const (
	// MaxBodyBytes is API Gateway's payload limit (10 MB).
	MaxBodyBytes = 10 << 20
	// DefaultIntegrationTimeout is API Gateway's default (and, without a
	// quota increase, maximum) integration timeout.
	DefaultIntegrationTimeout = 29 * time.Second
)

// Options configure a Gateway. Routes, Functions and Authorizers must
// cover one another: every route's function and authorizer must be given.
type Options struct {
	Routes      []routes.Route
	Functions   map[routes.Function]ProxyFunc
	Authorizers map[routes.Auth]AuthorizerFunc
	// OperatorKey stands in for AWS_IAM on routes.IAMAuth routes; required
	// if any route has that protection.
	OperatorKey string

	// Stage, APIID, Region and AccountID make up method ARNs and request
	// contexts; they default to local, local, us-east-1 and 000000000000.
	Stage, APIID, Region, AccountID string
	// IntegrationTimeout bounds each function and authorizer call
	// (DefaultIntegrationTimeout if zero).
	IntegrationTimeout time.Duration

	// UsagePlans, if set, limits the calls of methods that require an API
	// key, as API Gateway's usage plans do (see Limiter); nil limits
	// nothing and requires no key.
	UsagePlans Limiter

	// AccessLog, if set, receives one entry per request, as the stage's
	// access log would record it. It is called on the request's goroutine
	// and should not block.
	AccessLog func(accesslog.Entry)
	// Logger receives the gateway's own failures (nothing if nil).
	Logger *slog.Logger
}

// Limiter is the gateway's usage plans (usageplans.Engine): the verdict
// for one call with the usage key its authorizer returned, received at now.
type Limiter interface {
	Take(key string, now time.Time) usageplans.Verdict
}

// Gateway is an http.Handler that serves Options.Routes as API Gateway
// would. It is safe for concurrent use.
type Gateway struct {
	opts        Options
	root        *resource
	operatorKey [sha256.Size]byte
	log         *slog.Logger
}

// New checks opts and returns a Gateway.
func New(opts Options) (*Gateway, error) {
	if len(opts.Routes) == 0 {
		return nil, errors.New("localgw: no routes")
	}
	setDefault(&opts.Stage, "local")
	setDefault(&opts.APIID, "local")
	setDefault(&opts.Region, "us-east-1")
	setDefault(&opts.AccountID, "000000000000")
	if opts.IntegrationTimeout <= 0 {
		opts.IntegrationTimeout = DefaultIntegrationTimeout
	}
	g := &Gateway{opts: opts, root: newResource("/"), log: opts.Logger}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	for _, rt := range opts.Routes {
		if err := g.check(rt); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := g.root.add(rt); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("localgw: %w", err)
	}
	// Comparing digests keeps the comparison constant-time whatever the
	// lengths of the key and the guess.
	g.operatorKey = sha256.Sum256([]byte(opts.OperatorKey))
	return g, nil
}

func (g *Gateway) check(rt routes.Route) error {
	if g.opts.Functions[rt.Function] == nil {
		return fmt.Errorf("route %s %s: no function %q", rt.Method, rt.Path, rt.Function)
	}
	switch rt.Auth {
	case routes.Public:
	case routes.IAMAuth:
		if g.opts.OperatorKey == "" {
			return fmt.Errorf("route %s %s: operator routes need an operator key", rt.Method, rt.Path)
		}
	default:
		if g.opts.Authorizers[rt.Auth] == nil {
			return fmt.Errorf("route %s %s: no authorizer %q", rt.Method, rt.Path, rt.Auth)
		}
	}
	return nil
}

func setDefault(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

// ServeHTTP answers one request the way API Gateway would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{id: newRequestID(), received: time.Now(), sourceIP: sourceIP(r)}
	entry := accesslog.Entry{
		RequestID:        c.id,
		RequestTimeEpoch: c.received.UnixMilli(),
		HTTPMethod:       r.Method,
		SourceIP:         c.sourceIP,
	}
	status := g.serve(w, r, c, &entry)
	if g.opts.AccessLog != nil {
		entry.Status = status
		entry.ResponseLatency = time.Since(c.received).Milliseconds()
		g.opts.AccessLog(entry)
	}
}

// serve answers the request and returns the status it answered with.
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, c *call, entry *accesslog.Entry) int {
	// API Gateway runs an integration to its end whatever the client does
	// (a client that half-closes its side, or hangs up, does not cancel
	// it): only the integration timeout bounds the calls below.
	ctx := context.WithoutCancel(r.Context())
	if line, head := requestSize(r); line > MaxHeaderBytes {
		return g.gatewayResponseStatus(w, c, entry, gatewayresp.Default4XX, http.StatusRequestURITooLong)
	} else if head > MaxHeaderBytes {
		return g.gatewayResponseStatus(w, c, entry, gatewayresp.Default4XX, http.StatusRequestHeaderFieldsTooLarge)
	}
	if !validQueryEscapes(r.URL.RawQuery) {
		// url.Values would silently drop the pair; API Gateway refuses
		// what it cannot decode.
		return g.gatewayResponse(w, c, entry, gatewayresp.BadRequestParameters)
	}
	res, params := g.root.match(r.URL.EscapedPath())
	if res == nil {
		return g.gatewayResponse(w, c, entry, gatewayresp.MissingAuthenticationToken)
	}
	rt, ok := res.methods[r.Method]
	if !ok {
		return g.gatewayResponse(w, c, entry, gatewayresp.MissingAuthenticationToken)
	}
	c.resource, c.params = res, params
	entry.ResourcePath = res.path

	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		// A broken body (a bad chunk size, a chunked body or one shorter
		// than its Content-Length cut off): the client's fault, never the
		// service's. If the client went away, nobody hears it.
		return g.gatewayResponse(w, c, entry, gatewayresp.BadRequestBody)
	}
	if len(body) > MaxBodyBytes {
		return g.gatewayResponse(w, c, entry, gatewayresp.RequestTooLarge)
	}
	ev := g.proxyEvent(r, c, body)

	switch rt.Auth {
	case routes.Public:
	case routes.IAMAuth:
		if !g.operator(ev.Headers) {
			return g.gatewayResponse(w, c, entry, gatewayresp.Unauthorized)
		}
		// SigV4 headers reach the function on AWS; a bearer key would be a
		// secret in the event, so it stops here.
		deleteHeader(ev.Headers, ev.MultiValueHeaders, "Authorization")
		ev.RequestContext.Identity.AccountID = g.opts.AccountID
		ev.RequestContext.Identity.UserArn = fmt.Sprintf("arn:aws:iam::%s:user/local-operator", g.opts.AccountID)
	default:
		authorizer, rtype := g.authorize(ctx, rt, ev, c)
		c.authorizer = authorizer
		entry.AccountID = authorizer[authctx.AccountID]
		entry.TokenID = authorizer[authctx.TokenID]
		entry.TokenType = authorizer[authctx.TokenType]
		entry.UserID = authorizer[authctx.UserID]
		entry.Service = authorizer[authctx.Service]
		entry.Outcome = authorizer[authctx.Outcome]
		entry.Path = authorizer[authctx.Path]
		entry.Query = authorizer[authctx.Query]
		if rtype != "" {
			return g.gatewayResponse(w, c, entry, rtype)
		}
		if rtype := g.limit(rt, c); rtype != "" {
			return g.gatewayResponse(w, c, entry, rtype)
		}
		ev.RequestContext.Authorizer = make(map[string]any, len(authorizer))
		for k, v := range authorizer {
			ev.RequestContext.Authorizer[k] = v
		}
	}

	resp, err := invoke(ctx, g.opts.IntegrationTimeout, g.opts.Functions[rt.Function], ev)
	switch {
	case errors.Is(err, errTimeout):
		g.fail(ctx, c, "function", rt.Function, err)
		return g.gatewayResponse(w, c, entry, gatewayresp.IntegrationTimeout)
	case err != nil:
		g.fail(ctx, c, "function", rt.Function, err)
		return g.gatewayResponse(w, c, entry, gatewayresp.IntegrationFailure)
	}
	if err := writeProxyResponse(compressing(w, r), c, resp); err != nil {
		g.fail(ctx, c, "function", rt.Function, err)
		return g.gatewayResponse(w, c, entry, gatewayresp.IntegrationFailure)
	}
	return resp.StatusCode
}

// requestSize is the size of the request line ("GET /path?query
// HTTP/1.1") and of the line and headers together, as API Gateway counts
// them against its 10,240-byte quota. net/http's own limit is a little
// looser (a buffer's worth), so the gateway checks it exactly.
func requestSize(r *http.Request) (line, head int) {
	line = len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto)
	head = line
	for k, vs := range r.Header {
		for _, v := range vs {
			head += len(k) + 2 + len(v) + 2
		}
	}
	if r.Host != "" && r.Header.Get("Host") == "" {
		head += len("Host: ") + len(r.Host) + 2
	}
	return line, head
}

// validQueryEscapes reports whether every %-escape of a raw query string
// decodes.
func validQueryEscapes(raw string) bool {
	for pair := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if _, err := url.QueryUnescape(k); err != nil {
			return false
		}
		if _, err := url.QueryUnescape(v); err != nil {
			return false
		}
	}
	return true
}

// operator reports whether the request carries the operator key.
// It reads the credential with the authorizers' own parser
// (apigw.BearerValues): every Authorization value must be the key.
func (g *Gateway) operator(headers map[string]string) bool {
	seen, ok := false, true
	apigw.BearerValues(headers, nil, func(key string) bool {
		got := sha256.Sum256([]byte(key))
		seen, ok = true, ok && key != "" && subtle.ConstantTimeCompare(got[:], g.operatorKey[:]) == 1
		return ok
	})
	return seen && ok
}

// authorize runs the route's authorizer and evaluates its answer. It
// returns the context to pass to the backend (also on a Deny, for the
// access log) and, if the call is refused, the gateway response to answer.
func (g *Gateway) authorize(ctx context.Context, rt routes.Route, ev events.APIGatewayProxyRequest, c *call) (map[string]string, gatewayresp.Type) {
	methodARN := g.methodARN(ev.HTTPMethod, ev.Path)
	resp, err := invoke(ctx, g.opts.IntegrationTimeout, g.opts.Authorizers[rt.Auth], authorizerEvent(ev, methodARN))
	if err != nil {
		// API Gateway recognises exactly this error message, nothing else.
		if err.Error() == "Unauthorized" {
			return nil, gatewayresp.Unauthorized
		}
		g.fail(ctx, c, "authorizer", rt.Auth, err)
		return nil, gatewayresp.AuthorizerFailure
	}
	authorizer, err := flatContext(resp)
	if err != nil {
		g.fail(ctx, c, "authorizer", rt.Auth, err)
		return nil, gatewayresp.AuthorizerConfigurationError
	}
	d, err := evaluate(resp.PolicyDocument, methodARN)
	if err != nil {
		g.fail(ctx, c, "authorizer", rt.Auth, err)
		return nil, gatewayresp.AuthorizerConfigurationError
	}
	if d != allowed {
		return authorizer, gatewayresp.AccessDenied
	}
	c.usageKey = resp.UsageIdentifierKey
	return authorizer, ""
}

// limit applies the usage plans to a call its authorizer allowed, and
// returns the gateway response to answer if they refuse it. As on our
// REST API (infra/stack), the methods of the token authorizer require an
// API key, and the key source is the authorizer (usageIdentifierKey): a
// call without a key in a usage plan is refused with 403, as API Gateway
// refuses it (INVALID_API_KEY), so a local test catches a decision that
// returned no key, which on AWS would lock the caller out.
func (g *Gateway) limit(rt routes.Route, c *call) gatewayresp.Type {
	if g.opts.UsagePlans == nil || rt.Auth != routes.TokenAuth {
		return ""
	}
	switch g.opts.UsagePlans.Take(c.usageKey, c.received) {
	case usageplans.Allowed:
		return ""
	case usageplans.RateLimited:
		return gatewayresp.Throttled
	case usageplans.QuotaExceeded:
		return gatewayresp.QuotaExceeded
	default:
		return gatewayresp.InvalidAPIKey
	}
}

// flatContext turns an authorizer's context into what a REST API passes
// to the backend: principalId plus every value as a string. Nested values
// are a configuration error on AWS.
func flatContext(resp events.APIGatewayCustomAuthorizerResponse) (map[string]string, error) {
	if resp.PrincipalID == "" {
		return nil, errors.New("authorizer answered without a principalId")
	}
	out := make(map[string]string, len(resp.Context)+1)
	for k, v := range resp.Context {
		switch v := v.(type) {
		case string:
			out[k] = v
		case bool:
			out[k] = strconv.FormatBool(v)
		case float64: // every JSON number, after the trip through JSON
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			return nil, fmt.Errorf("authorizer context %q is a %T, not a string, number or boolean", k, v)
		}
	}
	out["principalId"] = resp.PrincipalID
	return out, nil
}

// writeProxyResponse writes a function's answer, or returns an error for
// an answer API Gateway would call malformed.
func writeProxyResponse(w http.ResponseWriter, c *call, resp events.APIGatewayProxyResponse) error {
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("malformed proxy response: status %d", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("malformed proxy response: body: %w", err)
		}
	}
	h := w.Header()
	// API Gateway merges both header maps; for a name in both, only the
	// multi-value entry counts.
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		if _, ok := resp.MultiValueHeaders[k]; !ok {
			h.Set(k, v)
		}
	}
	h.Set("X-Amzn-Requestid", c.id)
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body) // a client that hung up cannot be told
	return nil
}

// gatewayResponse answers with the deployment's response for t, from
// the table infra/stack configures (pkg/gatewayresp), its template filled
// from the authorizer's context as API Gateway fills it, and returns its
// status.
func (g *Gateway) gatewayResponse(w http.ResponseWriter, c *call, entry *accesslog.Entry, t gatewayresp.Type) int {
	resp, ok := gatewayresp.Lookup(t)
	if !ok || resp.Status == 0 {
		// Only the DEFAULT_4XX/5XX catch-alls keep API Gateway's status,
		// and the gateway always answers a specific type.
		panic(fmt.Sprintf("localgw: gateway response %s has no status of its own", t))
	}
	entry.ErrorType = string(t)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Requestid", c.id)
	h.Set("X-Amzn-Errortype", string(t))
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Render(c.authorizer))
	return resp.Status
}

// gatewayResponseStatus is gatewayResponse for a catch-all type
// (DEFAULT_4XX, DEFAULT_5XX), which answers with the status API Gateway
// chose: status.
func (g *Gateway) gatewayResponseStatus(w http.ResponseWriter, c *call, entry *accesslog.Entry, t gatewayresp.Type, status int) int {
	resp, ok := gatewayresp.Lookup(t)
	if !ok || resp.Status != 0 {
		panic(fmt.Sprintf("localgw: gateway response %s is not a catch-all", t))
	}
	entry.ErrorType = string(t)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Requestid", c.id)
	h.Set("X-Amzn-Errortype", string(t))
	w.WriteHeader(status)
	_, _ = w.Write(resp.Render(c.authorizer))
	return status
}

// fail logs a function or authorizer failure. The resource template
// stands for the path, which may carry a token.
func (g *Gateway) fail(ctx context.Context, c *call, kind string, name any, err error) {
	resource := ""
	if c.resource != nil {
		resource = c.resource.path
	}
	g.log.ErrorContext(ctx, "integration failed",
		slog.String("requestId", c.id),
		slog.String("resource", resource),
		slog.String(kind, fmt.Sprint(name)),
		slog.String("error", err.Error()))
}

// deleteHeader removes a header from both of an event's header maps,
// whatever its case.
func deleteHeader(single map[string]string, multi map[string][]string, name string) {
	for k := range single {
		if strings.EqualFold(k, name) {
			delete(single, k)
		}
	}
	for k := range multi {
		if strings.EqualFold(k, name) {
			delete(multi, k)
		}
	}
}
