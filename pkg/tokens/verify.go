package tokens

import (
	"slices"
	"time"

	"github.com/acmedata/tokenservice/pkg/restrict"
)

// Credential is everything the authorizer needs to decide on a token: the
// token's own record and the gates it shares with the other tokens of its
// account (and of its user). Stores keep no copies of the gates on the
// token, so an account-wide change writes one gate item, never one item per
// token (docs/data-model.md).
type Credential struct {
	Token   Token
	Account AccountGate
	// User is the token's user's gate; the zero value for a userless token.
	User UserGate
}

// AccountGate is what of an account decides every one of its tokens.
type AccountGate struct {
	Status        AccountStatus
	Services      []string
	KeyGeneration int64 // the current API key's generation
	// UsageKeys are the gateway's usage keys of the account's plans, by
	// service, as the reconciler made them in the engine (absent for a
	// service without a plan, or whose key is not made yet).
	UsageKeys map[string]string
}

// Gate returns the account's gate.
func (a Account) Gate() AccountGate {
	return AccountGate{Status: a.Status, Services: a.Services, KeyGeneration: a.APIKey.Generation, UsageKeys: a.UsageKeys}
}

// UsageKey is the gateway's usage key that counts a call of the token to
// service: its own plan's, else its account's plan's for the service, else
// "" (no plan: the caller counts the call under the deployment's unlimited
// key). A plan whose key the reconciler has not made yet falls back the
// same way until it has, within the 60 s PRODUCT.md allows.
func (c Credential) UsageKey(service string) string {
	if c.Token.PlanID != "" && c.Token.UsageKey != "" {
		return c.Token.UsageKey
	}
	return c.Account.UsageKeys[service]
}

// UserGate is what of a user decides its tokens: its access per service.
type UserGate struct {
	Access map[string]bool
}

// Gate returns the user's gate.
func (u User) Gate() UserGate { return UserGate{Access: u.Access} }

// Outcome is the typed result of verifying a token for a request.
type Outcome int

// Verification outcomes. Every outcome but Valid refuses the request.
const (
	Valid                Outcome = iota
	Missing                      // no token presented
	Malformed                    // not 32 lowercase hex, or its check fails
	Ambiguous                    // two different tokens in one request
	Unknown                      // no such token (never made, or deleted)
	Disabled                     // disabled by an admin
	KeyReplaced                  // made under an API key that has been replaced
	Expired                      // past its expiry
	AccountClosed                // its account is closed
	WrongService                 // valid, but for another service
	ServiceNotSubscribed         // the account no longer has the service
	AccessOff                    // the user's access to the service is off
	OriginNotAllowed             // the request's origin is outside the token's restrictions
	IPNotAllowed                 // the source IP is outside the token's restrictions
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
	OriginNotAllowed:     "origin_not_allowed",
	IPNotAllowed:         "ip_not_allowed",
}

// Code is the snake_case code of the outcome, for logs and usage records.
func (o Outcome) Code() string { return outcomeCodes[o] }

func (o Outcome) String() string { return o.Code() }

// forbiddenMessages are the sentences a caller reads with a 403, one per
// Forbidden outcome. They say what the request lacks, never anything of
// the token's account.
var forbiddenMessages = map[Outcome]string{
	WrongService:         "This token is for another service.",
	ServiceNotSubscribed: "The token's account does not subscribe to this service.",
	AccessOff:            "The token's user has no access to this service.",
	OriginNotAllowed:     "The token may not be used from this web origin.",
	IPNotAllowed:         "The token may not be used from this IP address.",
}

// Message is the human sentence of a Forbidden outcome's 403, "" for the
// others (their 401 says the same for every reason, on purpose).
func (o Outcome) Message() string { return forbiddenMessages[o] }

// Forbidden reports whether the outcome is a refusal of a genuine token for
// this particular request (403) rather than of the token itself (401).
func (o Outcome) Forbidden() bool {
	return o == WrongService || o == ServiceNotSubscribed || o == AccessOff || o == OriginNotAllowed || o == IPNotAllowed
}

// Restricted checks a valid token's restrictions against where the
// request came from: Valid, OriginNotAllowed or IPNotAllowed. The policy
// was compiled when the token was read, so this parses nothing but the
// request's own headers, and nothing at all for an unrestricted token.
func Restricted(t Token, req restrict.Request) Outcome {
	switch t.Restrictions.Check(req) {
	case restrict.OriginNotAllowed:
		return OriginNotAllowed
	case restrict.IPNotAllowed:
		return IPNotAllowed
	}
	return Valid
}

// Verify decides whether c may call service at now. The order matters: a
// token that is unusable everywhere is reported as such (401) before any
// per-request refusal (403).
func Verify(c Credential, service string, now time.Time) Outcome {
	t := c.Token
	switch {
	case c.Account.Status != AccountStatusActive:
		return AccountClosed
	case t.KeyGeneration < c.Account.KeyGeneration || (!t.Enabled && t.DisabledReason == DisabledAPIKeyReplaced):
		return KeyReplaced
	case !t.Enabled:
		return Disabled
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return Expired
	case t.Service != service:
		return WrongService
	case !slices.Contains(c.Account.Services, service):
		return ServiceNotSubscribed
	case t.UserID != "" && !c.User.Access[service]:
		return AccessOff
	}
	return Valid
}
