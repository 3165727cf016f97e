package tokens

import (
	"context"
	"fmt"
	"slices"

	"github.com/acmedata/tokenservice/pkg/apperr"
)

// ErrKeyNotCurrent refuses a change asked for with an API key that a
// replacement overtook while the request ran (rule 7): the key authorizer
// admitted it, but the key is no longer the account's current one. The
// caller sees 401, as with any replaced key.
var ErrKeyNotCurrent = apperr.Unauthorized("api_key_replaced", "the API key was replaced while the request ran; use the current key")

// AccountGateError says why an account cannot hold a new token for service
// made under key generation gen (0: whatever the current one is); nil if it
// can. The Manager checks it before a create, and a store reports it when
// the create's condition finds the account changed meanwhile.
func AccountGateError(a AccountGate, service string, gen int64) error {
	switch {
	case a.Status != AccountStatusActive:
		return apperr.Conflict("account_closed", "the account is closed")
	case !slices.Contains(a.Services, service):
		return apperr.NotFound("service")
	case gen != 0 && gen != a.KeyGeneration:
		return ErrKeyNotCurrent
	}
	return nil
}

// UserGateError says why a user (nil: deleted or never made) cannot hold a
// new token for service; nil if it can.
func UserGateError(u *UserGate, service string) error {
	switch {
	case u == nil:
		return apperr.NotFound("user")
	case !u.Access[service]:
		return apperr.Conflict("user_access_off", "the user's access to service %q is off; switch it on first", service)
	}
	return nil
}

// TokenThenGates is TokenAndGates in two reads, for stores with no round
// trip to save (in-memory ones).
func TokenThenGates(ctx context.Context, s interface {
	TokenBySecret(ctx context.Context, secretHash string) (Token, error)
	Gates(ctx context.Context, r GateRequest) (Gates, error)
}, secretHash string, r GateRequest) (Token, Gates, error) {
	t, err := s.TokenBySecret(ctx, secretHash)
	if err != nil {
		return Token{}, Gates{}, err
	}
	g, err := s.Gates(ctx, r)
	if err != nil {
		return Token{}, Gates{}, err
	}
	return t, g, nil
}

// LoadCredential reads what deciding on a token takes: its own record,
// then, in one more round trip, its account's gate and (for a user token)
// its user's (NewCredential).
func LoadCredential(ctx context.Context, s CredentialStore, secretHash string) (Credential, error) {
	t, err := s.TokenBySecret(ctx, secretHash)
	if err != nil {
		return Credential{}, err
	}
	g, err := s.Gates(ctx, GateRequest{AccountID: t.AccountID, Account: true, UserID: t.UserID})
	if err != nil {
		return Credential{}, fmt.Errorf("read gates: %w", err)
	}
	return NewCredential(t, g)
}

// NewCredential puts t and the gates read for it together. A token whose
// account or user is gone is ErrNotFound, like a deleted token: deleting a
// user stops its tokens at once, before their items are swept.
func NewCredential(t Token, g Gates) (Credential, error) {
	if g.Account == nil || (t.UserID != "" && g.User == nil) {
		return Credential{}, apperr.NotFound("token")
	}
	c := Credential{Token: t, Account: *g.Account}
	if g.User != nil {
		c.User = *g.User
	}
	return c, nil
}
