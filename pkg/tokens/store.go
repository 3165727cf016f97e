package tokens

import (
	"context"

	"github.com/acmedata/tokenservice/pkg/paging"
)

// The store interfaces are declared here, by their consumer, and kept narrow.
// Every write is conditional: a store returns ErrStale when the item it is
// asked to replace has changed since it was read (its Version moved on), and
// the Service re-reads and retries. Missing items are reported with an error
// matching ErrNotFound, never with a zero value.
//
// Writes that change what the authorizer decides (account status, services,
// key generation, a user's access, a token's own state) must be visible to
// CredentialStore.Credential as soon as the write returns: revocation takes
// effect on the next request.

// AccountStore keeps accounts and their API keys.
type AccountStore interface {
	// CreateAccount stores a new account and the hash of its first API key.
	CreateAccount(ctx context.Context, a Account, keyHash string) error
	GetAccount(ctx context.Context, accountID string) (Account, error)
	// SaveAccount replaces the account whose stored Version is a.Version-1.
	// It keeps every token's gate (status, services) in line with it.
	SaveAccount(ctx context.Context, a Account) error
	// ReplaceAPIKey saves a (whose APIKey is new and Generation one higher,
	// Version one higher than stored), makes the previous key invalid at
	// once, registers keyHash, and disables every enabled token of an older
	// generation with DisabledAPIKeyReplaced.
	ReplaceAPIKey(ctx context.Context, a Account, keyHash string) error
	// KeyOwner resolves an API key hash; ErrNotFound for unknown or replaced keys.
	KeyOwner(ctx context.Context, keyHash string) (KeyOwner, error)
}

// UserStore keeps users and their per-service access.
type UserStore interface {
	// CreateUser stores a new user; a Conflict error if the email is taken
	// in the account (case-insensitively).
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, accountID, userID string) (User, error)
	// ListUsers lists an account's users, oldest first.
	ListUsers(ctx context.Context, accountID string, page paging.Request) (paging.Page[User], error)
	// SaveUser replaces the user whose stored Version is u.Version-1,
	// moving the email claim if the email changed (Conflict if taken) and
	// updating the access gate of the user's tokens.
	SaveUser(ctx context.Context, u User) error
	// DeleteUser deletes the user, its email claim and all its tokens.
	DeleteUser(ctx context.Context, accountID, userID string) error
	CountUsersWithAccess(ctx context.Context, accountID, service string) (int, error)
}

// TokenStore keeps tokens.
type TokenStore interface {
	// CreateToken stores w.Token, findable by its SecretHash and by its ID
	// alone, on condition that w.Account (and w.User, for a user token) still
	// have the Version they were read at; it gates the new credential with
	// their state. A non-nil w.Source is saved in the same atomic write, on
	// condition that its stored Version is w.Source.Version-1.
	CreateToken(ctx context.Context, w TokenWrite) error
	GetToken(ctx context.Context, accountID, tokenID string) (Token, error)
	// TokenAccount returns the ID of the account that owns tokenID.
	TokenAccount(ctx context.Context, tokenID string) (string, error)
	// ListTokens lists a service's tokens newest first.
	ListTokens(ctx context.Context, accountID string, f TokenFilter, page paging.Request) (paging.Page[Token], error)
	// EarliestActiveToken returns the service's earliest-created token whose
	// Status at f.Now is active (the "default token"); ErrNotFound if none.
	EarliestActiveToken(ctx context.Context, accountID string, f TokenFilter) (Token, error)
	// SaveToken replaces the token whose stored Version is t.Version-1, on
	// condition that the account still has the Version it was read at.
	SaveToken(ctx context.Context, t Token, a Account) error
	DeleteToken(ctx context.Context, accountID, tokenID string) error
	// CountTokens counts a service's user and userless tokens.
	CountTokens(ctx context.Context, accountID, service string) (user, userless int, err error)
}

// CredentialStore resolves a token's secret hash for the authorizer.
type CredentialStore interface {
	Credential(ctx context.Context, secretHash string) (Credential, error)
}

// Store is everything the Service needs.
type Store interface {
	AccountStore
	UserStore
	TokenStore
}
