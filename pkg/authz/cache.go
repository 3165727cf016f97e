package authz

import (
	"context"
	"errors"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Cache bounds: enough for every token and gate a busy instance sees
// within one delay, small enough (a few tens of MiB at most) that a flood
// of random tokens only evicts, never grows the instance.
const (
	DefaultTokenEntries = 100_000
	DefaultGateEntries  = 20_000
)

// validateRevocationDelay checks a revocation delay against the product's
// range.
func validateRevocationDelay(d time.Duration) error {
	if d < 0 || d > tokens.MaxRevocationDelay {
		return fmt.Errorf("authz: revocation delay %v is outside 0s..%v", d, tokens.MaxRevocationDelay)
	}
	return nil
}

// cachedStore is a tokens.CredentialStore that remembers what the store
// answered for at most ttl: per token hash (the token, or that there is
// none, so a deleted token hammered by a popular page costs one read per
// delay too) and per gate item (an account's, a user's), which every token
// of the account or user shares. Store failures are never remembered.
//
// Expiry is judged against the injected clock rather than by
// golang-lru's expirable variant, whose timer reads the wall clock: the
// hot-token simulation runs fifty instances on a fake clock. The LRU bounds
// the size, and an entry past its deadline is a miss.
type cachedStore struct {
	store  tokens.CredentialStore
	ttl    time.Duration
	now    func() time.Time
	tokens *lru.Cache[string, cached[*tokenEntry]]
	gates  *lru.Cache[gateKey, cached[gate]]
}

// cached is one remembered answer and when it stops counting.
type cached[T any] struct {
	value    T // nil: the store holds no such item
	deadline time.Time
}

// tokenEntry is a remembered token and its part of every answer.
type tokenEntry struct {
	token tokens.Token
	facts tokenFacts
}

// gateKey names one gate item: an account's (userID "") or a user's.
type gateKey struct{ accountID, userID string }

// gate is a remembered gate item; one of the two is set, or neither when
// the item does not exist.
type gate struct {
	account *tokens.AccountGate
	user    *tokens.UserGate
}

func newCachedStore(store tokens.CredentialStore, ttl time.Duration, now func() time.Time, tokenEntries, gateEntries int) (*cachedStore, error) {
	tc, err := lru.New[string, cached[*tokenEntry]](tokenEntries)
	if err != nil {
		return nil, fmt.Errorf("authz: token cache: %w", err)
	}
	gc, err := lru.New[gateKey, cached[gate]](gateEntries)
	if err != nil {
		return nil, fmt.Errorf("authz: gate cache: %w", err)
	}
	return &cachedStore{store: store, ttl: ttl, now: now, tokens: tc, gates: gc}, nil
}

// TokenBySecret implements tokens.CredentialStore.
func (c *cachedStore) TokenBySecret(ctx context.Context, secretHash string) (tokens.Token, error) {
	now := c.now()
	if e, ok := c.tokens.Get(secretHash); ok && now.Before(e.deadline) {
		if e.value == nil {
			return tokens.Token{}, apperr.NotFound("token")
		}
		return e.value.token, nil
	}
	t, err := c.store.TokenBySecret(ctx, secretHash)
	c.rememberToken(now, secretHash, t, err)
	return t, err
}

// rememberToken keeps what the store answered for secretHash: the token,
// or that there is none. A failure is never remembered.
func (c *cachedStore) rememberToken(now time.Time, secretHash string, t tokens.Token, err error) {
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		c.tokens.Add(secretHash, cached[*tokenEntry]{deadline: now.Add(c.ttl)})
	case err == nil:
		c.tokens.Add(secretHash, cached[*tokenEntry]{value: &tokenEntry{token: t, facts: newTokenFacts(t)}, deadline: now.Add(c.ttl)})
	}
}

// Credential reads what deciding on a token takes, from memory where
// memory still counts. A token seen before whose answer has expired is the
// identity memory's case: its expired entry still says which account and
// user it belongs to, and those never change, so the token is read again
// together with the gates it needs, in one round trip instead of two. A
// token never seen, forgotten by the LRU, or remembered as absent (deleted)
// is read as before: its item, then its gates.
func (c *cachedStore) Credential(ctx context.Context, secretHash string) (tokens.Credential, error) {
	now := c.now()
	e, seen := c.tokens.Get(secretHash)
	if !seen || e.value == nil || now.Before(e.deadline) {
		return tokens.LoadCredential(ctx, c, secretHash)
	}
	owner := e.value.token
	fresh, missing := c.splitGates(now, tokens.GateRequest{AccountID: owner.AccountID, Account: true, UserID: owner.UserID})
	var (
		t    tokens.Token
		read tokens.Gates
		err  error
	)
	if missing.Account || missing.UserID != "" {
		t, read, err = c.store.TokenAndGates(ctx, secretHash, missing)
	} else {
		t, err = c.store.TokenBySecret(ctx, secretHash)
	}
	c.rememberToken(now, secretHash, t, err)
	if err != nil {
		return tokens.Credential{}, err
	}
	if t.AccountID != owner.AccountID || t.UserID != owner.UserID {
		// No token changes owner; should a store ever say otherwise, the
		// gates read were someone else's: decide as for a token never seen.
		return tokens.LoadCredential(ctx, c, secretHash)
	}
	return tokens.NewCredential(t, c.rememberGates(now, fresh, missing, read))
}

// facts returns t's context facts, as remembered beside it when c (which
// may be nil: no cache) holds t under secretHash, else built afresh.
func (c *cachedStore) facts(secretHash string, t tokens.Token) tokenFacts {
	if c != nil {
		if e, ok := c.tokens.Peek(secretHash); ok && e.value != nil && e.value.token.ID == t.ID {
			return e.value.facts
		}
	}
	return newTokenFacts(t)
}

// Gates implements tokens.CredentialStore: the gates still remembered
// come from memory, the others from one store call.
func (c *cachedStore) Gates(ctx context.Context, r tokens.GateRequest) (tokens.Gates, error) {
	now := c.now()
	fresh, missing := c.splitGates(now, r)
	if !missing.Account && missing.UserID == "" {
		return fresh, nil
	}
	read, err := c.store.Gates(ctx, missing)
	if err != nil {
		return tokens.Gates{}, err
	}
	return c.rememberGates(now, fresh, missing, read), nil
}

// TokenAndGates implements tokens.CredentialStore for completeness; the
// authorizer reads through Credential, which decides what to read with
// the token.
func (c *cachedStore) TokenAndGates(ctx context.Context, secretHash string, r tokens.GateRequest) (tokens.Token, tokens.Gates, error) {
	return tokens.TokenThenGates(ctx, c, secretHash, r)
}

// splitGates answers the gates of r that memory still holds (fresh) and
// names the others (missing).
func (c *cachedStore) splitGates(now time.Time, r tokens.GateRequest) (fresh tokens.Gates, missing tokens.GateRequest) {
	missing.AccountID = r.AccountID
	if r.Account {
		if e, ok := c.gates.Get(gateKey{accountID: r.AccountID}); ok && now.Before(e.deadline) {
			fresh.Account = e.value.account
		} else {
			missing.Account = true
		}
	}
	if r.UserID != "" {
		if e, ok := c.gates.Get(gateKey{r.AccountID, r.UserID}); ok && now.Before(e.deadline) {
			fresh.User = e.value.user
		} else {
			missing.UserID = r.UserID
		}
	}
	return fresh, missing
}

// rememberGates keeps the gates read for missing and answers them with the
// fresh ones.
func (c *cachedStore) rememberGates(now time.Time, fresh tokens.Gates, missing tokens.GateRequest, read tokens.Gates) tokens.Gates {
	deadline := now.Add(c.ttl)
	if missing.Account {
		fresh.Account = read.Account
		c.gates.Add(gateKey{accountID: missing.AccountID}, cached[gate]{value: gate{account: read.Account}, deadline: deadline})
	}
	if missing.UserID != "" {
		fresh.User = read.User
		c.gates.Add(gateKey{missing.AccountID, missing.UserID}, cached[gate]{value: gate{user: read.User}, deadline: deadline})
	}
	return fresh
}
