package authz_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/apigw"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/authz"
	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
	"github.com/acmedata/tokenservice/pkg/testkit/memstore"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// store is what the revocation suite needs from a store implementation.
type store interface {
	tokens.Store
	tokens.CredentialStore
}

// stores are the implementations the suite runs against: the in-memory
// fake and the real DynamoDB store on DynamoDB Local.
var stores = map[string]func(t *testing.T) store{
	"memstore": func(*testing.T) store { return memstore.New() },
	"dynamostore": func(t *testing.T) store {
		s, err := dynamostore.New(dynamotest.Client(t), dynamotest.Tables(t)[schema.Core.ID])
		if err != nil {
			t.Fatal(err)
		}
		return s
	},
}

// world is one account with a user whose access to tmy is on and a user
// token for tmy, made through the domain as an admin would.
type world struct {
	mgr     *tokens.Manager
	account tokens.Account
	user    tokens.User
	token   tokens.TokenView
	secret  string
}

func newWorld(t *testing.T, s store, expiresAt *time.Time) world {
	t.Helper()
	ctx := audit.WithOperator(context.Background(), "test")
	mgr, err := tokens.NewManager(s, tokens.Config{Services: []tokens.Service{{ID: "tmy", Name: "TMY"}, {ID: "timeseries", Name: "Time Series"}}})
	if err != nil {
		t.Fatal(err)
	}
	w := world{mgr: mgr}
	if w.account, _, err = mgr.CreateAccount(ctx, "Acme", []string{"tmy", "timeseries"}); err != nil {
		t.Fatal(err)
	}
	if w.user, err = mgr.CreateUser(ctx, w.account.ID, "ada@example.com", "Ada"); err != nil {
		t.Fatal(err)
	}
	if w.user, err = mgr.SetAccess(ctx, w.account.ID, "tmy", w.user.ID, true); err != nil {
		t.Fatal(err)
	}
	if w.token, w.secret, err = mgr.IssueToken(ctx, w.account.ID, "tmy", tokens.IssueRequest{UserID: w.user.ID, ExpiresAt: expiresAt}); err != nil {
		t.Fatal(err)
	}
	return w
}

// requestWith is the data-query fixture presenting secret.
func requestWith(t *testing.T, secret string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "authorizer", "data-query.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ev.QueryStringParameters["token"] = secret
	ev.MultiValueQueryStringParameters["token"] = []string{secret}
	return ev
}

// TestRevocationReachesEveryRequestWithinTheDelay makes a token work,
// revokes it the way PRODUCT.md lists, and proves that with no revocation
// delay the very next request is refused, and with one every request from
// the delay on (the cache is honest: up to then it may still answer from
// memory), against every store implementation. With a delay, the request
// after the revocation is a token seen before, decided in one round trip.
func TestRevocationReachesEveryRequestWithinTheDelay(t *testing.T) {
	later := time.Now().Add(time.Hour)
	cases := []struct {
		name      string
		expiresAt *time.Time
		revoke    func(ctx context.Context, w world) error
		clock     time.Duration // how far the authorizer's clock moves on
		want      string        // Unauthorized or Deny
	}{
		{"disabled", nil, func(ctx context.Context, w world) error {
			_, err := w.mgr.UpdateToken(ctx, w.account.ID, w.token.ID, tokens.TokenChange{Enabled: new(false)})
			return err
		}, 0, "Unauthorized"},
		{"deleted", nil, func(ctx context.Context, w world) error { return w.mgr.DeleteToken(ctx, w.account.ID, w.token.ID) }, 0, "Unauthorized"},
		{"user access off", nil, func(ctx context.Context, w world) error {
			_, err := w.mgr.SetAccess(ctx, w.account.ID, "tmy", w.user.ID, false)
			return err
		}, 0, "Deny"},
		{"user deleted", nil, func(ctx context.Context, w world) error { return w.mgr.DeleteUser(ctx, w.account.ID, w.user.ID) }, 0, "Unauthorized"},
		{"API key replaced", nil, func(ctx context.Context, w world) error {
			_, _, err := w.mgr.ReplaceAPIKey(ctx, w.account.ID)
			return err
		}, 0, "Unauthorized"},
		{"account closed", nil, func(ctx context.Context, w world) error {
			_, err := w.mgr.UpdateAccount(ctx, w.account.ID, tokens.AccountChange{Status: new(tokens.AccountStatusClosed)})
			return err
		}, 0, "Unauthorized"},
		{"service unsubscribed", nil, func(ctx context.Context, w world) error {
			_, err := w.mgr.UpdateAccount(ctx, w.account.ID, tokens.AccountChange{Services: new([]string{"timeseries"})})
			return err
		}, 0, "Deny"},
		{"expired", &later, func(context.Context, world) error { return nil }, 2 * time.Hour, "Unauthorized"},
	}
	for storeName, newStore := range stores {
		for _, delay := range []time.Duration{0, time.Second} {
			t.Run(fmt.Sprintf("%s/delay %v", storeName, delay), func(t *testing.T) {
				for _, tc := range cases {
					t.Run(tc.name, func(t *testing.T) {
						ctx := audit.WithOperator(context.Background(), "test")
						s := newStore(t)
						w := newWorld(t, s, tc.expiresAt)
						start := time.Now()
						var shift time.Duration
						counted := &countingStore{CredentialStore: s}
						a, err := authz.New(counted, authz.Options{Services: []string{"tmy"}, RevocationDelay: delay, Now: func() time.Time { return start.Add(shift) }})
						if err != nil {
							t.Fatal(err)
						}
						req := requestWith(t, w.secret)
						if got := decide(t, a, req); got != "Allow" {
							t.Fatalf("before revocation: %s, want Allow", got)
						}
						if err := tc.revoke(ctx, w); err != nil {
							t.Fatalf("revoke: %v", err)
						}
						shift = max(tc.clock, delay)
						before := counted.reads.Load()
						if got := decide(t, a, req); got != tc.want {
							t.Errorf("request %v after the revocation: %s, want %s", shift, got, tc.want)
						}
						// With a delay the authorizer has seen the token: its
						// identity memory reads it and its gates in one round
						// trip, and still sees the revocation.
						if reads := counted.reads.Load() - before; delay > 0 && reads != 1 {
							t.Errorf("the seen-before token took %d round trips, want 1", reads)
						}
					})
				}
			})
		}
	}
}

// TestTheCacheAnswersWithinTheDelayWithoutReadingTheStore proves the other
// half of the bargain: within the delay a hot token costs no read, a token
// that does not exist is remembered too, and once the delay has passed a
// token seen before costs one round trip.
func TestTheCacheAnswersWithinTheDelayWithoutReadingTheStore(t *testing.T) {
	s := &countingStore{CredentialStore: memstore.New()}
	mgr, err := tokens.NewManager(memstoreOf(s), tokens.Config{Services: []tokens.Service{{ID: "tmy", Name: "TMY"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithOperator(context.Background(), "test")
	acc, _, err := mgr.CreateAccount(ctx, "Acme", []string{"tmy"})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := mgr.IssueToken(ctx, acc.ID, "tmy", tokens.IssueRequest{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var shift time.Duration
	a, err := authz.New(s, authz.Options{Services: []string{"tmy"}, RevocationDelay: time.Second, Now: func() time.Time { return start.Add(shift) }})
	if err != nil {
		t.Fatal(err)
	}
	unknown := requestWith(t, "0123456789abcdef012345676ddad739")
	known := requestWith(t, secret)
	for _, step := range []struct {
		at    time.Duration
		req   events.APIGatewayCustomAuthorizerRequestTypeRequest
		want  string
		reads int64 // store reads so far
	}{
		{0, known, "Allow", 2}, // the token, then its gates
		{999 * time.Millisecond, known, "Allow", 2},
		{0, unknown, "Unauthorized", 3},
		{999 * time.Millisecond, unknown, "Unauthorized", 3},
		// Seen before: the token and its gates again, in one round trip.
		{time.Second, known, "Allow", 4},
		{time.Second, unknown, "Unauthorized", 5},
	} {
		shift = step.at
		if got := decide(t, a, step.req); got != step.want {
			t.Fatalf("at %v: %s, want %s", step.at, got, step.want)
		}
		if got := s.reads.Load(); got != step.reads {
			t.Fatalf("at %v: %d store reads, want %d", step.at, got, step.reads)
		}
	}
}

// countingStore counts the reads that reach the store.
type countingStore struct {
	tokens.CredentialStore
	reads atomic.Int64
}

func (s *countingStore) TokenBySecret(ctx context.Context, secretHash string) (tokens.Token, error) {
	s.reads.Add(1)
	return s.CredentialStore.TokenBySecret(ctx, secretHash)
}

func (s *countingStore) Gates(ctx context.Context, r tokens.GateRequest) (tokens.Gates, error) {
	s.reads.Add(1)
	return s.CredentialStore.Gates(ctx, r)
}

// TokenAndGates is one round trip, however many items it reads.
func (s *countingStore) TokenAndGates(ctx context.Context, secretHash string, r tokens.GateRequest) (tokens.Token, tokens.Gates, error) {
	s.reads.Add(1)
	return s.CredentialStore.TokenAndGates(ctx, secretHash, r)
}

func memstoreOf(s *countingStore) *memstore.Store { return s.CredentialStore.(*memstore.Store) }

// decide answers Allow, Deny, Unauthorized or fails the test on a 500.
func decide(t *testing.T, a *authz.Authorizer, req events.APIGatewayCustomAuthorizerRequestTypeRequest) string {
	t.Helper()
	resp, err := a.Authorize(context.Background(), req)
	switch {
	case errors.Is(err, apigw.ErrUnauthorized):
		return "Unauthorized"
	case err != nil:
		t.Fatalf("authorize: %v", err)
	}
	return resp.PolicyDocument.Statement[0].Effect
}
