// Package apperr is the service's one vocabulary of failure: a Kind that
// callers branch on, a public code and message kept apart from the internal
// cause, and sentinels for errors.Is. The domain, the stores and the usage
// history report failures in these terms; pkg/httpapi maps each Kind to one
// HTTP status in one place.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies a failure for callers that branch on it. The HTTP layer
// maps each kind to one status in one place; nothing else looks at statuses.
type Kind int

// The kinds of failure the domain reports.
const (
	KindInternal     Kind = iota // a bug or an unexpected dependency failure
	KindInvalid                  // the input breaks a rule (400)
	KindNotFound                 // no such resource in the caller's account (404)
	KindConflict                 // the request clashes with the current state (409)
	KindThrottled                // the store asked us to slow down (429)
	KindUnavailable              // the store cannot be reached (503)
	KindUnauthorized             // the caller's credential is no longer valid (401)
)

// Sentinels for errors.Is checks; every *Error matches the sentinel of its kind.
var (
	ErrInvalid     = errors.New("invalid input")
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflict")
	ErrThrottled   = errors.New("throttled")
	ErrUnavailable = errors.New("store unavailable")
	// ErrUnauthorized matches a credential that stopped being valid while
	// its request ran (an API key replaced meanwhile).
	ErrUnauthorized = errors.New("unauthorized")

	// ErrStale is returned by a store when a conditional write lost a race:
	// the item changed since it was read. The service re-reads and retries;
	// it never reaches a caller as such.
	ErrStale = errors.New("stale write")
)

// Error is a domain failure with a public code and message kept apart from
// its internal cause, which is logged but never shown to a caller.
type Error struct {
	Kind    Kind
	Code    string // snake_case, stable, for clients to branch on
	Message string // a human sentence, safe to show
	Cause   error  // internal detail, for logs only
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// Is makes errors.Is(err, ErrNotFound) and friends true for every *Error of
// the matching kind.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrInvalid:
		return e.Kind == KindInvalid
	case ErrNotFound:
		return e.Kind == KindNotFound
	case ErrConflict:
		return e.Kind == KindConflict
	case ErrThrottled:
		return e.Kind == KindThrottled
	case ErrUnavailable:
		return e.Kind == KindUnavailable
	case ErrUnauthorized:
		return e.Kind == KindUnauthorized
	}
	return false
}

// Invalid reports bad input; field names the offending input.
func Invalid(code, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports a missing resource; what names it ("token", "user").
func NotFound(what string) *Error {
	return &Error{Kind: KindNotFound, Code: what + "_not_found", Message: what + " not found"}
}

// Conflict reports a clash with the current state.
func Conflict(code, format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Unauthorized reports a credential that is no longer valid.
func Unauthorized(code, format string, args ...any) *Error {
	return &Error{Kind: KindUnauthorized, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Unavailable wraps a store failure that a retry may cure.
func Unavailable(cause error) *Error {
	return &Error{Kind: KindUnavailable, Code: "store_unavailable", Message: "the token store is unavailable, try again", Cause: cause}
}

// Throttled wraps a store throttling failure.
func Throttled(cause error) *Error {
	return &Error{Kind: KindThrottled, Code: "throttled", Message: "too many requests, slow down and retry", Cause: cause}
}
