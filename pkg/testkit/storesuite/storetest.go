// Package storesuite is the one repository test suite every store of the
// service must pass: the in-memory fake (pkg/testkit/memstore) and the
// DynamoDB store on DynamoDB Local (pkg/dynamostore). Running the same
// table-driven cases against both keeps the fake honest, so handler tests
// that use it prove something about production.
//
// Each test asks newStore for a fresh, empty store and a handle on its
// writes (Faults), which the cost and crash tests count and break; IDs and
// secrets are generated, never hard-coded, so the suite can also share one
// database.
package storesuite

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Store is what the suite exercises: the domain's store, the authorizer's
// reads, the background sweep and the usage recorder's MarkUsed.
type Store interface {
	tokens.Store
	tokens.CredentialStore
	tokens.Sweeper
	plans.MarkerStore
	MarkUsed(ctx context.Context, accountID, tokenID string, at time.Time) error
}

// Faults counts a store's write requests and fails them on demand, as a
// caller that crashed part-way would leave them.
type Faults interface {
	// Writes is the number of write requests the store has sent (each one
	// atomic: a transaction counts once).
	Writes() int
	// FailWritesAfter lets the next n write requests through and fails
	// every later one; a negative n lets all through again.
	FailWritesAfter(n int)
}

// Services the fixtures subscribe to.
const (
	svcA = "tmy"
	svcB = "timeseries"
)

// Run runs the whole suite; newStore must return an empty store.
func Run(t *testing.T, newStore func(t *testing.T) (Store, Faults)) {
	tests := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"AccountRoundTrip", testAccountRoundTrip},
		{"UpdateAccountSavesTheChangeAndClosesTheKey", testUpdateAccount},
		{"ReplaceAPIKeyRetiresOldKeyAndReplacesOlderTokens", testReplaceAPIKey},
		{"ConcurrentRotationsWithOneKeyHaveExactlyOneWinner", testConcurrentRotations},
		{"UserRoundTrip", testUserRoundTrip},
		{"EmailIsUniquePerAccountCaseInsensitively", testEmailUniqueness},
		{"UpdateUserAppliesTheChangeAndMovesEmailClaim", testUpdateUser},
		{"ListUsersPagesOldestFirst", testListUsers},
		{"DeleteUserStopsItsTokensAtOnceAndSweepRemovesThem", testDeleteUser},
		{"ServiceStatsFollowEveryChange", testServiceStats},
		{"TokenRoundTrip", testTokenRoundTrip},
		{"CreateTokenHoldsOnlyWhileItsGatesDo", testCreateTokenGates},
		{"CloneBringsTheSourceExpiryForward", testCloneRevokesSource},
		{"UpdateTokenAppliesTheChangeToMutableFieldsOnly", testUpdateToken},
		{"DeleteTokenRemovesEveryLookup", testDeleteToken},
		{"ListTokensFiltersNewestFirst", testListTokensFilters},
		{"ListTokensPages", testListTokensPages},
		{"CursorsAreValidatedAndScopedToTheListing", testCursors},
		{"EarliestActiveTokenIsTheDefault", testEarliestActiveToken},
		{"MarkUsedOnlyMovesForwardAndNeverConflicts", testMarkUsed},
		{"CredentialReflectsEveryGateAtOnce", testCredentialGates},
		{"ConcurrentUpdatesOfATokenLoseNoWrite", testConcurrentUpdateToken},
		{"ConcurrentUpdatesOfATokenLeaveOneAuditEntryPerCommit", testConcurrentUpdatesAuditEachCommit},
		{"CreateTokenRacingAccessOffNeverLeavesAccessOn", testCreateTokenRacingAccessOff},
		{"CreateTokenRacingRotationNeverYieldsAWorkingTokenOfTheOldKey", testCreateTokenRacingRotation},
		{"AccountWideChangesCostTheSameWhateverTheAccountHolds", testAccountWideChangeCost},
		{"ACrashBetweenWritesLeavesNoTokenWorkingThatShouldNot", testCrashBetweenWrites},
		{"RestrictionsProtectionAndSourceAreOnBothRecords", testControlsRoundTrip},
		{"UpdateTokenSetsAndLiftsRestrictionsAndProtection", testUpdateTokenControls},
		{"DeleteTokenHoldsOnlyWhileItsGuardDoes", testDeleteTokenGuard},
		{"ListTokensByNamePrefixReadsAKeyRange", testListTokensByName},
		{"ReadsCostThePageWhateverTheAccountHolds", testReadsCostThePageWhateverTheAccountHolds},
		{"TheExpirySweepMovesOnlyExpiredTokens", testTheExpirySweepMovesOnlyExpiredTokens},
		{"ListAccountsNewestFirstFilteredAndByName", testListAccounts},
		{"AuditEntriesCommitWithTheirChangeOnly", testAuditEntriesCommitWithTheirChangeOnly},
		{"LeakReportsDisableLiveTokensInOneWriteEach", testLeakReportsDisableLiveTokensInOneWriteEach},
		{"PlanRoundTrip", testPlanRoundTrip},
		{"APlanInUseCannotBeDeleted", testPlanInUseCannotBeDeleted},
		{"AssigningAPlanCostsTheSameWhateverTheAccountHolds", testAssignmentCostsTheSameWhateverTheAccountHolds},
		{"AnAssignmentCommitsWithItsAuditEntryOnly", testAssignmentCommitsWithItsAuditEntry},
		{"TheReconcilerBringsTheEngineToTheStore", testReconcilerBringsTheEngineToTheStore},
		{"ACrashBetweenStoreAndEngineIsHealedByTheNextRun", testCrashBetweenStoreAndEngineIsHealed},
		{"ReconcilersNeverWorkOnOneMarkerAtOnce", testReconcilersNeverWorkOnOneMarkerAtOnce},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, f := newStore(t)
			tc.run(t, &env{t: t, s: s, faults: f, ctx: t.Context(), now: time.Now().UTC().Truncate(time.Millisecond)})
		})
	}
}

// env is one test's store, clock and fixture makers.
type env struct {
	t      *testing.T
	s      Store
	faults Faults
	ctx    context.Context
	now    time.Time
}

// account stores an active account subscribed to svcA and svcB and
// returns it with the hash of its API key.
func (e *env) account() (tokens.Account, string) {
	e.t.Helper()
	key := secret.NewAPIKey(tokens.DefaultAPIKeyPrefix)
	a := tokens.Account{
		ID: id.New(id.Account), Name: "Acme", Status: tokens.AccountStatusActive, Services: []string{svcB, svcA},
		APIKey:    tokens.APIKey{ID: id.New(id.APIKey), Hint: secret.Hint(key), CreatedAt: e.now, Generation: 1},
		CreatedAt: e.now, UpdatedAt: e.now,
	}
	if err := e.s.CreateAccount(e.ctx, a, secret.Hash(key), e.rec(a.ID)); err != nil {
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
	if err := e.s.CreateUser(e.ctx, u, e.rec(u.AccountID)); err != nil {
		e.t.Fatalf("CreateUser: %v", err)
	}
	return u
}

func (e *env) newUser(a tokens.Account, email string) tokens.User {
	return tokens.User{AccountID: a.ID, ID: id.New(id.User), Email: email, Name: "Ada", CreatedAt: e.now, Access: map[string]bool{}}
}

// newToken returns an unsaved enabled token of service for u (nil: userless).
func (e *env) newToken(a tokens.Account, u *tokens.User, service string) tokens.Token {
	plain := secret.NewToken()
	t := tokens.Token{
		AccountID: a.ID, ID: id.New(id.Token), Name: "t", Service: service,
		SecretHash: secret.Hash(plain), Hint: secret.Hint(plain), Enabled: true, CreatedAt: e.now,
		Settings: tokens.Settings{}, KeyGeneration: a.APIKey.Generation,
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
	if err := e.s.CreateToken(e.ctx, tokens.TokenWrite{Token: t}, e.rec(t.AccountID)); err != nil {
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

func (e *env) updateAccount(a tokens.Account, change func(*tokens.Account)) tokens.Account {
	e.t.Helper()
	got, err := e.s.UpdateAccount(e.ctx, a.ID, func(a *tokens.Account) error { change(a); return nil }, e.rec(a.ID))
	if err != nil {
		e.t.Fatalf("UpdateAccount: %v", err)
	}
	return got
}

func (e *env) updateUser(u tokens.User, change func(*tokens.User)) tokens.User {
	e.t.Helper()
	got, err := e.s.UpdateUser(e.ctx, u.AccountID, u.ID, func(u *tokens.User) error { change(u); return nil }, e.rec(u.AccountID))
	if err != nil {
		e.t.Fatalf("UpdateUser: %v", err)
	}
	return got
}

// rec is an audit entry of a change to accountID, for the writes of
// cases that are not about the audit log (every write takes one).
func (e *env) rec(accountID string) audit.Entry {
	return audit.Entry{
		AccountID: accountID, ID: audit.NewID(), Time: e.now, Actor: audit.Operator("storesuite"),
		Action: audit.AccountUpdate, TargetType: audit.TargetAccount, TargetID: accountID,
	}
}

// newKey returns a replacement key for ReplaceAPIKey and its hash.
func (e *env) newKey(presented int64) tokens.KeyReplacement {
	key := secret.NewAPIKey(tokens.DefaultAPIKeyPrefix)
	return tokens.KeyReplacement{
		Key:     tokens.APIKey{ID: id.New(id.APIKey), Hint: secret.Hint(key), CreatedAt: e.now},
		KeyHash: secret.Hash(key), Presented: presented, UpdatedAt: e.now,
	}
}

// replaceKey gives a a new API key and returns the new account and key hash.
func (e *env) replaceKey(a tokens.Account) (tokens.Account, string) {
	e.t.Helper()
	r := e.newKey(0)
	got, err := e.s.ReplaceAPIKey(e.ctx, a.ID, r, e.rec(a.ID))
	if err != nil {
		e.t.Fatalf("ReplaceAPIKey: %v", err)
	}
	return got, r.KeyHash
}

// sweep runs Sweep until it reports no more work.
func (e *env) sweep() {
	e.t.Helper()
	for range 1000 {
		more, err := e.s.Sweep(e.ctx, 10)
		if err != nil {
			e.t.Fatalf("Sweep: %v", err)
		}
		if !more {
			return
		}
	}
	e.t.Fatal("Sweep never finished")
}

// outcome verifies t's credential for its own service now.
func (e *env) outcome(t tokens.Token) tokens.Outcome {
	e.t.Helper()
	c, err := tokens.LoadCredential(e.ctx, e.s, t.SecretHash)
	if errors.Is(err, apperr.ErrNotFound) {
		return tokens.Unknown
	}
	if err != nil {
		e.t.Fatalf("LoadCredential: %v", err)
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

// anyToken is a DeleteToken guard that lets every token go.
func anyToken(tokens.Token) error { return nil }
