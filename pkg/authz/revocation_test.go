package authz_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/apigw"
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
	authz.CredentialReader
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
	ctx := context.Background()
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

// TestRevocationTakesEffectOnTheNextRequest makes a token work, revokes it
// the way PRODUCT.md lists, and proves the very next request is refused,
// against every store implementation.
func TestRevocationTakesEffectOnTheNextRequest(t *testing.T) {
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
		t.Run(storeName, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					ctx := context.Background()
					s := newStore(t)
					w := newWorld(t, s, tc.expiresAt)
					var shift time.Duration
					a, err := authz.New(s, authz.Options{Now: func() time.Time { return time.Now().Add(shift) }})
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
					shift = tc.clock
					if got := decide(t, a, req); got != tc.want {
						t.Errorf("next request: %s, want %s", got, tc.want)
					}
				})
			}
		})
	}
}

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
