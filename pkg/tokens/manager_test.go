package tokens_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/testkit/memstore"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// fixture is a Manager over the in-memory store with a settable clock.
type fixture struct {
	t     *testing.T
	mgr   *tokens.Manager
	store *memstore.Store
	mu    sync.Mutex
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, store: memstore.New(), now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	mgr, err := tokens.NewManager(f.store, tokens.Config{
		Services: []tokens.Service{{ID: "tmy", Name: "TMY data"}, {ID: "timeseries", Name: "Time Series data"}},
		Now:      f.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.mgr = mgr
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fixture) account(services ...string) (tokens.Account, string) {
	f.t.Helper()
	a, key, err := f.mgr.CreateAccount(testCtx(), "Acme Data", services)
	if err != nil {
		f.t.Fatal(err)
	}
	return a, key
}

func (f *fixture) user(accountID, email string, access ...string) tokens.User {
	f.t.Helper()
	ctx := testCtx()
	u, err := f.mgr.CreateUser(ctx, accountID, email, "Ada")
	if err != nil {
		f.t.Fatal(err)
	}
	for _, s := range access {
		if u, err = f.mgr.SetAccess(ctx, accountID, s, u.ID, true); err != nil {
			f.t.Fatal(err)
		}
	}
	return u
}

func (f *fixture) issue(accountID, service string, r tokens.IssueRequest) (tokens.TokenView, string) {
	f.t.Helper()
	v, plain, err := f.mgr.IssueToken(testCtx(), accountID, service, r)
	if err != nil {
		f.t.Fatal(err)
	}
	return v, plain
}

// outcome verifies a plaintext token for service as the authorizer would.
func (f *fixture) outcome(plain, service string) tokens.Outcome {
	f.t.Helper()
	c, err := tokens.LoadCredential(testCtx(), f.store, secret.Hash(plain))
	if errors.Is(err, apperr.ErrNotFound) {
		return tokens.Unknown
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return tokens.Verify(c, service, f.clock())
}

func wantKind(t *testing.T, err error, kind error, code string) {
	t.Helper()
	var te *apperr.Error
	if !errors.Is(err, kind) || !errors.As(err, &te) || te.Code != code {
		t.Fatalf("error = %v, want %v with code %s", err, kind, code)
	}
}

func TestCreateAccountShowsKeyOnceAndStoresOnlyItsHash(t *testing.T) {
	f := newFixture(t)
	a, key := f.account("tmy", "timeseries", "tmy")
	if !strings.HasPrefix(key, tokens.DefaultAPIKeyPrefix) || secret.IsToken(key) {
		t.Fatalf("API key %q lacks the prefix or looks like a token", key)
	}
	if got := strings.Join(a.Services, ","); got != "timeseries,tmy" {
		t.Fatalf("services = %s, want sorted and deduplicated", got)
	}
	if a.APIKey.Hint != secret.Hint(key) {
		t.Fatalf("hint %q", a.APIKey.Hint)
	}
	owner, err := f.store.KeyOwner(testCtx(), secret.Hash(key))
	if err != nil || owner.AccountID != a.ID || owner.KeyGeneration != 1 {
		t.Fatalf("KeyOwner = %+v, %v", owner, err)
	}
	_, _, err = f.mgr.CreateAccount(testCtx(), "x", []string{"weather"})
	wantKind(t, err, apperr.ErrInvalid, "unknown_service")
}

// TestUnknownServicesAreNamedByPositionNeverRepeated: a token sent as a
// service name does not come back in the error.
func TestUnknownServicesAreNamedByPositionNeverRepeated(t *testing.T) {
	f := newFixture(t)
	const token = "46a4eccec1414feab118287f5af26f03"
	_, _, err := f.mgr.CreateAccount(testCtx(), "x", []string{"tmy", token})
	wantKind(t, err, apperr.ErrInvalid, "unknown_service")
	if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "services[1]") {
		t.Fatalf("error %q repeats the input or does not name its position", err)
	}
}

func TestIssueTokenRules(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx()
	a, _ := f.account("tmy")
	on := f.user(a.ID, "on@example.com", "tmy")
	off := f.user(a.ID, "off@example.com")
	past := f.clock().Add(-time.Minute)

	for _, tc := range []struct {
		name    string
		service string
		req     tokens.IssueRequest
		kind    error
		code    string
	}{
		{"user access off", "tmy", tokens.IssueRequest{UserID: off.ID}, apperr.ErrConflict, "user_access_off"},
		{"unknown user", "tmy", tokens.IssueRequest{UserID: "usr_01jd0000000000000000000000"}, apperr.ErrNotFound, "user_not_found"},
		{"malformed user ID", "tmy", tokens.IssueRequest{UserID: "tok_x"}, apperr.ErrNotFound, "user_not_found"},
		{"service not subscribed", "timeseries", tokens.IssueRequest{}, apperr.ErrNotFound, "service_not_found"},
		{"expiry in the past", "tmy", tokens.IssueRequest{ExpiresAt: &past}, apperr.ErrInvalid, "invalid_expires_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.mgr.IssueToken(ctx, a.ID, tc.service, tc.req)
			wantKind(t, err, tc.kind, tc.code)
		})
	}

	v, plain := f.issue(a.ID, "tmy", tokens.IssueRequest{UserID: on.ID})
	if !secret.IsToken(plain) || v.Hint != secret.Hint(plain) || v.Type() != tokens.TokenUser || v.Status != tokens.StatusActive || !v.IsDefault {
		t.Fatalf("issued %+v (secret well-formed: %v)", v, secret.IsToken(plain))
	}
	if got := f.outcome(plain, "tmy"); got != tokens.Valid {
		t.Fatalf("new token outcome = %v", got)
	}
	if got := f.outcome(plain, "timeseries"); got != tokens.WrongService {
		t.Fatalf("other service outcome = %v", got)
	}
}

func TestRevocationsStopTokensOnTheNextCheck(t *testing.T) {
	ctx := testCtx()
	for _, tc := range []struct {
		name   string
		revoke func(f *fixture, a tokens.Account, u tokens.User, tok tokens.TokenView)
		want   tokens.Outcome
	}{
		{"disable", func(f *fixture, a tokens.Account, _ tokens.User, tok tokens.TokenView) {
			_, err := f.mgr.UpdateToken(ctx, a.ID, tok.ID, tokens.TokenChange{Enabled: ptr(false)})
			must(f.t, err)
		}, tokens.Disabled},
		{"delete", func(f *fixture, a tokens.Account, _ tokens.User, tok tokens.TokenView) {
			must(f.t, f.mgr.DeleteToken(ctx, a.ID, tok.ID))
		}, tokens.Unknown},
		{"access off", func(f *fixture, a tokens.Account, u tokens.User, _ tokens.TokenView) {
			_, err := f.mgr.SetAccess(ctx, a.ID, "tmy", u.ID, false)
			must(f.t, err)
		}, tokens.AccessOff},
		{"delete user", func(f *fixture, a tokens.Account, u tokens.User, _ tokens.TokenView) {
			must(f.t, f.mgr.DeleteUser(ctx, a.ID, u.ID))
		}, tokens.Unknown},
		{"close account", func(f *fixture, a tokens.Account, _ tokens.User, _ tokens.TokenView) {
			_, err := f.mgr.UpdateAccount(ctx, a.ID, tokens.AccountChange{Status: ptr(tokens.AccountStatusClosed)})
			must(f.t, err)
		}, tokens.AccountClosed},
		{"unsubscribe service", func(f *fixture, a tokens.Account, _ tokens.User, _ tokens.TokenView) {
			_, err := f.mgr.UpdateAccount(ctx, a.ID, tokens.AccountChange{Services: &[]string{"timeseries"}})
			must(f.t, err)
		}, tokens.ServiceNotSubscribed},
		{"rotate API key", func(f *fixture, a tokens.Account, _ tokens.User, _ tokens.TokenView) {
			_, _, err := f.mgr.ReplaceAPIKey(ctx, a.ID)
			must(f.t, err)
		}, tokens.KeyReplaced},
		{"expiry passes", func(f *fixture, _ tokens.Account, _ tokens.User, _ tokens.TokenView) {
			f.advance(2 * time.Hour)
		}, tokens.Expired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			a, _ := f.account("tmy", "timeseries")
			u := f.user(a.ID, "ada@example.com", "tmy")
			exp := f.clock().Add(time.Hour)
			tok, plain := f.issue(a.ID, "tmy", tokens.IssueRequest{UserID: u.ID, ExpiresAt: &exp})
			tc.revoke(f, a, u, tok)
			if got := f.outcome(plain, "tmy"); got != tc.want {
				t.Fatalf("outcome after %s = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

func TestReplacingTheKeyStopsTheOldKeyAndDisablesOlderTokensUntilEnabled(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx()
	a, oldKey := f.account("tmy")
	tok, plain := f.issue(a.ID, "tmy", tokens.IssueRequest{})

	_, newKey, err := f.mgr.ReplaceAPIKey(ctx, a.ID)
	must(t, err)
	if _, err := f.store.KeyOwner(ctx, secret.Hash(oldKey)); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("old key still resolves: %v", err)
	}
	if _, err := f.store.KeyOwner(ctx, secret.Hash(newKey)); err != nil {
		t.Fatalf("new key: %v", err)
	}
	v, err := f.mgr.Token(ctx, a.ID, tok.ID)
	must(t, err)
	if v.Status != tokens.StatusDisabled || v.DisabledReason != tokens.DisabledAPIKeyReplaced {
		t.Fatalf("token after rotation: status %s reason %s", v.Status, v.DisabledReason)
	}
	fresh, freshPlain := f.issue(a.ID, "tmy", tokens.IssueRequest{})
	if f.outcome(freshPlain, "tmy") != tokens.Valid || !fresh.IsDefault {
		t.Fatal("a token made under the new key must work and be the default")
	}
	if _, err := f.mgr.UpdateToken(ctx, a.ID, tok.ID, tokens.TokenChange{Enabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if got := f.outcome(plain, "tmy"); got != tokens.Valid {
		t.Fatalf("re-enabled token outcome = %v", got)
	}
}

func TestCloneCopiesServiceUserAndSettingsAndHonoursGracePeriod(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx()
	a, _ := f.account("tmy")
	u := f.user(a.ID, "ada@example.com", "tmy")
	src, srcPlain := f.issue(a.ID, "tmy", tokens.IssueRequest{UserID: u.ID, Name: ptr("reporting")})
	_, err := f.mgr.SetTokenSettings(ctx, src.ID, tokens.Settings{"publicOnly": true})
	must(t, err)

	grace := 10 * time.Minute
	clone, clonePlain, err := f.mgr.CloneToken(ctx, a.ID, src.ID, tokens.CloneRequest{RevokeSourceAfterSeconds: ptr(int64(grace / time.Second))})
	must(t, err)
	if clone.Service != "tmy" || clone.UserID != u.ID || clone.Settings["publicOnly"] != true || clone.Name != "reporting (clone)" || clonePlain == srcPlain {
		t.Fatalf("clone = %+v", clone)
	}
	if f.outcome(srcPlain, "tmy") != tokens.Valid {
		t.Fatal("the source must keep working during the grace period")
	}
	f.advance(grace)
	if got := f.outcome(srcPlain, "tmy"); got != tokens.Expired {
		t.Fatalf("source after grace = %v", got)
	}
	if got := f.outcome(clonePlain, "tmy"); got != tokens.Valid {
		t.Fatalf("clone after grace = %v", got)
	}
	_, _, err = f.mgr.CloneToken(ctx, a.ID, src.ID, tokens.CloneRequest{RevokeSourceAfterSeconds: ptr(int64(-1))})
	wantKind(t, err, apperr.ErrInvalid, "invalid_revoke_source_after_seconds")
}

// TestACloneNeverOutlivesItsSource: a clone keeps its source's expiresAt,
// or an earlier one the request sets; a later one is refused, and an
// expired token cannot be cloned at all, so rotation never extends a
// token's life.
func TestACloneNeverOutlivesItsSource(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx()
	a, _ := f.account("tmy")
	expires := f.clock().Add(48 * time.Hour).UTC().Truncate(time.Millisecond)
	src, _ := f.issue(a.ID, "tmy", tokens.IssueRequest{ExpiresAt: &expires})

	clone, clonePlain, err := f.mgr.CloneToken(ctx, a.ID, src.ID, tokens.CloneRequest{})
	must(t, err)
	if clone.ExpiresAt == nil || !clone.ExpiresAt.Equal(expires) {
		t.Fatalf("clone expiresAt = %v, want the source's %v", clone.ExpiresAt, expires)
	}
	earlier := expires.Add(-24 * time.Hour)
	sooner, _, err := f.mgr.CloneToken(ctx, a.ID, src.ID, tokens.CloneRequest{ExpiresAt: &earlier})
	must(t, err)
	if sooner.ExpiresAt == nil || !sooner.ExpiresAt.Equal(earlier) {
		t.Fatalf("clone asked to expire sooner: expiresAt = %v, want %v", sooner.ExpiresAt, earlier)
	}
	later := expires.Add(time.Hour)
	_, _, err = f.mgr.CloneToken(ctx, a.ID, src.ID, tokens.CloneRequest{ExpiresAt: &later})
	wantKind(t, err, apperr.ErrInvalid, "invalid_expires_at")
	past := f.clock().Add(-time.Hour)
	_, _, err = f.mgr.CloneToken(ctx, a.ID, src.ID, tokens.CloneRequest{ExpiresAt: &past})
	wantKind(t, err, apperr.ErrInvalid, "invalid_expires_at")

	// A clone of the clone keeps it too.
	again, _, err := f.mgr.CloneToken(ctx, a.ID, clone.ID, tokens.CloneRequest{})
	must(t, err)
	if again.ExpiresAt == nil || !again.ExpiresAt.Equal(expires) {
		t.Fatalf("clone of a clone expiresAt = %v, want %v", again.ExpiresAt, expires)
	}
	f.advance(48 * time.Hour)
	if got := f.outcome(clonePlain, "tmy"); got != tokens.Expired {
		t.Fatalf("clone after its source's expiry = %v, want expired", got)
	}
	_, _, err = f.mgr.CloneToken(ctx, a.ID, src.ID, tokens.CloneRequest{})
	wantKind(t, err, apperr.ErrConflict, "token_expired")

	// A source with no expiry gives a clone with none, unless asked.
	open, _ := f.issue(a.ID, "tmy", tokens.IssueRequest{})
	c, _, err := f.mgr.CloneToken(ctx, a.ID, open.ID, tokens.CloneRequest{})
	must(t, err)
	if c.ExpiresAt != nil {
		t.Fatalf("clone of a token without expiry expires at %v", c.ExpiresAt)
	}
}

func TestDefaultTokenIsTheEarliestActiveOne(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx()
	a, _ := f.account("tmy")
	if _, err := f.mgr.DefaultToken(ctx, a.ID, "tmy"); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("default with no tokens: %v", err)
	}
	first, _ := f.issue(a.ID, "tmy", tokens.IssueRequest{})
	second, _ := f.issue(a.ID, "tmy", tokens.IssueRequest{})
	def, err := f.mgr.DefaultToken(ctx, a.ID, "tmy")
	must(t, err)
	if def.ID != first.ID {
		t.Fatalf("default = %s, want the first token %s", def.ID, first.ID)
	}
	_, err = f.mgr.UpdateToken(ctx, a.ID, first.ID, tokens.TokenChange{Enabled: ptr(false)})
	must(t, err)
	page, err := f.mgr.Tokens(ctx, a.ID, tokens.TokenFilter{Service: "tmy"}, paging.Request{})
	must(t, err)
	if len(page.Items) != 2 || page.Items[0].ID != second.ID || !page.Items[0].IsDefault || page.Items[1].IsDefault {
		t.Fatalf("listing newest first with the new default: %+v", page.Items)
	}
}

func TestAKeyCanBeRotatedOnceAndItsTokensThenStop(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx()
	a, _ := f.account("tmy")
	_, plain := f.issue(a.ID, "tmy", tokens.IssueRequest{KeyGeneration: 1})

	next, _, err := f.mgr.RotateAPIKey(ctx, a.ID, 1)
	must(t, err)
	if next.APIKey.Generation != 2 {
		t.Fatalf("generation after rotation = %d, want 2", next.APIKey.Generation)
	}
	if _, _, err := f.mgr.RotateAPIKey(ctx, a.ID, 1); !errors.Is(err, tokens.ErrKeyNotCurrent) {
		t.Fatalf("second rotation with the same key: %v, want ErrKeyNotCurrent", err)
	}
	if _, _, err := f.mgr.IssueToken(ctx, a.ID, "tmy", tokens.IssueRequest{KeyGeneration: 1}); !errors.Is(err, tokens.ErrKeyNotCurrent) {
		t.Fatalf("a create authorised by the replaced key: %v, want ErrKeyNotCurrent", err)
	}
	if got := f.outcome(plain, "tmy"); got != tokens.KeyReplaced {
		t.Fatalf("token of the replaced key = %v, want %v", got, tokens.KeyReplaced)
	}
	_, err = f.mgr.UpdateToken(ctx, a.ID, mustFirstToken(t, f, a.ID).ID, tokens.TokenChange{Enabled: ptr(true), KeyGeneration: 1})
	if !errors.Is(err, tokens.ErrKeyNotCurrent) {
		t.Fatalf("enabling with the replaced key: %v, want ErrKeyNotCurrent", err)
	}
	_, err = f.mgr.UpdateToken(ctx, a.ID, mustFirstToken(t, f, a.ID).ID, tokens.TokenChange{Enabled: ptr(true), KeyGeneration: 2})
	must(t, err)
	if got := f.outcome(plain, "tmy"); got != tokens.Valid {
		t.Fatalf("token enabled under the current key = %v, want valid", got)
	}
}

func mustFirstToken(t *testing.T, f *fixture, accountID string) tokens.TokenView {
	t.Helper()
	page, err := f.mgr.Tokens(testCtx(), accountID, tokens.TokenFilter{Service: "tmy"}, paging.Request{})
	must(t, err)
	if len(page.Items) == 0 {
		t.Fatal("no tokens")
	}
	return page.Items[len(page.Items)-1]
}

func ptr[T any](v T) *T { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestAccountListingRefusesBadFiltersBeforeTheStore: an operator's typo
// (a status or service that does not exist, a name no account could
// have, an out-of-range limit) is a 400 naming the filter, never an empty
// page, and the caller's text never comes back.
func TestAccountListingRefusesBadFiltersBeforeTheStore(t *testing.T) {
	f := newFixture(t)
	const token = "46a4eccec1414feab118287f5af26f03"
	for _, tc := range []struct {
		name   string
		filter tokens.AccountFilter
		page   paging.Request
		code   string
	}{
		{"unknown status", tokens.AccountFilter{Status: "deleted"}, paging.Request{}, "invalid_status"},
		{"unknown service", tokens.AccountFilter{Service: token}, paging.Request{}, "unknown_service"},
		{"control character in the name", tokens.AccountFilter{NamePrefix: "a\x01"}, paging.Request{}, "invalid_name"},
		{"blank name", tokens.AccountFilter{NamePrefix: "   "}, paging.Request{}, "invalid_name"},
		{"limit over 100", tokens.AccountFilter{}, paging.Request{Limit: 101}, "invalid_limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.mgr.Accounts(context.Background(), tc.filter, tc.page)
			wantKind(t, err, apperr.ErrInvalid, tc.code)
			if strings.Contains(err.Error(), token) {
				t.Fatalf("error %q repeats the input", err)
			}
		})
	}
}

// TestAccountListingMatchesNamesByPrefixInAnyCase: the operator types
// part of a name in whatever case; the filter is normalised as the
// stored name key is.
func TestAccountListingMatchesNamesByPrefixInAnyCase(t *testing.T) {
	f := newFixture(t)
	acme, _ := f.account("tmy")
	if _, _, err := f.mgr.CreateAccount(testCtx(), "Other Corp", []string{"tmy"}); err != nil {
		t.Fatal(err)
	}
	p, err := f.mgr.Accounts(testCtx(), tokens.AccountFilter{NamePrefix: "  ACME d"}, paging.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 1 || p.Items[0].ID != acme.ID {
		t.Fatalf("name=ACME d: %+v, want only %s", p.Items, acme.ID)
	}
}

// testCtx is the context of the tests' writes: an operator's, as every
// write of the Manager needs a caller for its audit entry.
func testCtx() context.Context { return audit.WithOperator(context.Background(), "manager_test") }
