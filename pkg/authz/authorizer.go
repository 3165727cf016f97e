package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/apigw"
	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/authctx"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// CredentialReader finds the credential stored under a token's hash; an
// error matching apperr.ErrNotFound for a hash it does not hold.
type CredentialReader interface {
	Credential(ctx context.Context, secretHash string) (tokens.Credential, error)
}

// Errors that make API Gateway answer 500. Neither says anything about the
// token: Lambda errors are logged by the platform.
var (
	// ErrStoreUnavailable wraps a failed credential lookup: the authorizer
	// fails closed.
	ErrStoreUnavailable = errors.New("authz: credential store unavailable")
	// ErrNoService reports a route that names no service: a deployment
	// mistake (a route missing from ROUTE_SERVICES), refused loudly.
	ErrNoService = errors.New("authz: the route names no service")
)

// Options configure an Authorizer. The zero value serves the demo routes.
type Options struct {
	// RouteServices maps a deployer's routes, keyed "METHOD /resource",
	// to the service they serve (see ParseRouteServices). A route's own
	// service path parameter takes precedence.
	RouteServices map[string]string
	// Logger receives one line per decision (nil discards).
	Logger *slog.Logger
	// Now is the clock expiry is judged against (time.Now if nil).
	Now func() time.Time
}

// Authorizer is the data-token REQUEST authorizer. It is safe for
// concurrent use.
type Authorizer struct {
	store         CredentialReader
	routeServices map[string]string
	log           *slog.Logger
	now           func() time.Time
}

// New returns an Authorizer reading credentials from store.
func New(store CredentialReader, opts Options) (*Authorizer, error) {
	if store == nil {
		return nil, errors.New("authz: nil credential store")
	}
	if err := ValidateRouteServices(opts.RouteServices); err != nil {
		return nil, err
	}
	a := &Authorizer{store: store, routeServices: maps.Clone(opts.RouteServices), log: opts.Logger, now: opts.Now}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

// Authorize decides one request. It answers an Allow, an explicit Deny
// (403), apigw.ErrUnauthorized (401), or another error (500) when it cannot
// decide: it never allows what it could not verify.
func (a *Authorizer) Authorize(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	start := time.Now()
	d := decision{req: &req}
	resp, err := a.decide(ctx, &req, &d)
	a.logDecision(ctx, &d, time.Since(start))
	return resp, err
}

func (a *Authorizer) decide(ctx context.Context, req *events.APIGatewayCustomAuthorizerRequestTypeRequest, d *decision) (events.APIGatewayCustomAuthorizerResponse, error) {
	var token string
	if token, d.outcome = extractToken(req); d.outcome != tokens.Valid {
		return d.unauthorized()
	}
	if d.service = a.service(req); d.service == "" {
		return d.fail(ErrNoService)
	}
	arn, err := apigw.ParseMethodARN(req.MethodArn)
	if err != nil {
		return d.fail(err)
	}
	cred, err := a.store.Credential(ctx, secret.Hash(token))
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		d.outcome = tokens.Unknown
		return d.unauthorized()
	case err != nil:
		return d.fail(fmt.Errorf("%w: %w", ErrStoreUnavailable, err))
	}
	d.cred = &cred
	d.outcome = tokens.Verify(cred, d.service, a.now())
	switch {
	case d.outcome == tokens.Valid:
		return a.allow(req, arn, d)
	case d.outcome.Forbidden():
		return a.deny(arn, d)
	default:
		return d.unauthorized()
	}
}

// service is the service the request targets: the route's service path
// parameter, else the deployer's mapping of the route; "" if neither.
func (a *Authorizer) service(req *events.APIGatewayCustomAuthorizerRequestTypeRequest) string {
	if s := req.PathParameters[ServiceParam]; s != "" {
		return s
	}
	return a.routeServices[req.HTTPMethod+" "+req.Resource]
}

// allow answers an Allow scoped so that API Gateway's authorizer cache, if
// a deployer turns it on, can replay it only for this service's data routes
// of the same API and stage, or this exact request: never another service,
// never an admin route.
func (a *Authorizer) allow(req *events.APIGatewayCustomAuthorizerRequestTypeRequest, arn apigw.MethodARN, d *decision) (events.APIGatewayCustomAuthorizerResponse, error) {
	resources, ok := allowResources(req.Resource, arn, d.service)
	if !ok {
		// A literal '*' or '?' in the path cannot be named exactly in a
		// policy; refusing beats allowing more than was asked.
		return a.deny(arn, d)
	}
	d.decision = decisionAllow
	return apigw.Allow(d.cred.Token.ID, resources, d.context(true)), nil
}

// allowResources lists the patterns of the service's data routes, plus the
// request's own method ARN when its route has no pattern (the feed route,
// whose token segment no pattern can bound, and deployer routes). The feed
// route's ARN holds the token: it goes back to API Gateway only, never to a
// log.
func allowResources(resource string, arn apigw.MethodARN, service string) ([]string, bool) {
	out := make([]string, len(dataRoutes), len(dataRoutes)+1)
	scoped := false
	for i, r := range dataRoutes {
		out[i] = arn.Stage + r.before + service + r.after
		scoped = scoped || r.resource == resource
	}
	if scoped {
		return out, true
	}
	exact, ok := arn.Exact()
	if !ok {
		return nil, false
	}
	return append(out, exact), true
}

// deny answers an explicit Deny (403) for this method ARN, with the token's
// identity in the context so the access log attributes the refusal.
func (a *Authorizer) deny(arn apigw.MethodARN, d *decision) (events.APIGatewayCustomAuthorizerResponse, error) {
	d.decision = decisionDeny
	return apigw.Deny(d.cred.Token.ID, []string{arn.Stage + arn.Route}, d.context(false)), nil
}

// Decisions as logged.
const (
	decisionAllow        = "allow"
	decisionDeny         = "deny"
	decisionUnauthorized = "unauthorized"
	decisionError        = "error"
)

// decision is what Authorize learned about one request, for its answer and
// its log line.
type decision struct {
	req      *events.APIGatewayCustomAuthorizerRequestTypeRequest
	outcome  tokens.Outcome
	service  string
	cred     *tokens.Credential // nil until the store answered
	decision string
	err      error
}

func (d *decision) unauthorized() (events.APIGatewayCustomAuthorizerResponse, error) {
	d.decision = decisionUnauthorized
	return events.APIGatewayCustomAuthorizerResponse{}, apigw.ErrUnauthorized
}

func (d *decision) fail(err error) (events.APIGatewayCustomAuthorizerResponse, error) {
	d.decision, d.err = decisionError, err
	return events.APIGatewayCustomAuthorizerResponse{}, err
}

// context is the authorizer context handed to the backend (and to the
// access log on a Deny). Settings travel as one JSON object string because
// API Gateway context values are flat; see the package doc for reading it.
func (d *decision) context(withSettings bool) map[string]any {
	t := &d.cred.Token
	c := make(map[string]any, 7)
	c[authctx.AccountID] = t.AccountID
	c[authctx.TokenID] = t.ID
	c[authctx.TokenType] = boxedTokenType[t.Type()]
	c[authctx.UserID] = t.UserID
	c[authctx.Service] = d.service
	if d.outcome == tokens.Valid {
		c[authctx.Outcome] = boxedValid
	} else {
		c[authctx.Outcome] = d.outcome.Code()
	}
	if withSettings {
		c[authctx.Settings] = string(appendSettings(make([]byte, 0, 64), t.Settings))
	}
	return c
}

// Values boxed once: putting a string in an interface allocates, and the
// hot path needs no more allocations than it has to.
var (
	boxedTokenType = map[tokens.TokenType]any{
		tokens.TokenUser:     string(tokens.TokenUser),
		tokens.TokenUserless: string(tokens.TokenUserless),
	}
	boxedValid any = tokens.Valid.Code()
)

// Log field names of the decision line. They are a contract: the usage
// history reads refused calls of known tokens from these lines.
const (
	LogMessage      = "authorizer decision"
	LogRequestID    = "requestId"
	LogDecision     = "decision" // allow, deny, unauthorized, error
	LogStatus       = "status"   // 401, 403 or 500; absent on allow
	LogOutcome      = "outcome"  // a tokens.Outcome code; absent on error
	LogAccountID    = "accountId"
	LogTokenID      = "tokenId"
	LogUserID       = "userId"
	LogService      = "service"
	LogHTTPMethod   = "httpMethod"
	LogResource     = "resource"
	LogPath         = "path" // the request path, the token redacted
	LogSourceIP     = "sourceIp"
	LogLatencyMicro = "latencyUs"
	LogError        = "error"
)

var decisionStatus = map[string]int64{decisionDeny: 403, decisionUnauthorized: 401, decisionError: 500}

// logDecision writes the one line of a decision. It never holds the token
// nor the raw path (the feed route carries the token in it).
func (a *Authorizer) logDecision(ctx context.Context, d *decision, took time.Duration) {
	level := slog.LevelInfo
	if d.decision == decisionError {
		level = slog.LevelError
	}
	if !a.log.Enabled(ctx, level) {
		return
	}
	req := d.req
	attrs := make([]slog.Attr, 0, 15)
	attrs = append(attrs,
		slog.String(LogRequestID, req.RequestContext.RequestID),
		slog.String(LogDecision, d.decision),
	)
	if s, ok := decisionStatus[d.decision]; ok {
		attrs = append(attrs, slog.Int64(LogStatus, s))
	}
	if d.err == nil {
		attrs = append(attrs, slog.String(LogOutcome, d.outcome.Code()))
	}
	if d.cred != nil {
		attrs = append(attrs,
			slog.String(LogAccountID, d.cred.Token.AccountID),
			slog.String(LogTokenID, d.cred.Token.ID),
			slog.String(LogUserID, d.cred.Token.UserID),
		)
	}
	attrs = append(attrs,
		slog.String(LogService, d.service),
		slog.String(LogHTTPMethod, req.HTTPMethod),
		slog.String(LogResource, req.Resource),
		slog.String(LogPath, RedactedPath(req.Resource, req.PathParameters)),
		slog.String(LogSourceIP, req.RequestContext.Identity.SourceIP),
		slog.Int64(LogLatencyMicro, took.Microseconds()),
	)
	if d.err != nil {
		attrs = append(attrs, slog.String(LogError, d.err.Error()))
	}
	a.log.LogAttrs(ctx, level, LogMessage, attrs...)
}

// Redacted stands in for a token in a logged path.
const Redacted = "[redacted]"

// RedactedPath rebuilds a request path from its resource template and path
// parameters with the token left out: the token parameter, and any segment
// shaped like a token wherever a caller put it, become Redacted. Building
// from the template (never from the raw path) means nothing the template
// does not name can leak.
func RedactedPath(resource string, params map[string]string) string {
	var b strings.Builder
	b.Grow(len(resource) + 16)
	for rest := resource; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:open])
		name := strings.TrimSuffix(rest[open+1:open+end], "+")
		value, ok := params[name]
		switch {
		case name == TokenParam:
			b.WriteString(Redacted)
		case !ok:
			b.WriteString(rest[open : open+end+1])
		default:
			writeRedactingTokens(&b, value)
		}
		rest = rest[open+end+1:]
	}
	return b.String()
}

// writeRedactingTokens writes a path-parameter value, replacing every
// segment that looks like a token in any letter case.
func writeRedactingTokens(b *strings.Builder, value string) {
	for first := true; ; first = false {
		seg, rest, more := strings.Cut(value, "/")
		if !first {
			b.WriteByte('/')
		}
		if len(seg) == secret.TokenLength && secret.IsToken(strings.ToLower(seg)) {
			seg = Redacted
		}
		b.WriteString(seg)
		if !more {
			return
		}
		value = rest
	}
}
