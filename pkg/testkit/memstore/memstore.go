// Package memstore is an in-memory tokens.Store and tokens.CredentialStore
// with the same observable semantics as the DynamoDB store (pkg/dynamostore):
// versioned conditional writes, case-insensitive email claims, opaque
// cursors, and credentials whose gates follow every change at once. It
// exists so that handlers and the domain can be tested fast and without a
// database; pkg/storetest runs one suite against both stores to keep them
// honest.
//
// Every value is copied on the way in and out, so callers can never alias
// the store's state. One mutex serialises everything: this is a test double,
// not a cache.
package memstore

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Store keeps everything in maps guarded by one mutex.
type Store struct {
	mu       sync.Mutex
	accounts map[string]account      // by account ID
	keys     map[string]string       // API key hash -> account ID
	users    map[userKey]tokens.User // by account and user ID
	emails   map[userKey]string      // account and lowercased email -> user ID
	tokens   map[string]tokens.Token // by token ID (globally unique)
	creds    map[string]string       // secret hash -> token ID
}

type account struct {
	tokens.Account
	keyHash string
}

type userKey struct{ accountID, id string }

var (
	_ tokens.Store           = (*Store)(nil)
	_ tokens.CredentialStore = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{
		accounts: map[string]account{},
		keys:     map[string]string{},
		users:    map[userKey]tokens.User{},
		emails:   map[userKey]string{},
		tokens:   map[string]tokens.Token{},
		creds:    map[string]string{},
	}
}

// ---- accounts ----

// CreateAccount implements tokens.AccountStore.
func (s *Store) CreateAccount(_ context.Context, a tokens.Account, keyHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[a.ID]; ok {
		return apperr.Conflict("account_exists", "an account with this ID exists")
	}
	if _, ok := s.keys[keyHash]; ok {
		return apperr.Conflict("api_key_exists", "the API key is already registered")
	}
	s.accounts[a.ID] = account{Account: copyAccount(a), keyHash: keyHash}
	s.keys[keyHash] = a.ID
	return nil
}

// GetAccount implements tokens.AccountStore.
func (s *Store) GetAccount(_ context.Context, accountID string) (tokens.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[accountID]
	if !ok {
		return tokens.Account{}, apperr.NotFound("account")
	}
	return copyAccount(a.Account), nil
}

// SaveAccount implements tokens.AccountStore.
func (s *Store) SaveAccount(_ context.Context, a tokens.Account) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, err := s.nextAccount(a)
	if err != nil {
		return err
	}
	stored.Account = copyAccount(a)
	s.accounts[a.ID] = stored
	return nil
}

// ReplaceAPIKey implements tokens.AccountStore.
func (s *Store) ReplaceAPIKey(_ context.Context, a tokens.Account, keyHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, err := s.nextAccount(a)
	if err != nil {
		return err
	}
	if _, ok := s.keys[keyHash]; ok {
		return apperr.Conflict("api_key_exists", "the API key is already registered")
	}
	delete(s.keys, stored.keyHash)
	s.keys[keyHash] = a.ID
	s.accounts[a.ID] = account{Account: copyAccount(a), keyHash: keyHash}
	for tid, t := range s.tokens {
		if t.AccountID == a.ID && t.Enabled && t.KeyGeneration < a.APIKey.Generation {
			t.Enabled, t.DisabledReason = false, tokens.DisabledAPIKeyReplaced
			t.Version++
			s.tokens[tid] = t
		}
	}
	return nil
}

// nextAccount returns the stored account a replaces, or why it may not.
func (s *Store) nextAccount(a tokens.Account) (account, error) {
	stored, ok := s.accounts[a.ID]
	if !ok {
		return account{}, apperr.NotFound("account")
	}
	if stored.Version != a.Version-1 {
		return account{}, apperr.ErrStale
	}
	return stored, nil
}

// KeyOwner implements tokens.AccountStore.
func (s *Store) KeyOwner(_ context.Context, keyHash string) (tokens.KeyOwner, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	accountID, ok := s.keys[keyHash]
	if !ok {
		return tokens.KeyOwner{}, apperr.NotFound("api_key")
	}
	a := s.accounts[accountID]
	return tokens.KeyOwner{AccountID: accountID, KeyID: a.APIKey.ID, AccountStatus: a.Status}, nil
}

// ---- users ----

// CreateUser implements tokens.UserStore.
func (s *Store) CreateUser(_ context.Context, u tokens.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userKey{u.AccountID, u.ID}]; ok {
		return apperr.Conflict("user_exists", "a user with this ID exists")
	}
	claim := emailKey(u)
	if _, ok := s.emails[claim]; ok {
		return emailTaken()
	}
	s.users[userKey{u.AccountID, u.ID}] = copyUser(u)
	s.emails[claim] = u.ID
	return nil
}

// GetUser implements tokens.UserStore.
func (s *Store) GetUser(_ context.Context, accountID, userID string) (tokens.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userKey{accountID, userID}]
	if !ok {
		return tokens.User{}, apperr.NotFound("user")
	}
	return copyUser(u), nil
}

// ListUsers implements tokens.UserStore.
func (s *Store) ListUsers(_ context.Context, accountID string, page paging.Request) (paging.Page[tokens.User], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []tokens.User
	for k, u := range s.users {
		if k.accountID == accountID {
			all = append(all, copyUser(u))
		}
	}
	slices.SortFunc(all, func(a, b tokens.User) int { return cmp.Compare(a.ID, b.ID) })
	return paginate(all, paging.Scope(accountID, "users"), false, page, func(u tokens.User) string { return u.ID })
}

// SaveUser implements tokens.UserStore.
func (s *Store) SaveUser(_ context.Context, u tokens.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := userKey{u.AccountID, u.ID}
	stored, ok := s.users[key]
	if !ok {
		return apperr.NotFound("user")
	}
	if stored.Version != u.Version-1 {
		return apperr.ErrStale
	}
	oldClaim, newClaim := emailKey(stored), emailKey(u)
	if oldClaim != newClaim {
		if _, taken := s.emails[newClaim]; taken {
			return emailTaken()
		}
		delete(s.emails, oldClaim)
		s.emails[newClaim] = u.ID
	}
	s.users[key] = copyUser(u)
	return nil
}

// DeleteUser implements tokens.UserStore.
func (s *Store) DeleteUser(_ context.Context, accountID, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := userKey{accountID, userID}
	u, ok := s.users[key]
	if !ok {
		return apperr.NotFound("user")
	}
	for tid, t := range s.tokens {
		if t.AccountID == accountID && t.UserID == userID {
			s.deleteToken(tid)
		}
	}
	delete(s.emails, emailKey(u))
	delete(s.users, key)
	return nil
}

// CountUsersWithAccess implements tokens.UserStore.
func (s *Store) CountUsersWithAccess(_ context.Context, accountID, service string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, u := range s.users {
		if k.accountID == accountID && u.HasAccess(service) {
			n++
		}
	}
	return n, nil
}

func emailKey(u tokens.User) userKey { return userKey{u.AccountID, strings.ToLower(u.Email)} }

func emailTaken() error {
	return apperr.Conflict("email_taken", "another user of the account has this email")
}

// ---- tokens ----

// CreateToken implements tokens.TokenStore.
func (s *Store) CreateToken(_ context.Context, w tokens.TokenWrite) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := w.Token
	if a, ok := s.accounts[w.Account.ID]; !ok || a.Version != w.Account.Version || t.AccountID != a.ID {
		return apperr.ErrStale
	}
	if w.User != nil {
		if u, ok := s.users[userKey{t.AccountID, w.User.ID}]; !ok || u.Version != w.User.Version {
			return apperr.ErrStale
		}
	}
	if w.Source != nil {
		if src, ok := s.tokens[w.Source.ID]; !ok || src.AccountID != t.AccountID || src.Version != w.Source.Version-1 {
			return apperr.ErrStale
		}
	}
	if _, ok := s.tokens[t.ID]; ok {
		return apperr.ErrStale
	}
	if _, ok := s.creds[t.SecretHash]; ok {
		return apperr.ErrStale
	}
	if w.Source != nil {
		s.tokens[w.Source.ID] = saved(s.tokens[w.Source.ID], *w.Source)
	}
	s.tokens[t.ID] = copyToken(t)
	s.creds[t.SecretHash] = t.ID
	return nil
}

// GetToken implements tokens.TokenStore.
func (s *Store) GetToken(_ context.Context, accountID, tokenID string) (tokens.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || t.AccountID != accountID {
		return tokens.Token{}, apperr.NotFound("token")
	}
	return copyToken(t), nil
}

// TokenAccount implements tokens.TokenStore.
func (s *Store) TokenAccount(_ context.Context, tokenID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok {
		return "", apperr.NotFound("token")
	}
	return t.AccountID, nil
}

// ListTokens implements tokens.TokenStore.
func (s *Store) ListTokens(_ context.Context, accountID string, f tokens.TokenFilter, page paging.Request) (paging.Page[tokens.Token], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []tokens.Token
	for _, t := range s.serviceTokens(accountID, f.Service) {
		if (f.Type == "" || t.Type() == f.Type) && (f.UserID == "" || t.UserID == f.UserID) && (f.Status == "" || t.Status(f.Now) == f.Status) {
			all = append(all, t)
		}
	}
	slices.Reverse(all)
	// The listing's identity is part of the cursor, as in the DynamoDB
	// store, where a per-user listing reads another index.
	return paginate(all, paging.Scope(accountID, "tokens", f.Service, f.UserID, string(f.Type), string(f.Status)), true, page, func(t tokens.Token) string { return t.ID })
}

// EarliestActiveToken implements tokens.TokenStore.
func (s *Store) EarliestActiveToken(_ context.Context, accountID string, f tokens.TokenFilter) (tokens.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.serviceTokens(accountID, f.Service) {
		if t.Status(f.Now) == tokens.StatusActive {
			return t, nil
		}
	}
	return tokens.Token{}, apperr.NotFound("token")
}

// serviceTokens returns copies of a service's tokens, oldest first.
func (s *Store) serviceTokens(accountID, service string) []tokens.Token {
	var out []tokens.Token
	for _, t := range s.tokens {
		if t.AccountID == accountID && t.Service == service {
			out = append(out, copyToken(t))
		}
	}
	slices.SortFunc(out, func(a, b tokens.Token) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// SaveToken implements tokens.TokenStore. Like the DynamoDB store it
// changes only the mutable fields and leaves LastUsedAt to MarkUsed.
func (s *Store) SaveToken(_ context.Context, t tokens.Token, a tokens.Account) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.tokens[t.ID]
	if !ok || stored.AccountID != t.AccountID {
		return apperr.NotFound("token")
	}
	if stored.Version != t.Version-1 {
		return apperr.ErrStale
	}
	if acc, ok := s.accounts[t.AccountID]; !ok || acc.Version != a.Version {
		return apperr.ErrStale
	}
	s.tokens[t.ID] = saved(stored, t)
	return nil
}

// saved returns stored with the mutable fields of t.
func saved(stored, t tokens.Token) tokens.Token {
	t = copyToken(t)
	stored.Name, stored.Enabled, stored.DisabledReason = t.Name, t.Enabled, t.DisabledReason
	stored.ExpiresAt, stored.Settings, stored.KeyGeneration, stored.Version = t.ExpiresAt, t.Settings, t.KeyGeneration, t.Version
	return stored
}

// DeleteToken implements tokens.TokenStore.
func (s *Store) DeleteToken(_ context.Context, accountID, tokenID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || t.AccountID != accountID {
		return apperr.NotFound("token")
	}
	s.deleteToken(tokenID)
	return nil
}

func (s *Store) deleteToken(tokenID string) {
	delete(s.creds, s.tokens[tokenID].SecretHash)
	delete(s.tokens, tokenID)
}

// CountTokens implements tokens.TokenStore.
func (s *Store) CountTokens(_ context.Context, accountID, service string) (user, userless int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		switch {
		case t.AccountID != accountID || t.Service != service:
		case t.UserID == "":
			userless++
		default:
			user++
		}
	}
	return user, userless, nil
}

// MarkUsed records that the token was used at at, unless a later use is
// already recorded. A token deleted meanwhile is not an error. It changes
// neither the token's Version nor anything an admin writes.
func (s *Store) MarkUsed(_ context.Context, accountID, tokenID string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || t.AccountID != accountID || (t.LastUsedAt != nil && !at.After(*t.LastUsedAt)) {
		return nil
	}
	at = at.UTC()
	t.LastUsedAt = &at
	s.tokens[tokenID] = t
	return nil
}

// ---- credentials ----

// Credential implements tokens.CredentialStore. The gates are read live,
// which is what the DynamoDB store's fan-out achieves by copying them. As
// there, the credential's Token carries no LastUsedAt.
func (s *Store) Credential(_ context.Context, secretHash string) (tokens.Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tid, ok := s.creds[secretHash]
	if !ok {
		return tokens.Credential{}, apperr.NotFound("token")
	}
	t := copyToken(s.tokens[tid])
	t.LastUsedAt = nil
	a := s.accounts[t.AccountID]
	c := tokens.Credential{
		Token:                t,
		AccountStatus:        a.Status,
		AccountServices:      slices.Clone(a.Services),
		AccountKeyGeneration: a.APIKey.Generation,
	}
	if t.UserID != "" {
		c.UserAccess = s.users[userKey{t.AccountID, t.UserID}].HasAccess(t.Service)
	}
	return c, nil
}

// ---- pagination ----

// paginate returns the page of sorted that follows the cursor; sorted is in
// ascending key order, or descending when desc. A cursor is paging's,
// bound to scope (the account and the listing's filters, as in the
// DynamoDB store), and holds the key of the last item it returned, which
// need not exist any more.
func paginate[T any](sorted []T, scope string, desc bool, page paging.Request, key func(T) string) (paging.Page[T], error) {
	start := 0
	if page.Cursor != "" {
		keys, err := paging.DecodeCursor(page.Cursor, scope, 1)
		if err != nil {
			return paging.Page[T]{}, err
		}
		for start < len(sorted) && !follows(key(sorted[start]), keys[0], desc) {
			start++
		}
	}
	end := min(start+max(page.Limit, 1), len(sorted))
	out := paging.Page[T]{Items: slices.Clone(sorted[start:end])}
	if end < len(sorted) && end > start {
		out.NextCursor = paging.EncodeCursor(scope, key(sorted[end-1]))
	}
	return out, nil
}

func follows(k, last string, desc bool) bool {
	if desc {
		return k < last
	}
	return k > last
}

// ---- copies ----

func copyAccount(a tokens.Account) tokens.Account {
	a.Services = slices.Clone(a.Services)
	return a
}

func copyUser(u tokens.User) tokens.User {
	u.Access = maps.Clone(u.Access)
	if u.Access == nil {
		u.Access = map[string]bool{}
	}
	return u
}

func copyToken(t tokens.Token) tokens.Token {
	t.Settings = t.Settings.Clone()
	t.ExpiresAt = copyTime(t.ExpiresAt)
	t.LastUsedAt = copyTime(t.LastUsedAt)
	return t
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}
