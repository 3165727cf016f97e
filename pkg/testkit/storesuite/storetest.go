// Package storetest is the one repository test suite every store of the
// service must pass: the in-memory fake (pkg/memstore) and the DynamoDB store
// on DynamoDB Local (pkg/dynamostore). Running the same table-driven cases
// against both keeps the fake honest, so handler tests that use it prove
// something about production.
//
// Each test asks newStore for a fresh, empty store; IDs and secrets are
// generated, never hard-coded, so the suite can also share one database.
package storesuite

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Store is what the suite exercises: the domain's store, the authorizer's
// credential lookup and the usage recorder's MarkUsed.
type Store interface {
	tokens.Store
	tokens.CredentialStore
	MarkUsed(ctx context.Context, accountID, tokenID string, at time.Time) error
}

// Services the fixtures subscribe to.
const (
	svcA = "tmy"
	svcB = "timeseries"
)

// Run runs the whole suite; newStore must return an empty store.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"AccountRoundTrip", testAccountRoundTrip},
		{"SaveAccountIsConditionalOnVersion", testSaveAccountIsConditionalOnVersion},
		{"ReplaceAPIKeyRetiresOldKeyAndDisablesOlderTokens", testReplaceAPIKey},
		{"UserRoundTrip", testUserRoundTrip},
		{"EmailIsUniquePerAccountCaseInsensitively", testEmailUniqueness},
		{"SaveUserIsConditionalAndMovesEmailClaim", testSaveUser},
		{"ListUsersPagesOldestFirst", testListUsers},
		{"DeleteUserDeletesItsTokensAndCredentials", testDeleteUser},
		{"CountUsersWithAccess", testCountUsersWithAccess},
		{"TokenRoundTrip", testTokenRoundTrip},
		{"CreateTokenIsConditionalOnWhatItWasCheckedAgainst", testCreateTokenConditions},
		{"CloneSavesSourceAtomically", testCloneSavesSource},
		{"SaveTokenIsConditionalOnVersions", testSaveToken},
		{"DeleteTokenRemovesEveryLookup", testDeleteToken},
		{"ListTokensFiltersNewestFirst", testListTokensFilters},
		{"ListTokensPages", testListTokensPages},
		{"CursorsAreValidatedAndScopedToTheListing", testCursors},
		{"EarliestActiveTokenIsTheDefault", testEarliestActiveToken},
		{"CountTokens", testCountTokens},
		{"MarkUsedOnlyMovesForwardAndNeverConflicts", testMarkUsed},
		{"CredentialReflectsEveryGateAtOnce", testCredentialGates},
		{"ConcurrentSaveTokenHasExactlyOneWinner", testConcurrentSaveToken},
		{"CreateTokenRacingAccessOffNeverLeavesAccessOn", testCreateTokenRacingAccessOff},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, &env{t: t, s: newStore(t), ctx: t.Context(), now: time.Now().UTC().Truncate(time.Millisecond)})
		})
	}
}

// env is one test's store, clock and fixture makers.
type env struct {
	t   *testing.T
	s   Store
	ctx context.Context
	now time.Time
}

// account stores an active account subscribed to svcA and svcB and
// returns it with the hash of its API key.
func (e *env) account() (tokens.Account, string) {
	e.t.Helper()
	key := secret.NewAPIKey(tokens.DefaultAPIKeyPrefix)
	a := tokens.Account{
		ID: id.New(id.Account), Name: "Acme", Status: tokens.AccountStatusActive, Services: []string{svcB, svcA},
		APIKey:    tokens.APIKey{ID: id.New(id.APIKey), Hint: secret.Hint(key), CreatedAt: e.now, Generation: 1},
		CreatedAt: e.now, UpdatedAt: e.now, Version: 1,
	}
	if err := e.s.CreateAccount(e.ctx, a, secret.Hash(key)); err != nil {
		e.t.Fatalf("CreateAccount: %v", err)
	}
	return a, secret.Hash(key)
}

// user stores a user of a with access to the given services.
func (e *env) user(a tokens.Account, access ...string) tokens.User {
	e.t.Helper()
	u := e.newUser(a, id.New(id.User)[4:]+"@example.com")
	for _, svc := range access {
		u.Access[svc] = true
	}
	if err := e.s.CreateUser(e.ctx, u); err != nil {
		e.t.Fatalf("CreateUser: %v", err)
	}
	return u
}

func (e *env) newUser(a tokens.Account, email string) tokens.User {
	return tokens.User{AccountID: a.ID, ID: id.New(id.User), Email: email, Name: "Ada", CreatedAt: e.now, Access: map[string]bool{}, Version: 1}
}

// newToken returns an unsaved enabled token of service for u (nil: userless).
func (e *env) newToken(a tokens.Account, u *tokens.User, service string) tokens.Token {
	plain := secret.NewToken()
	t := tokens.Token{
		AccountID: a.ID, ID: id.New(id.Token), Name: "t", Service: service,
		SecretHash: secret.Hash(plain), Hint: secret.Hint(plain), Enabled: true, CreatedAt: e.now,
		Settings: tokens.Settings{}, KeyGeneration: a.APIKey.Generation, Version: 1,
	}
	if u != nil {
		t.UserID = u.ID
	}
	return t
}

// token stores a token; change, if given, edits it first.
func (e *env) token(a tokens.Account, u *tokens.User, service string, change ...func(*tokens.Token)) tokens.Token {
	e.t.Helper()
	t := e.newToken(a, u, service)
	for _, c := range change {
		c(&t)
	}
	if err := e.s.CreateToken(e.ctx, tokens.TokenWrite{Token: t, Account: a, User: u}); err != nil {
		e.t.Fatalf("CreateToken: %v", err)
	}
	return t
}

func (e *env) getAccount(accountID string) tokens.Account {
	e.t.Helper()
	a, err := e.s.GetAccount(e.ctx, accountID)
	if err != nil {
		e.t.Fatalf("GetAccount: %v", err)
	}
	return a
}

func (e *env) getUser(u tokens.User) tokens.User {
	e.t.Helper()
	got, err := e.s.GetUser(e.ctx, u.AccountID, u.ID)
	if err != nil {
		e.t.Fatalf("GetUser: %v", err)
	}
	return got
}

func (e *env) getToken(t tokens.Token) tokens.Token {
	e.t.Helper()
	got, err := e.s.GetToken(e.ctx, t.AccountID, t.ID)
	if err != nil {
		e.t.Fatalf("GetToken: %v", err)
	}
	return got
}

func (e *env) saveAccount(a tokens.Account, change func(*tokens.Account)) tokens.Account {
	e.t.Helper()
	change(&a)
	a.Version++
	if err := e.s.SaveAccount(e.ctx, a); err != nil {
		e.t.Fatalf("SaveAccount: %v", err)
	}
	return a
}

func (e *env) saveUser(u tokens.User, change func(*tokens.User)) tokens.User {
	e.t.Helper()
	change(&u)
	u.Version++
	if err := e.s.SaveUser(e.ctx, u); err != nil {
		e.t.Fatalf("SaveUser: %v", err)
	}
	return u
}

// replaceKey gives a a new API key and returns the new account and key hash.
func (e *env) replaceKey(a tokens.Account) (tokens.Account, string) {
	e.t.Helper()
	key := secret.NewAPIKey(tokens.DefaultAPIKeyPrefix)
	a.APIKey = tokens.APIKey{ID: id.New(id.APIKey), Hint: secret.Hint(key), CreatedAt: e.now, Generation: a.APIKey.Generation + 1}
	a.Version++
	if err := e.s.ReplaceAPIKey(e.ctx, a, secret.Hash(key)); err != nil {
		e.t.Fatalf("ReplaceAPIKey: %v", err)
	}
	return a, secret.Hash(key)
}

// outcome verifies t's credential for its own service now.
func (e *env) outcome(t tokens.Token) tokens.Outcome {
	e.t.Helper()
	c, err := e.s.Credential(e.ctx, t.SecretHash)
	if errors.Is(err, apperr.ErrNotFound) {
		return tokens.Unknown
	}
	if err != nil {
		e.t.Fatalf("Credential: %v", err)
	}
	return tokens.Verify(c, t.Service, e.now)
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func ptr[T any](v T) *T { return &v }
