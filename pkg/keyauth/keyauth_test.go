package keyauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/apigw"
	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/authctx"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// fixtureKey is the API key the events/keyauthorizer fixtures present.
const fixtureKey = "tka_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGH"

func loadEvent(t *testing.T, name string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "keyauthorizer", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

type fakeKeys struct {
	owners map[string]tokens.KeyOwner
	err    error
	calls  atomic.Int64
}

func (f *fakeKeys) KeyOwner(_ context.Context, hash string) (tokens.KeyOwner, error) {
	f.calls.Add(1)
	if f.err != nil {
		return tokens.KeyOwner{}, f.err
	}
	o, ok := f.owners[hash]
	if !ok {
		return tokens.KeyOwner{}, apperr.NotFound("api_key")
	}
	return o, nil
}

func newFixture(t *testing.T, status tokens.AccountStatus) (*Authorizer, *fakeKeys, tokens.KeyOwner, *bytes.Buffer) {
	t.Helper()
	owner := tokens.KeyOwner{AccountID: id.New(id.Account), KeyID: id.New(id.APIKey), KeyGeneration: 3, AccountStatus: status}
	store := &fakeKeys{owners: map[string]tokens.KeyOwner{secret.Hash(fixtureKey): owner}}
	var logs bytes.Buffer
	a, err := New(store, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return a, store, owner, &logs
}

func TestAuthorizeAdmitsTheCurrentKeyOfAnActiveAccount(t *testing.T) {
	for _, fixture := range []string{"admin-header", "admin-header-lowercase", "admin-header-same-twice", "admin-post-token"} {
		t.Run(fixture, func(t *testing.T) {
			a, _, owner, logs := newFixture(t, tokens.AccountStatusActive)
			resp, err := a.Authorize(context.Background(), loadEvent(t, fixture))
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			st := resp.PolicyDocument.Statement
			if len(st) != 1 || st[0].Effect != "Allow" {
				t.Fatalf("policy = %+v, want Allow", resp.PolicyDocument)
			}
			if resp.Context[authctx.AccountID] != owner.AccountID || resp.Context[authctx.APIKeyID] != owner.KeyID ||
				authctx.Int(resp.Context, authctx.APIKeyGeneration) != owner.KeyGeneration {
				t.Errorf("context = %v, want account %s, key %s of generation %d", resp.Context, owner.AccountID, owner.KeyID, owner.KeyGeneration)
			}
			if strings.Contains(logs.String(), fixtureKey) {
				t.Errorf("the log holds the key: %s", logs.String())
			}
		})
	}
}

func TestAuthorizeRefusesBadKeysWithoutTheStore(t *testing.T) {
	for fixture, want := range map[string]Outcome{
		"admin-missing": Missing, "admin-data-token": Malformed, "admin-wrong-prefix": Malformed,
		"admin-basic": Malformed, "admin-header-different": Ambiguous,
	} {
		t.Run(fixture, func(t *testing.T) {
			a, store, _, logs := newFixture(t, tokens.AccountStatusActive)
			_, err := a.Authorize(context.Background(), loadEvent(t, fixture))
			if err == nil || err.Error() != "Unauthorized" {
				t.Errorf("err = %v, want Unauthorized", err)
			}
			if n := store.calls.Load(); n != 0 {
				t.Errorf("store called %d times", n)
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			if line[LogOutcome] != want.Code() {
				t.Errorf("outcome logged %v, want %s", line[LogOutcome], want)
			}
		})
	}
}

func TestAuthorizeRefusesUnknownReplacedAndClosed(t *testing.T) {
	cases := []struct {
		name   string
		status tokens.AccountStatus
		forget bool // the store no longer knows the key (replaced or never issued)
		want   Outcome
	}{
		{"unknown or replaced key", tokens.AccountStatusActive, true, Unknown},
		{"closed account", tokens.AccountStatusClosed, false, AccountClosed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, store, _, logs := newFixture(t, tc.status)
			if tc.forget {
				clear(store.owners)
			}
			_, err := a.Authorize(context.Background(), loadEvent(t, "admin-header"))
			if !errors.Is(err, apigw.ErrUnauthorized) {
				t.Fatalf("err = %v, want Unauthorized", err)
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			if line[LogOutcome] != tc.want.Code() || line[LogDecision] != "unauthorized" {
				t.Errorf("log line = %v, want outcome %s", line, tc.want)
			}
		})
	}
}

func TestAuthorizeFailsClosedWhenTheStoreFails(t *testing.T) {
	a, store, _, logs := newFixture(t, tokens.AccountStatusActive)
	store.err = apperr.Unavailable(errors.New("connection refused"))
	resp, err := a.Authorize(context.Background(), loadEvent(t, "admin-header"))
	if !errors.Is(err, ErrStoreUnavailable) || err.Error() == "Unauthorized" || len(resp.PolicyDocument.Statement) != 0 {
		t.Fatalf("got %+v, %v; want a 500 error and no policy", resp, err)
	}
	if !strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("no error line: %s", logs.String())
	}
}

func TestAllowNamesOnlyTheAdminRoutesOfTheStage(t *testing.T) {
	a, _, _, _ := newFixture(t, tokens.AccountStatusActive)
	ev := loadEvent(t, "admin-header")
	resp, err := a.Authorize(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	arn, _ := apigw.ParseMethodARN(ev.MethodArn)
	got := resp.PolicyDocument.Statement[0].Resource
	want := map[string]bool{}
	for _, m := range []string{"GET", "POST", "PATCH", "DELETE", "PUT"} {
		want[arn.Stage+m+"/admin/*"] = true
	}
	if len(got) != len(want) {
		t.Fatalf("resources = %v, want one per admin method", got)
	}
	for _, r := range got {
		if !want[r] {
			t.Errorf("unexpected resource %s", r)
		}
	}
}

func TestNewRefusesANilStore(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New accepted a nil store")
	}
}
