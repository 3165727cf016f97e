package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/authctx"
	"github.com/acmedata/tokenservice/pkg/routes"
)

// Route handles one route: it returns the status and the value to encode as
// the JSON body (nil for none), or an error for ErrorResponse to answer.
type Route func(ctx context.Context, req Request) (int, any, error)

// Request is a proxy event as a route sees it.
type Request struct {
	events.APIGatewayProxyRequest
	// Account is the account the authorizer authenticated: set on every
	// route behind the API-key or the token authorizer, empty otherwise.
	Account string
}

// Param returns a path parameter. API Gateway only routes a request to a
// template when every parameter is present, and the domain refuses
// malformed IDs as not found, so an absent one needs no special case.
func (r Request) Param(name string) string { return r.PathParameters[name] }

// KeyGeneration is the generation of the API key the API-key authorizer
// admitted (0 on other routes): what the request creates belongs to that
// key, and holds only while it is current (rule 7).
func (r Request) KeyGeneration() int64 {
	return authctx.Int(r.RequestContext.Authorizer, authctx.APIKeyGeneration)
}

// Decode decodes an optional body strictly into v (see Decode).
func (r Request) Decode(v any) error { return Decode(r.APIGatewayProxyRequest, v) }

// DecodeRequired decodes a required body strictly into v (see
// DecodeRequired).
func (r Request) DecodeRequired(v any) error { return DecodeRequired(r.APIGatewayProxyRequest, v) }

// Result turns a domain call's outcome into a route's answer, rendering the
// value through view.
func Result[T, V any](status int, view func(T) V, v T, err error) (int, any, error) {
	if err != nil {
		return 0, nil, err
	}
	return status, view(v), nil
}

// NoContent answers 204 unless err.
func NoContent(err error) (int, any, error) {
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// Handlers maps each route of one function to the handler that serves it.
type Handlers map[routes.Route]Route

// Router dispatches API Gateway proxy events to routes by method and
// resource template (the event's Resource, e.g. /admin/users/{userId}).
type Router struct {
	routes map[string]registered
	log    *slog.Logger
}

type registered struct {
	route Route
	// needAccount: the route is behind one of our authorizers, so a
	// request without an authenticated account never reaches the handler.
	needAccount bool
	auth        routes.Auth
	// query is the set of query parameters the route reads; nil when
	// the route takes any (routes.Route.StrictQuery).
	query map[string]bool
}

// NewRouter returns the router of function fn, logging through log. It
// refuses handlers that do not match routes.Of(fn) one for one: a route of
// fn without a handler, or a handler for a route fn does not serve, is a
// wiring bug to catch at cold start, not at the first request.
func NewRouter(fn routes.Function, log *slog.Logger, handlers Handlers) (*Router, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Router{routes: make(map[string]registered, len(handlers)), log: log}
	for _, rt := range routes.Of(fn) {
		h, ok := handlers[rt]
		if !ok || h == nil {
			return nil, fmt.Errorf("httpapi: function %s: no handler for route %s", fn, rt)
		}
		reg := registered{route: h, needAccount: rt.Auth == routes.APIKeyAuth || rt.Auth == routes.TokenAuth, auth: rt.Auth}
		if rt.StrictQuery() {
			reg.query = map[string]bool{}
			for _, name := range routes.Query[rt] {
				reg.query[name] = true
			}
		}
		r.routes[rt.Method+" "+rt.Path] = reg
	}
	if len(r.routes) != len(handlers) {
		for rt := range handlers {
			if rt.Function != fn || !slices.Contains(routes.All, rt) {
				return nil, fmt.Errorf("httpapi: function %s: a handler for %s, which is not one of its routes", fn, rt)
			}
		}
	}
	return r, nil
}

// Serve answers one event. It never returns an error: API Gateway would
// turn one into a bare 502, so every failure becomes a JSON error body.
func (r *Router) Serve(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	start := time.Now()
	h, ok := r.routes[req.HTTPMethod+" "+req.Resource]
	var resp events.APIGatewayProxyResponse
	var err error
	if !ok {
		err = ErrNoRoute
		resp = ErrorResponse(err)
	} else {
		resp, err = r.call(ctx, h, req)
	}
	r.logRequest(ctx, req, h.auth, resp.StatusCode, time.Since(start), err)
	return resp, nil
}

func (r *Router) call(ctx context.Context, h registered, req events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			resp = ErrorResponse(err)
		}
	}()
	account := authctx.String(req.RequestContext.Authorizer, authctx.AccountID)
	if h.needAccount && account == "" {
		return ErrorResponse(ErrUnauthorized), ErrUnauthorized
	}
	if err := h.knownQuery(req); err != nil {
		return ErrorResponse(err), err
	}
	if who, ok := caller(h.auth, req); ok {
		ctx = audit.WithRequest(ctx, who)
	}
	status, body, err := h.route(ctx, Request{APIGatewayProxyRequest: req, Account: account})
	if err != nil {
		return ErrorResponse(err), err
	}
	return JSON(status, body), nil
}

// knownQuery refuses a query parameter the route does not read. The
// message lists what the route reads, never what was sent: a caller may
// paste a secret anywhere.
func (h registered) knownQuery(req events.APIGatewayProxyRequest) error {
	if h.query == nil {
		return nil
	}
	for name := range req.QueryStringParameters {
		if !h.query[name] {
			return h.unknownQuery()
		}
	}
	for name := range req.MultiValueQueryStringParameters {
		if !h.query[name] {
			return h.unknownQuery()
		}
	}
	return nil
}

func (h registered) unknownQuery() error {
	if len(h.query) == 0 {
		return apperr.Invalid("unknown_query_parameter", "this route takes no query parameters")
	}
	return apperr.Invalid("unknown_query_parameter", "the query has a parameter that is not one of %s (names are case-sensitive)", strings.Join(slices.Sorted(maps.Keys(h.query)), ", "))
}

// caller is who makes a request on a route protected by auth, for the
// audit log, from what API Gateway alone sets: the API key the key
// authorizer admitted (by its ID), or the IAM principal that signed an
// operator's request (the local gateway sets the same for the operator
// key); the source IP and user agent as API Gateway saw them. Routes of
// no admin or operator have no caller; the domain refuses their writes.
func caller(auth routes.Auth, req events.APIGatewayProxyRequest) (audit.Request, bool) {
	id := req.RequestContext.Identity
	var actor audit.Actor
	switch auth {
	case routes.APIKeyAuth:
		actor = audit.APIKey(authctx.String(req.RequestContext.Authorizer, authctx.APIKeyID))
		if actor.KeyID == "" {
			return audit.Request{}, false
		}
	case routes.IAMAuth:
		principal := operatorPrincipal(id)
		if principal == "" {
			return audit.Request{}, false
		}
		actor = audit.Operator(principal)
	default:
		return audit.Request{}, false
	}
	return audit.NewRequest(actor, id.SourceIP, id.UserAgent), true
}

// operatorPrincipal is the IAM principal that signed an operator's
// request: its ARN, else API Gateway's caller ID (a principal API Gateway
// gives no ARN for). Only caller reads it: the audit entry, the router's
// request line and the operator handler's line all take the principal
// from caller's audit.Request, so they cannot disagree.
func operatorPrincipal(id events.APIGatewayRequestIdentity) string {
	if id.UserArn != "" {
		return id.UserArn
	}
	return id.Caller
}

// logRequest writes one line per request: enough for an operator to find
// a failing call by request ID, never the raw path (a data path can carry a
// token) nor the body. An operator route's line names its principal, so a
// refused or failed operator call is attributed as a change is.
func (r *Router) logRequest(ctx context.Context, req events.APIGatewayProxyRequest, auth routes.Auth, status int, took time.Duration, err error) {
	attrs := []slog.Attr{
		slog.String("requestId", req.RequestContext.RequestID),
		slog.String("method", req.HTTPMethod),
		slog.String("resource", req.Resource),
		slog.Int("status", status),
		slog.Int64("latencyMs", took.Milliseconds()),
	}
	if acc := authctx.String(req.RequestContext.Authorizer, authctx.AccountID); acc != "" {
		attrs = append(attrs, slog.String("accountId", acc))
	}
	if who, ok := caller(auth, req); ok && who.Actor.Type == audit.ActorOperator {
		attrs = append(attrs, slog.String("principal", who.Actor.Principal))
	}
	level := slog.LevelInfo
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
		if status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
	}
	r.log.LogAttrs(ctx, level, "request", attrs...)
}
