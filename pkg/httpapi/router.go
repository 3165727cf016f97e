package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/authctx"
)

// Route handles one route: it returns the status and the value to encode as
// the JSON body (nil for none), or an error for ErrorResponse to answer.
type Route func(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error)

// Router dispatches API Gateway proxy events to routes by method and
// resource template (the event's Resource, e.g. /admin/users/{userId}).
type Router struct {
	routes map[string]Route
	log    *slog.Logger
}

// NewRouter returns an empty router that logs through log.
func NewRouter(log *slog.Logger) *Router {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Router{routes: map[string]Route{}, log: log}
}

// Handle registers h for method on resource.
func (r *Router) Handle(method, resource string, h Route) {
	r.routes[method+" "+resource] = h
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
	r.logRequest(ctx, req, resp.StatusCode, time.Since(start), err)
	return resp, nil
}

func (r *Router) call(ctx context.Context, h Route, req events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			resp = ErrorResponse(err)
		}
	}()
	status, body, err := h(ctx, req)
	if err != nil {
		return ErrorResponse(err), err
	}
	return JSON(status, body), nil
}

// logRequest writes one line per request: enough for an operator to find
// a failing call by request ID, never the raw path (a data path can carry a
// token) nor the body.
func (r *Router) logRequest(ctx context.Context, req events.APIGatewayProxyRequest, status int, took time.Duration, err error) {
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
	level := slog.LevelInfo
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
		if status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
	}
	r.log.LogAttrs(ctx, level, "request", attrs...)
}
