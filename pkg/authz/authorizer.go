package authz

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/apigw"
	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/authctx"
	"github.com/acmedata/tokenservice/pkg/gatewayresp"
	"github.com/acmedata/tokenservice/pkg/redact"
	"github.com/acmedata/tokenservice/pkg/restrict"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

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

// Options configure an Authorizer. Services is required; the zero value of
// every other field serves the demo routes.
type Options struct {
	// Services is the deployment's catalogue (config.Config.Services'
	// IDs). A request naming any other service is refused as a token for
	// another service would be, and its name is never logged, put in the
	// context or recorded: it is whatever the caller typed, a token even.
	Services []string
	// RouteServices maps a deployer's routes, keyed "METHOD /resource",
	// to the service they serve (see ParseRouteServices). A route's own
	// service path parameter takes precedence.
	RouteServices map[string]string
	// Logger receives one line per decision (nil discards).
	Logger *slog.Logger
	// Now is the clock expiry and the cache are judged against (time.Now
	// if nil).
	Now func() time.Time
	// RevocationDelay is how long the authorizer may keep what the store
	// answered (a token, that there is no such token, a gate item), so
	// that a hot token costs one read per item per delay, not one per
	// call; 0 to 60 s. The zero value reads the store for every request;
	// deployments set the configured delay (config.Config, 1 s unless
	// REVOCATION_DELAY says otherwise).
	RevocationDelay time.Duration
	// UnlimitedUsageKey is the usage key of the deployment's plan without
	// limits (plans), returned for a call that no plan limits. On AWS the
	// data methods require a usage key, so it must be set there; "" (the
	// local stack's default) returns none for such a call.
	UnlimitedUsageKey string
	// TokenEntries and GateEntries bound the cache (DefaultTokenEntries,
	// DefaultGateEntries if zero).
	TokenEntries, GateEntries int
}

// Authorizer is the data-token REQUEST authorizer. It is safe for
// concurrent use.
type Authorizer struct {
	// credential reads a token and its gates: through the cache when
	// there is a revocation delay, straight from the store otherwise.
	credential    func(ctx context.Context, secretHash string) (tokens.Credential, error)
	cache         *cachedStore // nil without one
	routeServices map[string]string
	// catalogue holds each service ID boxed once, as the context value
	// every decision for it carries (boxing it per call would be an
	// allocation per decision).
	catalogue    map[string]any
	unlimitedKey string
	log          *slog.Logger
	now          func() time.Time
}

// New returns an Authorizer reading tokens and their gates from store.
func New(store tokens.CredentialStore, opts Options) (*Authorizer, error) {
	if store == nil {
		return nil, errors.New("authz: nil credential store")
	}
	if len(opts.Services) == 0 {
		return nil, errors.New("authz: no service catalogue")
	}
	if err := ValidateRouteServices(opts.RouteServices); err != nil {
		return nil, err
	}
	if err := validateRevocationDelay(opts.RevocationDelay); err != nil {
		return nil, err
	}
	a := &Authorizer{routeServices: maps.Clone(opts.RouteServices), catalogue: make(map[string]any, len(opts.Services)), unlimitedKey: opts.UnlimitedUsageKey, log: opts.Logger, now: opts.Now}
	for _, s := range opts.Services {
		a.catalogue[s] = s
	}
	if err := RoutesInCatalogue(a.routeServices, opts.Services); err != nil {
		return nil, err
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.credential = func(ctx context.Context, secretHash string) (tokens.Credential, error) {
		return tokens.LoadCredential(ctx, store, secretHash)
	}
	if opts.RevocationDelay > 0 {
		tokenEntries, gateEntries := cmp.Or(opts.TokenEntries, DefaultTokenEntries), cmp.Or(opts.GateEntries, DefaultGateEntries)
		cache, err := newCachedStore(store, opts.RevocationDelay, a.now, tokenEntries, gateEntries)
		if err != nil {
			return nil, err
		}
		a.credential, a.cache = cache.Credential, cache
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
	if d.outcome = admit(token); d.outcome != tokens.Valid {
		return d.unauthorized()
	}
	if d.service = a.service(req); d.service == "" {
		return d.fail(ErrNoService)
	}
	if d.serviceValue = a.catalogue[d.service]; d.serviceValue == nil {
		// No token is for an unlisted service, so a genuine one answers
		// token_wrong_service below; the name goes no further than here.
		d.service, d.serviceValue = "", ""
	}
	arn, err := apigw.ParseMethodARN(req.MethodArn)
	if err != nil {
		return d.fail(err)
	}
	hash := secret.Hash(token)
	cred, err := a.credential(ctx, hash)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		d.outcome = tokens.Unknown
		return d.unauthorized()
	case err != nil:
		return d.fail(fmt.Errorf("%w: %w", ErrStoreUnavailable, err))
	}
	d.cred = &cred
	d.facts = a.cache.facts(hash, cred.Token)
	d.outcome = tokens.Verify(cred, d.service, a.now())
	if d.outcome == tokens.Valid && !cred.Token.Restrictions.IsZero() {
		d.outcome = tokens.Restricted(cred.Token, origins(req))
	}
	switch {
	case d.outcome == tokens.Valid:
		return a.allow(req, arn, d)
	case d.outcome.Forbidden():
		return a.deny(arn, d)
	default:
		return d.unauthorized()
	}
}

// admit decides whether a well-shaped token may be looked up at all: only
// if it passes its check (secret.HasValidCheck), so a mistyped or made-up
// token is refused as malformed before any store call. It is the one place
// the decision refuses on the check. Tokens imported from another system
// carry no check and are known only by their SHA-256; admitting them later
// means admitting them here (say, by a lookup in a small set of imported
// hashes kept beside the cache) and nowhere else.
func admit(token string) tokens.Outcome {
	if !secret.HasValidCheck(token) {
		return tokens.Malformed
	}
	return tokens.Valid
}

// origins is where the request came from, for a token's restrictions: the
// browser-set Origin and Referer headers, and the source IP API Gateway
// saw (never a header the caller could set, such as X-Forwarded-For).
func origins(req *events.APIGatewayCustomAuthorizerRequestTypeRequest) restrict.Request {
	r := restrict.Request{SourceIP: req.RequestContext.Identity.SourceIP}
	// Header names arrive in the caller's case, and a name sent twice
	// keeps only its last value in Headers: every value of both maps is
	// looked at, and two different ones are ambiguous.
	note := func(into *string, v string) {
		if *into != "" && *into != v {
			r.Ambiguous = true
		}
		*into = v
	}
	for k, vs := range req.MultiValueHeaders {
		for _, v := range vs {
			switch {
			case strings.EqualFold(k, "Origin"):
				note(&r.Origin, v)
			case strings.EqualFold(k, "Referer"):
				note(&r.Referer, v)
			}
		}
	}
	for k, v := range req.Headers {
		switch {
		case strings.EqualFold(k, "Origin"):
			note(&r.Origin, v)
		case strings.EqualFold(k, "Referer"):
			note(&r.Referer, v)
		}
	}
	return r
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
	d.decision = accesslog.DecisionAllow
	resp := apigw.Allow(d.cred.Token.ID, resources, d.context(true))
	// The usage key puts the call in its plan's budget at the gateway,
	// which answers 429 itself (docs/limits.md).
	resp.UsageIdentifierKey = cmp.Or(d.cred.UsageKey(d.service), a.unlimitedKey)
	return resp, nil
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
// The context also holds the error body's code and message, which the
// gateway's ACCESS_DENIED response reads (pkg/gatewayresp).
func (a *Authorizer) deny(arn apigw.MethodARN, d *decision) (events.APIGatewayCustomAuthorizerResponse, error) {
	d.decision = accesslog.DecisionDeny
	c := d.context(false)
	c[authctx.ErrorCode], c[authctx.ErrorMessage] = d.outcome.Code(), d.outcome.Message()
	if !d.outcome.Forbidden() {
		// A valid token whose request no policy can name (allow): no
		// precise reason to give.
		c[authctx.ErrorCode], c[authctx.ErrorMessage] = gatewayresp.Forbidden.Code, gatewayresp.Forbidden.Message
	}
	return apigw.Deny(d.cred.Token.ID, []string{arn.Stage + arn.Route}, c), nil
}

// decision is what Authorize learned about one request, for its answer and
// its log line.
type decision struct {
	req     *events.APIGatewayCustomAuthorizerRequestTypeRequest
	outcome tokens.Outcome
	service string
	// serviceValue is service as a context value, boxed once per
	// deployment (Authorizer.catalogue).
	serviceValue any
	cred         *tokens.Credential // nil until the store answered
	decision     accesslog.Decision
	err          error
	// path and query are the request's as usage records them, worked out
	// once for both the context and the log line.
	path, query string
	redacted    bool
	facts       tokenFacts // the token's part of the context
}

// redact works the request's redacted path and query out, once.
func (d *decision) redact() (path, query string) {
	if !d.redacted {
		d.path = redact.RequestPath(d.req.Resource, d.req.PathParameters)
		d.query = redact.RequestQuery(d.req.QueryStringParameters, d.req.MultiValueQueryStringParameters)
		d.redacted = true
	}
	return d.path, d.query
}

func (d *decision) unauthorized() (events.APIGatewayCustomAuthorizerResponse, error) {
	d.decision = accesslog.DecisionUnauthorized
	return events.APIGatewayCustomAuthorizerResponse{}, apigw.ErrUnauthorized
}

func (d *decision) fail(err error) (events.APIGatewayCustomAuthorizerResponse, error) {
	d.decision, d.err = accesslog.DecisionError, err
	return events.APIGatewayCustomAuthorizerResponse{}, err
}

// context is the authorizer context handed to the backend and to the
// access log. Settings travel as one JSON object string because API
// Gateway context values are flat; see the package doc for reading it. The
// request's path and query are here, redacted, because the access log may
// not log $context.path (it can hold a token).
func (d *decision) context(withSettings bool) map[string]any {
	f := &d.facts
	c := make(map[string]any, 11) // room for a Deny's error code and message
	c[authctx.AccountID] = f.accountID
	c[authctx.TokenID] = f.tokenID
	c[authctx.TokenType] = f.tokenType
	c[authctx.UserID] = f.userID
	c[authctx.Service] = d.serviceValue // a catalogue ID, or ""
	if d.serviceValue == nil {
		c[authctx.Service] = ""
	}
	path, query := d.redact()
	c[authctx.Path], c[authctx.Query] = path, query
	c[authctx.Outcome] = outcomeValues[d.outcome]
	if withSettings {
		c[authctx.Settings] = f.settings
	}
	return c
}

// outcomeValues holds each outcome's code boxed once, as a context value.
var outcomeValues = func() map[tokens.Outcome]any {
	m := map[tokens.Outcome]any{}
	for o := tokens.Outcome(0); o.Code() != ""; o++ {
		m[o] = o.Code()
	}
	return m
}()

// tokenTypeValues holds each token type boxed once, as a context value.
var tokenTypeValues = map[tokens.TokenType]any{tokens.TokenUser: string(tokens.TokenUser), tokens.TokenUserless: string(tokens.TokenUserless)}

// tokenFacts is what a token contributes to every answer's context, as
// context values. A cached token keeps its facts beside it (cachedStore),
// so a hot token's settings are encoded once per fill, not once per call.
type tokenFacts struct {
	accountID, tokenID, tokenType, userID, settings any
}

func newTokenFacts(t tokens.Token) tokenFacts {
	return tokenFacts{
		accountID: t.AccountID, tokenID: t.ID, tokenType: tokenTypeValues[t.Type()], userID: t.UserID,
		settings: settingsJSON(t.Settings),
	}
}

// logDecision writes the one line of a decision (accesslog.DecisionLine,
// which redacts it): never the token, never the raw path.
func (a *Authorizer) logDecision(ctx context.Context, d *decision, took time.Duration) {
	req := d.req
	path, query := d.redact()
	line := accesslog.DecisionLine{
		RequestID:  req.RequestContext.RequestID,
		Decision:   d.decision,
		Status:     d.decision.Status(),
		Service:    d.service,
		HTTPMethod: req.HTTPMethod,
		Resource:   req.Resource,
		Path:       path,
		Query:      query,
		SourceIP:   req.RequestContext.Identity.SourceIP,
		LatencyUs:  took.Microseconds(),
	}
	if d.err == nil {
		line.Outcome = d.outcome.Code()
	} else {
		line.Error = d.err.Error()
	}
	if d.cred != nil {
		t := &d.cred.Token
		line.AccountID, line.TokenID, line.TokenType, line.UserID = t.AccountID, t.ID, string(t.Type()), t.UserID
	}
	line.Log(ctx, a.log)
}
