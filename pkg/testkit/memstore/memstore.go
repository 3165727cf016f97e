// Package memstore is an in-memory tokens.Store, tokens.CredentialStore and
// tokens.Sweeper with the same observable semantics as the DynamoDB store
// (pkg/dynamostore): shared gate items, conditional creates, counted stats,
// case-insensitive email claims, opaque cursors, and a deleted user's tokens
// left for Sweep. It exists so that handlers and the domain can be tested
// fast and without a database; pkg/testkit/storesuite runs one suite against
// both stores to keep them honest.
//
// Every value is copied on the way in and out, so callers can never alias
// the store's state. One mutex serialises everything: this is a test double,
// not a cache. Each exported write is one atomic step, counted by Writes;
// FailWritesAfter makes later ones fail, as a crashed caller would leave
// them.
package memstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Store keeps everything in maps guarded by one mutex.
type Store struct {
	mu       sync.Mutex
	accounts map[string]account              // by account ID
	keys     map[string]string               // API key hash -> account ID
	users    map[userKey]tokens.User         // by account and user ID
	emails   map[userKey]string              // account and lowercased email -> user ID
	tokens   map[string]tokens.Token         // by token ID (globally unique)
	creds    map[string]string               // secret hash -> token ID
	stats    map[userKey]tokens.ServiceStats // by account and service
	sweeps   map[userKey]bool                // deleted users whose tokens remain
	audit    map[string][]audit.Entry        // by account ID, in commit order
	plans    map[string]planRec              // by plan ID
	markers  map[string]plans.Marker         // pending reconciliations, by Marker.Ref

	writes    int
	failAfter int // writes left before every write fails; negative: never
}

type account struct {
	tokens.Account
	keyHash string
}

type userKey struct{ accountID, id string }

var (
	_ tokens.Store           = (*Store)(nil)
	_ tokens.CredentialStore = (*Store)(nil)
	_ tokens.Sweeper         = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{
		accounts:  map[string]account{},
		keys:      map[string]string{},
		users:     map[userKey]tokens.User{},
		emails:    map[userKey]string{},
		tokens:    map[string]tokens.Token{},
		creds:     map[string]string{},
		stats:     map[userKey]tokens.ServiceStats{},
		sweeps:    map[userKey]bool{},
		audit:     map[string][]audit.Entry{},
		plans:     map[string]planRec{},
		markers:   map[string]plans.Marker{},
		failAfter: -1,
	}
}

// ErrInjected is the failure of a write after FailWritesAfter ran out.
var ErrInjected = errors.New("memstore: injected write failure")

// Writes reports how many atomic writes the store has committed.
func (s *Store) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// FailWritesAfter lets the next n writes commit and fails every one after
// them with ErrInjected; a negative n lets every write commit again.
func (s *Store) FailWritesAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAfter = n
}

// write admits one atomic write of a change to accountID recorded by e,
// or fails it as injected or for an incomplete entry; the caller holds mu,
// and on success commits the change and then s.record(e), as the DynamoDB
// store does both in one transaction.
func (s *Store) write(accountID string, e audit.Entry) error {
	if err := e.Check(accountID); err != nil {
		return err
	}
	return s.admit()
}

// admit admits one atomic write that no admin or operator made (the
// sweep), or fails it as injected. The caller holds mu.
func (s *Store) admit() error {
	if s.failAfter == 0 {
		return apperr.Unavailable(ErrInjected)
	}
	if s.failAfter > 0 {
		s.failAfter--
	}
	s.writes++
	return nil
}

// ---- accounts ----

// CreateAccount implements tokens.AccountStore.
func (s *Store) CreateAccount(_ context.Context, a tokens.Account, keyHash string, e audit.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[a.ID]; ok {
		return apperr.Conflict("account_exists", "an account with this ID exists")
	}
	if _, ok := s.keys[keyHash]; ok {
		return apperr.Conflict("api_key_exists", "the API key is already registered")
	}
	if err := s.write(a.ID, e); err != nil {
		return err
	}
	s.accounts[a.ID] = account{Account: copyAccount(a), keyHash: keyHash}
	s.keys[keyHash] = a.ID
	s.record(e)
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

// UpdateAccount implements tokens.AccountStore. The change cannot touch
// the key: that is ReplaceAPIKey's.
func (s *Store) UpdateAccount(_ context.Context, accountID string, change func(*tokens.Account) error, e audit.Entry) (tokens.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.accounts[accountID]
	if !ok {
		return tokens.Account{}, apperr.NotFound("account")
	}
	next := copyAccount(stored.Account)
	if err := change(&next); err != nil {
		return tokens.Account{}, err
	}
	next.ID, next.APIKey, next.CreatedAt = stored.ID, stored.APIKey, stored.CreatedAt
	next.Plans, next.UsageKeys = stored.Plans, stored.UsageKeys
	if err := s.write(accountID, e); err != nil {
		return tokens.Account{}, err
	}
	s.record(e.Diff(stored.AuditFields(), next.AuditFields()))
	stored.Account = copyAccount(next)
	s.accounts[accountID] = stored
	return next, nil
}

// ReplaceAPIKey implements tokens.AccountStore.
func (s *Store) ReplaceAPIKey(_ context.Context, accountID string, r tokens.KeyReplacement, e audit.Entry) (tokens.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.accounts[accountID]
	switch {
	case !ok:
		return tokens.Account{}, apperr.NotFound("account")
	case r.Presented != 0 && stored.APIKey.Generation != r.Presented:
		return tokens.Account{}, tokens.ErrKeyNotCurrent
	}
	if _, ok := s.keys[r.KeyHash]; ok {
		return tokens.Account{}, apperr.Conflict("api_key_exists", "the API key is already registered")
	}
	if err := s.write(accountID, e); err != nil {
		return tokens.Account{}, err
	}
	before := stored.AuditFields()
	delete(s.keys, stored.keyHash)
	s.keys[r.KeyHash] = accountID
	gen := stored.APIKey.Generation + 1
	stored.APIKey = r.Key
	stored.APIKey.Generation = gen
	stored.UpdatedAt, stored.keyHash = r.UpdatedAt, r.KeyHash
	s.accounts[accountID] = stored
	s.record(e.Diff(before, stored.AuditFields()))
	return copyAccount(stored.Account), nil
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
	return tokens.KeyOwner{AccountID: accountID, KeyID: a.APIKey.ID, KeyGeneration: a.APIKey.Generation, AccountStatus: a.Status}, nil
}

// ListAccounts implements tokens.AccountStore: newest first, or in name
// order with a name prefix, as the DynamoDB store's indexes.
func (s *Store) ListAccounts(_ context.Context, f tokens.AccountFilter, page paging.Request) (paging.Page[tokens.Account], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []tokens.Account
	for _, a := range s.accounts {
		if (f.Status == "" || a.Status == f.Status) && (f.Service == "" || a.Subscribes(f.Service)) && strings.HasPrefix(tokens.NameKey(a.Name), f.NamePrefix) {
			all = append(all, copyAccount(a.Account))
		}
	}
	scope := paging.Scope("accounts", string(f.Status), f.Service, f.NamePrefix)
	if f.NamePrefix != "" {
		key := func(a tokens.Account) string { return tokens.NameKey(a.Name) + nameEnd + a.ID }
		slices.SortFunc(all, func(a, b tokens.Account) int { return cmp.Compare(key(a), key(b)) })
		return paginate(all, scope, false, page, key)
	}
	slices.SortFunc(all, func(a, b tokens.Account) int { return cmp.Compare(b.ID, a.ID) })
	return paginate(all, scope, true, page, func(a tokens.Account) string { return a.ID })
}

// ---- users ----

// CreateUser implements tokens.UserStore.
func (s *Store) CreateUser(_ context.Context, u tokens.User, e audit.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userKey{u.AccountID, u.ID}]; ok {
		return apperr.Conflict("user_exists", "a user with this ID exists")
	}
	claim := emailKey(u)
	if _, ok := s.emails[claim]; ok {
		return emailTaken()
	}
	if err := s.write(u.AccountID, e); err != nil {
		return err
	}
	s.record(e)
	s.users[userKey{u.AccountID, u.ID}] = copyUser(u)
	s.emails[claim] = u.ID
	s.countAccess(u.AccountID, nil, u.Access)
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
func (s *Store) ListUsers(_ context.Context, accountID string, f tokens.UserFilter, page paging.Request) (paging.Page[tokens.User], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []tokens.User
	for k, u := range s.users {
		if k.accountID == accountID {
			all = append(all, copyUser(u))
		}
	}
	slices.SortFunc(all, func(a, b tokens.User) int { return cmp.Compare(a.ID, b.ID) })
	scope := paging.Scope(accountID, "users")
	if f.Service != "" {
		scope = paging.Scope(accountID, "users", "access", f.Service)
	}
	return paginate(all, scope, false, page, func(u tokens.User) string { return u.ID })
}

// UpdateUser implements tokens.UserStore.
func (s *Store) UpdateUser(_ context.Context, accountID, userID string, change func(*tokens.User) error, e audit.Entry) (tokens.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := userKey{accountID, userID}
	stored, ok := s.users[key]
	if !ok {
		return tokens.User{}, apperr.NotFound("user")
	}
	u := copyUser(stored)
	if err := change(&u); err != nil {
		return tokens.User{}, err
	}
	u.AccountID, u.ID, u.CreatedAt = stored.AccountID, stored.ID, stored.CreatedAt
	oldClaim, newClaim := emailKey(stored), emailKey(u)
	if _, taken := s.emails[newClaim]; taken && oldClaim != newClaim {
		return tokens.User{}, emailTaken()
	}
	if err := s.write(accountID, e); err != nil {
		return tokens.User{}, err
	}
	s.record(e.Diff(stored.AuditFields(), u.AuditFields()))
	delete(s.emails, oldClaim)
	s.emails[newClaim] = u.ID
	s.countAccess(accountID, stored.Access, u.Access)
	s.users[key] = copyUser(u)
	return u, nil
}

// DeleteUser implements tokens.UserStore: the user and its claim go at
// once; its tokens wait for Sweep.
func (s *Store) DeleteUser(_ context.Context, accountID, userID string, e audit.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := userKey{accountID, userID}
	u, ok := s.users[key]
	if !ok {
		return apperr.NotFound("user")
	}
	if err := s.write(accountID, e); err != nil {
		return err
	}
	s.record(e.Diff(u.AuditFields(), nil))
	s.countAccess(accountID, u.Access, nil)
	delete(s.emails, emailKey(u))
	delete(s.users, key)
	s.sweeps[key] = true
	return nil
}

// countAccess moves the services' counts of users with access from
// before to after.
func (s *Store) countAccess(accountID string, before, after map[string]bool) {
	for svc := range before {
		if before[svc] && !after[svc] {
			s.count(accountID, svc, func(st *tokens.ServiceStats) { st.UsersWithAccess-- })
		}
	}
	for svc := range after {
		if after[svc] && !before[svc] {
			s.count(accountID, svc, func(st *tokens.ServiceStats) { st.UsersWithAccess++ })
		}
	}
}

func (s *Store) count(accountID, service string, change func(*tokens.ServiceStats)) {
	k := userKey{accountID, service}
	st := s.stats[k]
	change(&st)
	s.stats[k] = st
}

// countToken adds delta to the count of t's type in its service.
func (s *Store) countToken(t tokens.Token, delta int) {
	s.count(t.AccountID, t.Service, func(st *tokens.ServiceStats) {
		if t.UserID == "" {
			st.UserlessTokens += delta
		} else {
			st.UserTokens += delta
		}
	})
}

// Sweep implements tokens.Sweeper.
func (s *Store) Sweep(_ context.Context, limit int) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range slices.SortedFunc(maps.Keys(s.sweeps), func(a, b userKey) int { return cmp.Compare(a.id, b.id) }) {
		for _, tid := range slices.Sorted(maps.Keys(s.tokens)) {
			if t := s.tokens[tid]; t.AccountID != k.accountID || t.UserID != k.id {
				continue
			}
			if limit == 0 {
				return true, nil
			}
			if err := s.admit(); err != nil {
				return true, err
			}
			s.tokenGone(s.tokens[tid], plans.NewSeq())
			s.deleteToken(tid)
			limit--
		}
		if err := s.admit(); err != nil {
			return true, err
		}
		delete(s.sweeps, k)
	}
	return false, nil
}

func emailKey(u tokens.User) userKey { return userKey{u.AccountID, strings.ToLower(u.Email)} }

func emailTaken() error {
	return apperr.Conflict("email_taken", "another user of the account has this email")
}

// ---- tokens ----

// CreateToken implements tokens.TokenStore.
func (s *Store) CreateToken(_ context.Context, w tokens.TokenWrite, e audit.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := w.Token
	a, ok := s.accounts[t.AccountID]
	if !ok {
		return apperr.NotFound("account")
	}
	if err := tokens.AccountGateError(a.Gate(), t.Service, t.KeyGeneration); err != nil {
		return err
	}
	if t.UserID != "" {
		var gate *tokens.UserGate
		if u, ok := s.users[userKey{t.AccountID, t.UserID}]; ok {
			g := u.Gate()
			gate = &g
		}
		if err := tokens.UserGateError(gate, t.Service); err != nil {
			return err
		}
	}
	var src tokens.Token
	if w.SourceID != "" {
		if src, ok = s.tokens[w.SourceID]; !ok || src.AccountID != t.AccountID {
			return apperr.NotFound("token")
		}
	}
	if _, ok := s.tokens[t.ID]; ok {
		return apperr.Conflict("token_exists", "a token with this ID exists")
	}
	if _, ok := s.creds[t.SecretHash]; ok {
		return apperr.Conflict("token_exists", "a token with this secret exists")
	}
	if err := s.checkAssignable(t.PlanID); err != nil {
		return err
	}
	if err := s.write(t.AccountID, e); err != nil {
		return err
	}
	s.record(e)
	if w.RevokeSourceAt != nil && (src.ExpiresAt == nil || w.RevokeSourceAt.Before(*src.ExpiresAt)) {
		src.ExpiresAt = copyTime(w.RevokeSourceAt)
		s.tokens[src.ID] = src
	}
	s.tokens[t.ID] = copyToken(t)
	s.creds[t.SecretHash] = t.ID
	s.countToken(t, 1)
	s.tokenMade(t, e.ID)
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
		if (f.Type == "" || t.Type() == f.Type) && (f.UserID == "" || t.UserID == f.UserID) && (f.Status == "" || t.UnderKey(f.KeyGeneration).Status(f.Now) == f.Status) &&
			strings.HasPrefix(tokens.NameKey(t.Name), f.NamePrefix) {
			all = append(all, t)
		}
	}
	// The listing's identity is part of the cursor, as in the DynamoDB
	// store, where a per-user listing or a name search reads another index.
	scope := paging.Scope(accountID, "tokens", f.Service, f.UserID, string(f.Type), string(f.Status), f.NamePrefix)
	if f.NamePrefix != "" { // name order, as byName
		key := func(t tokens.Token) string { return tokens.NameKey(t.Name) + nameEnd + t.ID }
		slices.SortFunc(all, func(a, b tokens.Token) int { return cmp.Compare(key(a), key(b)) })
		return paginate(all, scope, false, page, key)
	}
	// Newest first by key generation, then creation, as the DynamoDB
	// store's listing indexes order them.
	order := func(t tokens.Token) string { return fmt.Sprintf("%010d#%s", t.KeyGeneration, t.ID) }
	slices.SortFunc(all, func(a, b tokens.Token) int { return cmp.Compare(order(b), order(a)) })
	return paginate(all, scope, true, page, order)
}

// EarliestActiveToken implements tokens.TokenStore.
func (s *Store) EarliestActiveToken(_ context.Context, accountID string, f tokens.TokenFilter) (tokens.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first *tokens.Token
	for _, t := range s.serviceTokens(accountID, f.Service) {
		if t.UnderKey(f.KeyGeneration).Status(f.Now) == tokens.StatusActive && (first == nil || t.KeyGeneration < first.KeyGeneration) {
			first = &t
		}
	}
	if first == nil {
		return tokens.Token{}, apperr.NotFound("token")
	}
	return *first, nil
}

// nameEnd ends a name in a listing's order key, below every character a
// name may hold, so a name sorts before the longer names it begins, as in
// the DynamoDB store's name indexes.
const nameEnd = "\x01"

// SweepExpired implements tokens.Sweeper: the fake's listings read every
// token, so an expired one has nowhere to move.
func (s *Store) SweepExpired(context.Context, time.Time, int) (bool, error) { return false, nil }

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

// UpdateToken implements tokens.TokenStore. Like the DynamoDB store it
// saves only the mutable fields and leaves LastUsedAt to MarkUsed.
func (s *Store) UpdateToken(_ context.Context, accountID, tokenID string, keyGeneration int64, change func(*tokens.Token) error, e audit.Entry) (tokens.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.tokens[tokenID]
	if !ok || stored.AccountID != accountID {
		return tokens.Token{}, apperr.NotFound("token")
	}
	if keyGeneration != 0 && s.accounts[accountID].APIKey.Generation != keyGeneration {
		return tokens.Token{}, tokens.ErrKeyNotCurrent
	}
	next := copyToken(stored)
	if err := change(&next); err != nil {
		return tokens.Token{}, err
	}
	if err := s.write(accountID, e); err != nil {
		return tokens.Token{}, err
	}
	before := stored.AuditFields()
	stored.Name, stored.Enabled, stored.DisabledReason = next.Name, next.Enabled, next.DisabledReason
	stored.ExpiresAt, stored.Settings, stored.KeyGeneration = next.ExpiresAt, next.Settings, next.KeyGeneration
	stored.Restrictions, stored.Protected = next.Restrictions, next.Protected
	s.tokens[tokenID] = stored
	s.record(e.Diff(before, stored.AuditFields()))
	return copyToken(stored), nil
}

// DeleteToken implements tokens.TokenStore.
func (s *Store) DeleteToken(_ context.Context, accountID, tokenID string, guard func(tokens.Token) error, e audit.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || t.AccountID != accountID {
		return apperr.NotFound("token")
	}
	if err := guard(copyToken(t)); err != nil {
		return err
	}
	if err := s.write(accountID, e); err != nil {
		return err
	}
	s.record(e.Diff(t.AuditFields(), nil))
	s.tokenGone(t, e.ID)
	s.deleteToken(tokenID)
	return nil
}

func (s *Store) deleteToken(tokenID string) {
	t := s.tokens[tokenID]
	s.countToken(t, -1)
	delete(s.creds, t.SecretHash)
	delete(s.tokens, tokenID)
}

// ServiceStats implements tokens.TokenStore.
func (s *Store) ServiceStats(_ context.Context, accountID, service string) (tokens.ServiceStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats[userKey{accountID, service}], nil
}

// MarkUsed records that the token was used at at, unless a later use is
// already recorded. A token deleted meanwhile is not an error. It changes
// nothing an admin writes.
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

// ---- audit ----

// record commits e to its account's log; the caller holds mu and has
// just committed the change e records.
func (s *Store) record(e audit.Entry) {
	e.Changes = maps.Clone(e.Changes)
	s.audit[e.AccountID] = append(s.audit[e.AccountID], e)
}

// auditKey orders entries as the DynamoDB store's sort key does: time,
// then ID.
func auditKey(e audit.Entry) string {
	return e.Time.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + e.ID
}

// ListAudit implements tokens.AuditStore.
func (s *Store) ListAudit(_ context.Context, accountID string, f audit.Filter, page paging.Request) (paging.Page[audit.Entry], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []audit.Entry
	for _, e := range s.audit[accountID] {
		if (f.Action == "" || e.Action == f.Action) && (f.TargetID == "" || e.TargetID == f.TargetID) &&
			(f.From.IsZero() || !e.Time.Before(f.From)) && (f.To.IsZero() || !e.Time.After(f.To)) {
			e.Changes = maps.Clone(e.Changes)
			all = append(all, e)
		}
	}
	slices.SortFunc(all, func(a, b audit.Entry) int { return cmp.Compare(auditKey(b), auditKey(a)) })
	scope := paging.Scope(accountID, "audit", string(f.Action), f.TargetID, f.From.String(), f.To.String())
	return paginate(all, scope, true, page, auditKey)
}

// ---- credentials ----

// TokenBySecret implements tokens.CredentialStore. As in the DynamoDB
// store, the token carries no LastUsedAt.
func (s *Store) TokenBySecret(_ context.Context, secretHash string) (tokens.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tid, ok := s.creds[secretHash]
	if !ok {
		return tokens.Token{}, apperr.NotFound("token")
	}
	t := copyToken(s.tokens[tid])
	t.LastUsedAt = nil
	return t, nil
}

// Gates implements tokens.CredentialStore.
func (s *Store) Gates(_ context.Context, r tokens.GateRequest) (tokens.Gates, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var g tokens.Gates
	if a, ok := s.accounts[r.AccountID]; ok && r.Account {
		gate := copyAccount(a.Account).Gate()
		g.Account = &gate
	}
	if u, ok := s.users[userKey{r.AccountID, r.UserID}]; ok && r.UserID != "" {
		gate := copyUser(u).Gate()
		g.User = &gate
	}
	return g, nil
}

// TokenAndGates implements tokens.CredentialStore.
func (s *Store) TokenAndGates(ctx context.Context, secretHash string, r tokens.GateRequest) (tokens.Token, tokens.Gates, error) {
	return tokens.TokenThenGates(ctx, s, secretHash, r)
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
	// Empty is nil, as the DynamoDB store reads an item without them.
	a.Plans, a.UsageKeys = cloneNonEmpty(a.Plans), cloneNonEmpty(a.UsageKeys)
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

func cloneNonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
