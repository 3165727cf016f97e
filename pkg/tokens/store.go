package tokens

import (
	"context"
	"time"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/paging"
)

// The store interfaces are declared here, by their consumer, and kept narrow.
//
// Optimistic concurrency is the store's business: an Update* method reads
// the item, applies the caller's change and writes it back on condition that
// nobody wrote it meanwhile, re-reading and re-applying the change until it
// commits (or the change returns an error, which aborts and is returned as
// is). Use cases therefore never see versions and never loop.
//
// Missing items are reported with an error matching apperr.ErrNotFound,
// never with a zero value.
//
// Every write takes the audit.Entry of the change and commits it in the
// same atomic write as the change, after checking it (Entry.Check): a
// write that fails or is refused leaves no entry, one that commits always
// has its entry. Creates commit the entry as given (the Manager has set its
// changes); Update* and Delete* set its changes with Entry.Diff of the
// AuditFields of the record as the committing attempt read it and as it
// wrote it (nil for a deletion).
//
// A token's gates (its account's status, services and current key
// generation; its user's access) live on one item per account and one per
// user, which every token shares: an account-wide change is a constant
// number of writes, and CredentialStore reads the gates beside the token.

// AccountStore keeps accounts and their API keys.
type AccountStore interface {
	// CreateAccount stores a new account and the hash of its first API key.
	CreateAccount(ctx context.Context, a Account, keyHash string, e audit.Entry) error
	GetAccount(ctx context.Context, accountID string) (Account, error)
	// UpdateAccount applies change to the stored account and saves it
	// (status, services, UpdatedAt; the key is ReplaceAPIKey's). Closing
	// the account stops its API key with the same write.
	UpdateAccount(ctx context.Context, accountID string, change func(*Account) error, e audit.Entry) (Account, error)
	// ReplaceAPIKey makes r.Key (given the generation after the stored
	// one) the account's key: the old key's hash stops resolving and
	// r.KeyHash starts, in one atomic write. With r.Presented set, it does
	// so only while the stored key has that generation, else
	// ErrKeyNotCurrent: of concurrent replacements with one key, one wins.
	ReplaceAPIKey(ctx context.Context, accountID string, r KeyReplacement, e audit.Entry) (Account, error)
	// KeyOwner resolves an API key hash; ErrNotFound for unknown or replaced keys.
	KeyOwner(ctx context.Context, keyHash string) (KeyOwner, error)
	// ListAccounts lists every account newest first, or in name order
	// with f.NamePrefix (a key range of names, never a scan). The listing
	// may lag a write by a moment (an eventually consistent index).
	ListAccounts(ctx context.Context, f AccountFilter, page paging.Request) (paging.Page[Account], error)
}

// AccountFilter narrows the operators' account listing.
type AccountFilter struct {
	Status     AccountStatus // optional
	Service    string        // optional: accounts subscribing to it
	NamePrefix string        // optional, a NameKey
}

// KeyReplacement is a new API key for ReplaceAPIKey.
type KeyReplacement struct {
	Key       APIKey // ID, Hint and CreatedAt; the store sets Generation
	KeyHash   string
	Presented int64 // the generation of the key that asked for it; 0 for an operator
	UpdatedAt time.Time
}

// UserStore keeps users and their per-service access.
type UserStore interface {
	// CreateUser stores a new user; a Conflict error if the email is taken
	// in the account (case-insensitively).
	CreateUser(ctx context.Context, u User, e audit.Entry) error
	GetUser(ctx context.Context, accountID, userID string) (User, error)
	// ListUsers lists an account's users, oldest first. The filter names
	// the listing its cursors are bound to (PRODUCT.md: a cursor works only
	// where it was issued).
	ListUsers(ctx context.Context, accountID string, f UserFilter, page paging.Request) (paging.Page[User], error)
	// UpdateUser applies change to the stored user and saves it, moving
	// the email claim if the email changed (Conflict if taken) and keeping
	// the services' counts of users with access.
	UpdateUser(ctx context.Context, accountID, userID string, change func(*User) error, e audit.Entry) (User, error)
	// DeleteUser deletes the user and its email claim at once, which stops
	// its tokens; the token items themselves are removed in the background
	// (see Sweeper), never inside the caller's request.
	DeleteUser(ctx context.Context, accountID, userID string, e audit.Entry) error
}

// TokenStore keeps tokens.
type TokenStore interface {
	// CreateToken stores w.Token, findable by its SecretHash and by its ID
	// alone, in one atomic write that holds only while the account is
	// active, subscribes the token's service and its current key has the
	// token's KeyGeneration (else the precise error: AccountGateError), and,
	// for a user token, while the user exists with access to the service
	// (UserGateError). It counts the token in its service's stats, and
	// with w.RevokeSourceAt set it brings the source's expiry forward to
	// that time (never later) in the same write.
	CreateToken(ctx context.Context, w TokenWrite, e audit.Entry) error
	GetToken(ctx context.Context, accountID, tokenID string) (Token, error)
	// TokenBySecret returns the token whose secret has this hash, in any
	// account; ErrNotFound if none (never made, or deleted). Leak reports
	// find the tokens they name with it.
	TokenBySecret(ctx context.Context, secretHash string) (Token, error)
	// TokenAccount returns the ID of the account that owns tokenID.
	TokenAccount(ctx context.Context, tokenID string) (string, error)
	// ListTokens lists a service's tokens newest first, or in name order
	// with f.NamePrefix (a key range of names, never a scan).
	ListTokens(ctx context.Context, accountID string, f TokenFilter, page paging.Request) (paging.Page[Token], error)
	// EarliestActiveToken returns the service's earliest-created token whose
	// Status under f.KeyGeneration at f.Now is active (the "default
	// token"); ErrNotFound if none.
	EarliestActiveToken(ctx context.Context, accountID string, f TokenFilter) (Token, error)
	// UpdateToken applies change to the stored token's mutable fields
	// (name, enabled, reason, expiry, settings, key generation,
	// restrictions, protected) and saves them. With keyGeneration set, it commits only while the account's
	// current key has that generation, else ErrKeyNotCurrent.
	UpdateToken(ctx context.Context, accountID, tokenID string, keyGeneration int64, change func(*Token) error, e audit.Entry) (Token, error)
	// DeleteToken deletes the token if guard, given the token as stored,
	// returns nil (else guard's error), on condition that the token is
	// still as guard saw it.
	DeleteToken(ctx context.Context, accountID, tokenID string, guard func(Token) error, e audit.Entry) error
	// ServiceStats returns the General tab's counts of a service, kept by
	// the writes that change them (no query over the tokens).
	ServiceStats(ctx context.Context, accountID, service string) (ServiceStats, error)
}

// TokenWrite is a token to create.
type TokenWrite struct {
	Token Token
	// SourceID and RevokeSourceAt, for a clone with a grace period: the
	// source's expiry is brought forward to RevokeSourceAt.
	SourceID       string
	RevokeSourceAt *time.Time
}

// CredentialStore is what the authorizer reads: a token's own record by its
// secret's hash, and the shared gates it depends on.
type CredentialStore interface {
	// TokenBySecret returns the token whose secret has this hash;
	// ErrNotFound if none (never made, or deleted).
	TokenBySecret(ctx context.Context, secretHash string) (Token, error)
	// Gates reads the gates r asks for in one round trip.
	Gates(ctx context.Context, r GateRequest) (Gates, error)
	// TokenAndGates reads the token whose secret has this hash and the
	// gates r asks for, together in one round trip: the read of an
	// authorizer that has seen the token before, and so knows its
	// account and user (which never change), once what it remembered of
	// the token has expired. ErrNotFound if there is no such token.
	TokenAndGates(ctx context.Context, secretHash string, r GateRequest) (Token, Gates, error)
}

// GateRequest names the gate items a decision needs.
type GateRequest struct {
	AccountID string
	Account   bool   // read the account's gate
	UserID    string // read this user's gate, unless ""
}

// Gates are what a store found for a GateRequest: nil for an item not
// asked for or not there (an account never made, a user deleted).
type Gates struct {
	Account *AccountGate
	User    *UserGate
}

// Sweeper finishes in the background what DeleteUser began: it removes
// the token items of deleted users, a bounded batch per call.
type Sweeper interface {
	// Sweep removes up to limit token items of deleted users and reports
	// whether work remains.
	Sweep(ctx context.Context, limit int) (more bool, err error)
	// SweepExpired moves up to limit tokens whose expiry has passed at now
	// out of the listings of live tokens (a store whose listings need no
	// such move does nothing) and reports whether work remains.
	SweepExpired(ctx context.Context, now time.Time, limit int) (more bool, err error)
}

// AuditStore reads the audit log the writes above keep.
type AuditStore interface {
	// ListAudit lists the account's entries newest first (time, then
	// ID), narrowed by f, without reading another account's entries nor
	// scanning the account's whole log for a time range or a target.
	ListAudit(ctx context.Context, accountID string, f audit.Filter, page paging.Request) (paging.Page[audit.Entry], error)
}

// Store is everything the Manager needs.
type Store interface {
	AccountStore
	UserStore
	TokenStore
	AuditStore
	PlanStore
}
