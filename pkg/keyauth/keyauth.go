// Package keyauth is the REQUEST authorizer of the account-admin routes: it
// admits a request that presents, as Authorization: Bearer, the current API
// key of an active account, and hands the account ID and key ID to the
// functions behind it (pkg/authctx).
//
// Like pkg/authz it answers 401 with apigw.ErrUnauthorized (missing,
// malformed, ambiguous, unknown or replaced key, closed account), refuses
// anything not shaped like an API key without a store call, and fails
// closed with a 500 when the store cannot answer. Its Allow names every
// /admin route of the same API and stage, method by method, and nothing
// else, so a cached Allow cannot open a data or operator route. One JSON
// log line per request records the decision; it never holds the key.
package keyauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/apigw"
	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/authctx"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// KeyOwnerReader resolves an API key's hash to its owner; an error matching
// apperr.ErrNotFound for an unknown or replaced key.
type KeyOwnerReader interface {
	KeyOwner(ctx context.Context, keyHash string) (tokens.KeyOwner, error)
}

// ErrStoreUnavailable wraps a failed lookup: the authorizer fails closed
// and API Gateway answers 500.
var ErrStoreUnavailable = errors.New("keyauth: key store unavailable")

// Options configure an Authorizer.
type Options struct {
	// APIKeyPrefix is the deployment's API key prefix
	// (tokens.DefaultAPIKeyPrefix if empty).
	APIKeyPrefix string
	// Logger receives one line per decision (nil discards).
	Logger *slog.Logger
}

// Authorizer is the API-key REQUEST authorizer. It is safe for concurrent
// use.
type Authorizer struct {
	store  KeyOwnerReader
	prefix string
	log    *slog.Logger
}

// New returns an Authorizer resolving keys through store.
func New(store KeyOwnerReader, opts Options) (*Authorizer, error) {
	if store == nil {
		return nil, errors.New("keyauth: nil key store")
	}
	a := &Authorizer{store: store, prefix: opts.APIKeyPrefix, log: opts.Logger}
	if a.prefix == "" {
		a.prefix = tokens.DefaultAPIKeyPrefix
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a, nil
}

// Why a request was refused, as logged.
const (
	reasonMissing       = "api_key_missing"
	reasonMalformed     = "api_key_malformed"
	reasonAmbiguous     = "api_key_ambiguous"
	reasonUnknown       = "api_key_unknown" // never issued, or replaced
	reasonAccountClosed = "account_closed"
)

// Authorize decides one request.
func (a *Authorizer) Authorize(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	start := time.Now()
	var owner tokens.KeyOwner
	resp, reason, err := a.decide(ctx, &req, &owner)
	a.logDecision(ctx, &req, owner, reason, err, time.Since(start))
	return resp, err
}

func (a *Authorizer) decide(ctx context.Context, req *events.APIGatewayCustomAuthorizerRequestTypeRequest, owner *tokens.KeyOwner) (events.APIGatewayCustomAuthorizerResponse, string, error) {
	key, reason := a.extractKey(req)
	if reason != "" {
		return events.APIGatewayCustomAuthorizerResponse{}, reason, apigw.ErrUnauthorized
	}
	arn, err := apigw.ParseMethodARN(req.MethodArn)
	if err != nil {
		return events.APIGatewayCustomAuthorizerResponse{}, "", err
	}
	*owner, err = a.store.KeyOwner(ctx, secret.Hash(key))
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		return events.APIGatewayCustomAuthorizerResponse{}, reasonUnknown, apigw.ErrUnauthorized
	case err != nil:
		return events.APIGatewayCustomAuthorizerResponse{}, "", fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	case owner.AccountStatus != tokens.AccountStatusActive:
		return events.APIGatewayCustomAuthorizerResponse{}, reasonAccountClosed, apigw.ErrUnauthorized
	}
	resources := make([]string, len(adminPatterns))
	for i, p := range adminPatterns {
		resources[i] = arn.Stage + p
	}
	return apigw.Allow(owner.KeyID, resources, map[string]any{
		authctx.AccountID: owner.AccountID,
		authctx.APIKeyID:  owner.KeyID,
	}), "", nil
}

// extractKey returns the one API key the Authorization headers present, or
// why there is none.
func (a *Authorizer) extractKey(req *events.APIGatewayCustomAuthorizerRequestTypeRequest) (key, reason string) {
	reason = reasonMissing
	apigw.BearerValues(req.Headers, req.MultiValueHeaders, func(v string) bool {
		switch {
		case !secret.IsAPIKey(a.prefix, v):
			key, reason = "", reasonMalformed
		case reason == reasonMissing:
			key, reason = v, ""
		case v != key:
			key, reason = "", reasonAmbiguous
		}
		return reason == ""
	})
	return key, reason
}

// adminPatterns name every admin route, one pattern per method in use
// (GET/admin/*, POST/admin/*, ...), derived from routes.All. The literal
// prefix METHOD/admin/ keeps the pattern inside the admin routes.
var adminPatterns = func() []string {
	var out []string
	for _, r := range routes.All {
		if r.Auth != routes.APIKeyAuth {
			continue
		}
		top, _, _ := strings.Cut(strings.TrimPrefix(r.Path, "/"), "/")
		if p := r.Method + "/" + top + "/*"; !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}()

// Log field names of the decision line.
const (
	LogMessage      = "api key decision"
	LogRequestID    = "requestId"
	LogDecision     = "decision" // allow, unauthorized, error
	LogStatus       = "status"   // 401 or 500; absent on allow
	LogReason       = "reason"   // why a request was refused
	LogAccountID    = "accountId"
	LogAPIKeyID     = "apiKeyId"
	LogHTTPMethod   = "httpMethod"
	LogResource     = "resource"
	LogSourceIP     = "sourceIp"
	LogLatencyMicro = "latencyUs"
	LogError        = "error"
)

func (a *Authorizer) logDecision(ctx context.Context, req *events.APIGatewayCustomAuthorizerRequestTypeRequest, owner tokens.KeyOwner, reason string, err error, took time.Duration) {
	level, decision, status := slog.LevelInfo, "allow", 0
	switch {
	case errors.Is(err, apigw.ErrUnauthorized):
		decision, status = "unauthorized", 401
	case err != nil:
		level, decision, status = slog.LevelError, "error", 500
	}
	attrs := []slog.Attr{
		slog.String(LogRequestID, req.RequestContext.RequestID),
		slog.String(LogDecision, decision),
	}
	if status != 0 {
		attrs = append(attrs, slog.Int(LogStatus, status))
	}
	if reason != "" {
		attrs = append(attrs, slog.String(LogReason, reason))
	}
	if owner.AccountID != "" {
		attrs = append(attrs, slog.String(LogAccountID, owner.AccountID), slog.String(LogAPIKeyID, owner.KeyID))
	}
	attrs = append(attrs,
		slog.String(LogHTTPMethod, req.HTTPMethod),
		slog.String(LogResource, req.Resource),
		slog.String(LogSourceIP, req.RequestContext.Identity.SourceIP),
		slog.Int64(LogLatencyMicro, took.Microseconds()),
	)
	if status == 500 {
		attrs = append(attrs, slog.String(LogError, err.Error()))
	}
	a.log.LogAttrs(ctx, level, LogMessage, attrs...)
}
