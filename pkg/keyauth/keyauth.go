// Package keyauth is the REQUEST authorizer of the account-admin routes: it
// admits a request that presents, as Authorization: Bearer, the current API
// key of an active account, and hands the account ID, key ID and key
// generation to the functions behind it (pkg/authctx). The generation is
// what rule 7 turns on: a token the request creates belongs to that key,
// and a rotation it asks for succeeds only while that key is current.
//
// It has the shape of pkg/authz: a typed Outcome per request, decided from
// the credential apigw.BearerValues reads. It reads the store on every
// request, with no cache: a replaced key must stop at once.
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

// Outcome is the typed result of checking a request's API key.
type Outcome int

// Outcomes; every one but Valid refuses the request with a 401.
const (
	Valid         Outcome = iota
	Missing               // no API key presented
	Malformed             // not shaped like one of the deployment's keys
	Ambiguous             // two different keys in one request
	Unknown               // never issued, or replaced
	AccountClosed         // the key's account is closed
)

var outcomeCodes = map[Outcome]string{
	Valid:         "valid",
	Missing:       "api_key_missing",
	Malformed:     "api_key_malformed",
	Ambiguous:     "api_key_ambiguous",
	Unknown:       "api_key_unknown",
	AccountClosed: "account_closed",
}

// Code is the snake_case code of the outcome, as logged.
func (o Outcome) Code() string { return outcomeCodes[o] }

func (o Outcome) String() string { return o.Code() }

// decision is what Authorize learned about one request, for its answer and
// its log line.
type decision struct {
	outcome Outcome
	owner   tokens.KeyOwner // set once the store answered
	err     error           // a failure to decide (500)
}

// Authorize decides one request.
func (a *Authorizer) Authorize(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	start := time.Now()
	var d decision
	resp, err := a.decide(ctx, &req, &d)
	a.logDecision(ctx, &req, &d, time.Since(start))
	return resp, err
}

func (a *Authorizer) decide(ctx context.Context, req *events.APIGatewayCustomAuthorizerRequestTypeRequest, d *decision) (events.APIGatewayCustomAuthorizerResponse, error) {
	var key string
	if key, d.outcome = a.extractKey(req); d.outcome != Valid {
		return events.APIGatewayCustomAuthorizerResponse{}, apigw.ErrUnauthorized
	}
	arn, err := apigw.ParseMethodARN(req.MethodArn)
	if err != nil {
		d.err = err
		return events.APIGatewayCustomAuthorizerResponse{}, err
	}
	d.owner, err = a.store.KeyOwner(ctx, secret.Hash(key))
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		d.outcome = Unknown
		return events.APIGatewayCustomAuthorizerResponse{}, apigw.ErrUnauthorized
	case err != nil:
		d.err = fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
		return events.APIGatewayCustomAuthorizerResponse{}, d.err
	case d.owner.AccountStatus != tokens.AccountStatusActive:
		d.outcome = AccountClosed
		return events.APIGatewayCustomAuthorizerResponse{}, apigw.ErrUnauthorized
	}
	resources := make([]string, len(adminPatterns))
	for i, p := range adminPatterns {
		resources[i] = arn.Stage + p
	}
	return apigw.Allow(d.owner.KeyID, resources, map[string]any{
		authctx.AccountID:        d.owner.AccountID,
		authctx.APIKeyID:         d.owner.KeyID,
		authctx.APIKeyGeneration: d.owner.KeyGeneration,
	}), nil
}

// extractKey returns the one API key the Authorization headers present,
// or why there is none.
func (a *Authorizer) extractKey(req *events.APIGatewayCustomAuthorizerRequestTypeRequest) (string, Outcome) {
	key, outcome := "", Missing
	apigw.BearerValues(req.Headers, req.MultiValueHeaders, func(v string) bool {
		switch {
		case !secret.IsAPIKey(a.prefix, v):
			key, outcome = "", Malformed
		case outcome == Missing:
			key, outcome = v, Valid
		case v != key:
			key, outcome = "", Ambiguous
		}
		return outcome == Valid
	})
	return key, outcome
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
	LogOutcome      = "outcome"  // an Outcome code; absent on error
	LogAccountID    = "accountId"
	LogAPIKeyID     = "apiKeyId"
	LogHTTPMethod   = "httpMethod"
	LogResource     = "resource"
	LogSourceIP     = "sourceIp"
	LogLatencyMicro = "latencyUs"
	LogError        = "error"
)

func (a *Authorizer) logDecision(ctx context.Context, req *events.APIGatewayCustomAuthorizerRequestTypeRequest, d *decision, took time.Duration) {
	level, verdict, status := slog.LevelInfo, "allow", 0
	switch {
	case d.err != nil:
		level, verdict, status = slog.LevelError, "error", 500
	case d.outcome != Valid:
		verdict, status = "unauthorized", 401
	}
	attrs := []slog.Attr{
		slog.String(LogRequestID, req.RequestContext.RequestID),
		slog.String(LogDecision, verdict),
	}
	if status != 0 {
		attrs = append(attrs, slog.Int(LogStatus, status))
	}
	if d.err == nil {
		attrs = append(attrs, slog.String(LogOutcome, d.outcome.Code()))
	}
	if d.owner.AccountID != "" {
		attrs = append(attrs, slog.String(LogAccountID, d.owner.AccountID), slog.String(LogAPIKeyID, d.owner.KeyID))
	}
	attrs = append(attrs,
		slog.String(LogHTTPMethod, req.HTTPMethod),
		slog.String(LogResource, req.Resource),
		slog.String(LogSourceIP, req.RequestContext.Identity.SourceIP),
		slog.Int64(LogLatencyMicro, took.Microseconds()),
	)
	if d.err != nil {
		attrs = append(attrs, slog.String(LogError, d.err.Error()))
	}
	a.log.LogAttrs(ctx, level, LogMessage, attrs...)
}
