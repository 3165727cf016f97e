package authz

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// The tokens the fixtures in events/authorizer present.
const (
	fixtureToken      = "46a4eccec1414feab118287f5af26f03"
	otherFixtureToken = "9f1c2e3d4b5a69788796a5b4ccff71cf"
	// checklessFixtureToken is 32 lowercase hex whose check fails (as a
	// token made by another system would): events/authorizer's
	// data-query-check-failed presents it.
	checklessFixtureToken = "46a4eccec1414feab118287faafc5c80"
)

// loadEvent reads a REQUEST authorizer event from events/authorizer.
func loadEvent(tb testing.TB, name string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "authorizer", name+".json"))
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	var ev events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		tb.Fatalf("decode fixture %s: %v", name, err)
	}
	return ev
}

// fakeStore is an in-memory tokens.CredentialStore over whole
// credentials that counts its reads.
type fakeStore struct {
	creds map[string]tokens.Credential // by secret hash
	err   error                        // returned by every read when set
	calls atomic.Int64
}

func newFakeStore() *fakeStore { return &fakeStore{creds: map[string]tokens.Credential{}} }

func (s *fakeStore) read(ctx context.Context) error {
	s.calls.Add(1)
	if s.err != nil {
		return s.err
	}
	return ctx.Err()
}

func (s *fakeStore) TokenBySecret(ctx context.Context, secretHash string) (tokens.Token, error) {
	if err := s.read(ctx); err != nil {
		return tokens.Token{}, err
	}
	c, ok := s.creds[secretHash]
	if !ok {
		return tokens.Token{}, apperr.NotFound("token")
	}
	return c.Token, nil
}

// Gates answers from the credentials of the account (and user) asked for.
func (s *fakeStore) Gates(ctx context.Context, r tokens.GateRequest) (tokens.Gates, error) {
	if err := s.read(ctx); err != nil {
		return tokens.Gates{}, err
	}
	var g tokens.Gates
	for _, c := range s.creds {
		if c.Token.AccountID != r.AccountID {
			continue
		}
		if r.Account {
			g.Account = &c.Account
		}
		if r.UserID != "" && c.Token.UserID == r.UserID {
			g.User = &c.User
		}
	}
	return g, nil
}

func (s *fakeStore) TokenAndGates(ctx context.Context, secretHash string, r tokens.GateRequest) (tokens.Token, tokens.Gates, error) {
	return tokens.TokenThenGates(ctx, s, secretHash, r)
}

func (s *fakeStore) put(token string, c tokens.Credential) { s.creds[secret.Hash(token)] = c }

// testNow is the clock of every test; credentials expire relative to it.
var testNow = time.Date(2026, 5, 24, 9, 14, 7, 0, time.UTC)

// validCredential is an active user token for service, with its user's
// access on, in an active account that subscribes to tmy and timeseries.
func validCredential(service string) tokens.Credential {
	return tokens.Credential{
		Token: tokens.Token{
			AccountID: id.New(id.Account), ID: id.New(id.Token), Name: "ci", Service: service,
			UserID: id.New(id.User), SecretHash: secret.Hash(fixtureToken), Hint: fixtureToken[28:],
			Enabled: true, CreatedAt: testNow.Add(-time.Hour), KeyGeneration: 1,
			Settings: tokens.Settings{"publicOnly": true, "maxRows": float64(100), "region": "eu"},
		},
		Account: tokens.AccountGate{Status: tokens.AccountStatusActive, Services: []string{"timeseries", "tmy"}, KeyGeneration: 1},
		User:    tokens.UserGate{Access: map[string]bool{service: true}},
	}
}

// testServices is the catalogue of the tests' authorizers.
var testServices = []string{"timeseries", "tmy"}

func newTestAuthorizer(tb testing.TB, store tokens.CredentialStore, opts Options) *Authorizer {
	tb.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Services == nil {
		opts.Services = testServices
	}
	a, err := New(store, opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return a
}

// randomHexRequests makes n copies of the data-query fixture, each
// presenting a fresh random string of 32 lowercase hex characters: made-up
// tokens of the right shape whose check fails (all but one in 2^32).
func randomHexRequests(tb testing.TB, n int) []events.APIGatewayCustomAuthorizerRequestTypeRequest {
	tb.Helper()
	base := loadEvent(tb, "data-query")
	out := make([]events.APIGatewayCustomAuthorizerRequestTypeRequest, n)
	var raw [16]byte
	for i := range out {
		_, _ = rand.Read(raw[:])
		tok := hex.EncodeToString(raw[:])
		ev := base
		ev.QueryStringParameters = map[string]string{TokenParam: tok}
		ev.MultiValueQueryStringParameters = map[string][]string{TokenParam: {tok}}
		out[i] = ev
	}
	return out
}
