// Package keyauth is the REQUEST authorizer of the account-admin routes: it
// admits a request that presents, as Authorization: Bearer, the current API
// key of an active account, and hands the account ID, key ID and key
// generation to the functions behind it (pkg/authctx). The generation is
// what rule 7 turns on: a token the request creates belongs to that key,
// and a rotation it asks for succeeds only while that key is current.
//
// It has the shape of pkg/authz and shares its words: a typed Outcome per
// request, decided from the one credential apigw.Credential gathers from
// the Authorization headers, and a decision line whose decision
// (accesslog.Decision) and field names are the token authorizer's. It reads the store on every
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

	"github.com/acmedata/tokenservice/pkg/accesslog"
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

// outcomeCodes name the key's outcomes; where a token's outcome is the same
// fact (valid, account closed) the code is the token's.
var outcomeCodes = map[Outcome]string{
	Valid:         tokens.Valid.Code(),
	Missing:       "api_key_missing",
	Malformed:     "api_key_malformed",
	Ambiguous:     "api_key_ambiguous",
	Unknown:       "api_key_unknown",
	AccountClosed: tokens.AccountClosed.Code(),
}

// presentedOutcomes are the refusals (and Valid) that gathering a
// request's keys can end in.
var presentedOutcomes = [...]Outcome{
	apigw.PresentedNone:      Missing,
	apigw.PresentedOne:       Valid,
	apigw.PresentedMalformed: Malformed,
	apigw.PresentedAmbiguous: Ambiguous,
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
// or why there is none (apigw.Credential, as pkg/authz reads a token).
func (a *Authorizer) extractKey(req *events.APIGatewayCustomAuthorizerRequestTypeRequest) (string, Outcome) {
	c := apigw.NewCredential(a.isKey)
	c.AddBearer(req.Headers, req.MultiValueHeaders)
	key, presented := c.Result()
	return key, presentedOutcomes[presented]
}

// isKey reports whether v is shaped like one of the deployment's keys.
func (a *Authorizer) isKey(v string) bool { return secret.IsAPIKey(a.prefix, v) }

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

// Log field names of the decision line: the token authorizer's
// (accesslog.DecisionLine) but for the key's ID.
const (
	LogMessage      = "api key decision"
	LogRequestID    = accesslog.FieldRequestID
	LogDecision     = accesslog.FieldDecision // allow, unauthorized, error
	LogStatus       = accesslog.FieldStatus   // 401 or 500; absent on allow
	LogOutcome      = accesslog.FieldOutcome  // an Outcome code; absent on error
	LogAccountID    = accesslog.FieldAccountID
	LogAPIKeyID     = "apiKeyId"
	LogHTTPMethod   = accesslog.FieldHTTPMethod
	LogResource     = accesslog.FieldResource
	LogSourceIP     = accesslog.FieldSourceIP
	LogLatencyMicro = accesslog.FieldLatencyUs
	LogError        = accesslog.FieldError
)

func (a *Authorizer) logDecision(ctx context.Context, req *events.APIGatewayCustomAuthorizerRequestTypeRequest, d *decision, took time.Duration) {
	level, verdict := slog.LevelInfo, accesslog.DecisionAllow
	switch {
	case d.err != nil:
		level, verdict = slog.LevelError, accesslog.DecisionError
	case d.outcome != Valid:
		verdict = accesslog.DecisionUnauthorized
	}
	attrs := []slog.Attr{
		slog.String(LogRequestID, req.RequestContext.RequestID),
		slog.String(LogDecision, string(verdict)),
	}
	if status := verdict.Status(); status != 0 {
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
