package tokens

import (
	"slices"
	"time"
)

// Credential is everything the authorizer needs to decide on a token, as a
// store returns it for one lookup by the secret's hash. The account and user
// fields are the state the token is gated by; a store keeps them current
// (the DynamoDB store copies them onto the credential item on every change so
// that a decision costs one GetItem).
type Credential struct {
	Token                Token
	AccountStatus        AccountStatus
	AccountServices      []string
	AccountKeyGeneration int64
	// UserAccess is true when the token's user exists and has access to the
	// token's service; meaningless for userless tokens.
	UserAccess bool
}

// Outcome is the typed result of verifying a token for a request.
type Outcome int

// Verification outcomes. Every outcome but Valid refuses the request.
const (
	Valid                Outcome = iota
	Missing                      // no token presented
	Malformed                    // not 32 lowercase hex
	Ambiguous                    // two different tokens in one request
	Unknown                      // no such token (never made, or deleted)
	Disabled                     // disabled by an admin
	KeyReplaced                  // made under an API key that has been replaced
	Expired                      // past its expiry
	AccountClosed                // its account is closed
	WrongService                 // valid, but for another service
	ServiceNotSubscribed         // the account no longer has the service
	AccessOff                    // the user's access to the service is off
)

var outcomeCodes = map[Outcome]string{
	Valid:                "valid",
	Missing:              "token_missing",
	Malformed:            "token_malformed",
	Ambiguous:            "token_ambiguous",
	Unknown:              "token_unknown",
	Disabled:             "token_disabled",
	KeyReplaced:          "token_api_key_replaced",
	Expired:              "token_expired",
	AccountClosed:        "account_closed",
	WrongService:         "token_wrong_service",
	ServiceNotSubscribed: "service_not_subscribed",
	AccessOff:            "user_access_off",
}

// Code is the snake_case code of the outcome, for logs and usage records.
func (o Outcome) Code() string { return outcomeCodes[o] }

func (o Outcome) String() string { return o.Code() }

// Forbidden reports whether the outcome is a refusal of a genuine token for
// this particular request (403) rather than of the token itself (401).
func (o Outcome) Forbidden() bool {
	return o == WrongService || o == ServiceNotSubscribed || o == AccessOff
}

// Verify decides whether c may call service at now. The order matters: a
// token that is unusable everywhere is reported as such (401) before any
// per-request refusal (403).
func Verify(c Credential, service string, now time.Time) Outcome {
	t := c.Token
	switch {
	case c.AccountStatus != AccountStatusActive:
		return AccountClosed
	case t.KeyGeneration < c.AccountKeyGeneration || (!t.Enabled && t.DisabledReason == DisabledAPIKeyReplaced):
		return KeyReplaced
	case !t.Enabled:
		return Disabled
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return Expired
	case t.Service != service:
		return WrongService
	case !slices.Contains(c.AccountServices, service):
		return ServiceNotSubscribed
	case t.UserID != "" && !c.UserAccess:
		return AccessOff
	}
	return Valid
}
