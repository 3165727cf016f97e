package tokens

import (
	"slices"
	"strings"
	"time"

	"github.com/acmedata/tokenservice/pkg/restrict"
)

// The revocation delay bounds how long a change that stops or restores a
// token (disable, delete, expiry, a user's access, a service removed, a key
// replaced, an account closed) may take to reach every request: the token
// authorizer may answer from memory that long (PRODUCT.md, "Revocation
// delay"). API-key changes take effect at once.
const (
	DefaultRevocationDelay = time.Second
	MaxRevocationDelay     = 60 * time.Second
)

// AccountStatus is an account's lifecycle state.
type AccountStatus string

// Account statuses.
const (
	AccountStatusActive AccountStatus = "active"
	AccountStatusClosed AccountStatus = "closed"
)

// Account is a customer organisation.
type Account struct {
	ID        string
	Name      string
	Status    AccountStatus
	Services  []string // subscribed service IDs, sorted
	APIKey    APIKey   // the one current key
	CreatedAt time.Time
	UpdatedAt time.Time
	// Plans are the account's plans by service (plans.Plan IDs): each one
	// budget shared by the service's tokens without a plan of their own.
	Plans map[string]string
	// UsageKeys are the gateway's usage keys of Plans, by service, once
	// the reconciler has made them (AccountGate.UsageKeys).
	UsageKeys map[string]string
}

// Subscribes reports whether the account has service.
func (a Account) Subscribes(service string) bool {
	return slices.Contains(a.Services, service)
}

// APIKey describes an account's current API key; the key itself is never kept.
type APIKey struct {
	ID        string
	Hint      string // last four characters
	CreatedAt time.Time
	// Generation increases with every replacement. A token remembers the
	// generation of the key that authorised its creation (or its last
	// enabling); a token of an older generation reads as disabled with
	// DisabledAPIKeyReplaced (rule 7, see Token.UnderKey).
	Generation int64
}

// KeyOwner is what an API key's hash resolves to: who the key belongs to and
// whether it is still the account's current key.
type KeyOwner struct {
	AccountID     string
	KeyID         string
	KeyGeneration int64
	AccountStatus AccountStatus
}

// User is a member of an account.
type User struct {
	AccountID string
	ID        string
	Email     string
	Name      string
	CreatedAt time.Time
	// Access maps service ID to the admin's on/off switch; absent is off.
	Access map[string]bool
}

// HasAccess reports whether the user's access to service is on.
func (u User) HasAccess(service string) bool { return u.Access[service] }

// TokenType tells user tokens from userless ones.
type TokenType string

// Token types.
const (
	TokenUser     TokenType = "user"
	TokenUserless TokenType = "userless"
)

// TokenStatus is a token's own state as shown to admins.
type TokenStatus string

// Token statuses.
const (
	StatusActive   TokenStatus = "active"
	StatusDisabled TokenStatus = "disabled"
	StatusExpired  TokenStatus = "expired"
)

// DisabledReason says why a token is disabled.
type DisabledReason string

// Reasons a token is disabled.
const (
	DisabledByAdmin        DisabledReason = "disabled_by_admin"
	DisabledAPIKeyReplaced DisabledReason = "api_key_replaced"
	// DisabledExposed: the token was reported found in public (a leak
	// report, POST /operator/leaks or GitHub's secret scanning). An admin
	// may enable it again.
	DisabledExposed DisabledReason = "exposed"
)

// Token is a data token's record. The secret itself is never part of it.
type Token struct {
	AccountID      string
	ID             string
	Name           string
	Service        string
	UserID         string // empty for a userless token
	SecretHash     string // SHA-256 of the secret, the authorizer's lookup key
	Hint           string // last four characters of the secret
	Enabled        bool
	DisabledReason DisabledReason // set while !Enabled
	CreatedAt      time.Time
	ExpiresAt      *time.Time
	LastUsedAt     *time.Time
	Settings       Settings
	// KeyGeneration is the generation of the API key that authorised the
	// token's creation or its last enabling.
	KeyGeneration int64
	// Restrictions are the origins and source IP ranges the token may be
	// used from, compiled: stores compile them when they read the token,
	// so the authorizer's cached token checks a request without parsing.
	Restrictions restrict.Policy
	// Protected tokens cannot be deleted (ErrTokenProtected) until an admin
	// unprotects them; disabling still works.
	Protected bool
	// ClonedFrom is the ID of the token this one was cloned from, if any.
	ClonedFrom string
	// PlanID is the token's own plan (plans.Plan), which overrides its
	// service's plan for the account; "" for none.
	PlanID string
	// UsageKey is the gateway's usage key of the token's own plan, once
	// the reconciler has made it in the engine ("" until then, and
	// without a plan of its own): see Credential.UsageKey.
	UsageKey string
}

// NameKey is the form of a token's (or an account's) name that name
// searches match a prefix of: lower case, so that a search is
// case-insensitive, and stores keep it in a sort key so that it costs a
// key range, never a scan.
func NameKey(name string) string { return strings.ToLower(name) }

// Type returns the token's type.
func (t Token) Type() TokenType {
	if t.UserID == "" {
		return TokenUserless
	}
	return TokenUser
}

// UnderKey returns the token as it stands while the account's current key
// has generation current: a token enabled under an older key reads as
// disabled with DisabledAPIKeyReplaced (rule 7). This is derived when read,
// never written, so a key replacement costs the same whatever the account
// holds.
func (t Token) UnderKey(current int64) Token {
	if t.Enabled && t.KeyGeneration < current {
		t.Enabled, t.DisabledReason = false, DisabledAPIKeyReplaced
	}
	return t
}

// Status returns the token's state at now. Call it on UnderKey's result.
func (t Token) Status(now time.Time) TokenStatus {
	switch {
	case !t.Enabled:
		return StatusDisabled
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return StatusExpired
	default:
		return StatusActive
	}
}

// Settings is the flat map an operator attaches to a token to restrict it.
// Values are string, float64 or bool (see ValidateSettings).
type Settings map[string]any

// Clone returns a copy that shares nothing with s.
func (s Settings) Clone() Settings {
	if s == nil {
		return Settings{}
	}
	out := make(Settings, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}

// Service is a protected data service offered by the deployment.
type Service struct {
	ID   string
	Name string
}

// ServiceStats are the counts the admin "General" tab shows for a service.
type ServiceStats struct {
	UsersWithAccess int
	UserTokens      int
	UserlessTokens  int
}

// TokenFilter narrows a token listing within one service.
type TokenFilter struct {
	Service string
	Type    TokenType   // optional
	UserID  string      // optional
	Status  TokenStatus // optional
	Now     time.Time   // the clock Status is evaluated against
	// KeyGeneration is the account's current key generation, which
	// Status is evaluated under (Token.UnderKey).
	KeyGeneration int64
	// NamePrefix, if set, keeps the tokens whose NameKey starts with it
	// (already a NameKey). Such a listing is in name order: it reads a
	// key range of names, not the whole service.
	NamePrefix string
}
