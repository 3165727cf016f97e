package audit

import (
	"context"
	"errors"

	"github.com/acmedata/tokenservice/pkg/redact"
)

// Request is who asks for a change and from where, as API Gateway saw the
// request: the actor its authorizer (or IAM) authenticated, the source IP
// and the user agent.
type Request struct {
	Actor     Actor
	SourceIP  string
	UserAgent string
}

// Bounds of the request's free text on an entry: a user agent is the
// caller's to write, so it is cut and redacted of anything token-shaped
// (redact.String) before it reaches a table.
const (
	MaxUserAgent = 512
	MaxSourceIP  = 64
)

// NewRequest returns the request of actor from sourceIP with userAgent,
// redacted and bounded.
func NewRequest(actor Actor, sourceIP, userAgent string) Request {
	return Request{Actor: actor, SourceIP: redact.String(sourceIP, MaxSourceIP), UserAgent: redact.String(userAgent, MaxUserAgent)}
}

// The request travels to the domain in the context, under a key of a type
// of this package. It is request-scoped metadata that crosses the handler
// and the domain untouched by the layers between, like a deadline: passing
// it as a parameter would add one to every write of tokens.Manager and to
// every handler interface for a value no use case decides on. What makes
// it safe is that its absence is not a default: tokens.Manager refuses
// (ErrNoRequest) a write whose context carries no request, so no change
// can commit unattributed.
type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// ErrNoRequest is a write attempted without a Request in its context: a
// wiring bug (a handler that did not attach the caller), never the
// caller's fault, so it maps to 500.
var ErrNoRequest = errors.New("audit: no request in the context of a write")

// RequestFrom returns the request ctx carries, or ErrNoRequest.
func RequestFrom(ctx context.Context) (Request, error) {
	r, ok := ctx.Value(requestKey{}).(Request)
	if !ok || !r.Actor.valid() {
		return Request{}, ErrNoRequest
	}
	return r, nil
}

// WithOperator returns ctx carrying the request of an operator principal
// with no network origin: the local stack's own setup (its demo account)
// and tools act so, under a name that says who they are.
func WithOperator(ctx context.Context, principal string) context.Context {
	return WithRequest(ctx, NewRequest(Operator(principal), "", ""))
}
