// Package handlertest holds what the handler packages' tests share: a real
// tokens.Manager over the in-memory store, seeded with an account, and
// helpers to call a handler with a fixture event and read its answer.
package handlertest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/testkit/fixtures"
	"github.com/acmedata/tokenservice/pkg/testkit/memstore"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Env is a Manager with one active account subscribed to tmy and timeseries.
type Env struct {
	Mgr     *tokens.Manager
	Account tokens.Account
	Key     string
}

// New returns a fresh Env.
func New(t testing.TB) *Env {
	t.Helper()
	mgr, err := tokens.NewManager(memstore.New(), tokens.Config{
		Services: []tokens.Service{{ID: "tmy", Name: "TMY data"}, {ID: "timeseries", Name: "Time Series data"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, key, err := mgr.CreateAccount(audit.WithOperator(context.Background(), "test"), "Acme Data", []string{"tmy", "timeseries"})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Mgr: mgr, Account: a, Key: key}
}

// Vars returns fixture placeholders for the Env's account merged with extra.
func (e *Env) Vars(extra map[string]string) map[string]string {
	vars := map[string]string{"accountId": e.Account.ID, "keyId": e.Account.APIKey.ID, "body": ""}
	for k, v := range extra {
		vars[k] = v
	}
	return vars
}

// Serve is a Lambda proxy handler.
type Serve func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// Call loads fixture name with vars, hands it to serve and returns the
// response, failing the test if the handler returned an error (API Gateway
// would turn it into a bare 502) or a non-JSON error body.
func Call(t testing.TB, serve Serve, name string, vars map[string]string) events.APIGatewayProxyResponse {
	t.Helper()
	req := fixtures.Load[events.APIGatewayProxyRequest](t, name, vars)
	resp, err := serve(context.Background(), req)
	if err != nil {
		t.Fatalf("%s: handler returned error %v", name, err)
	}
	if resp.StatusCode >= 400 && !strings.HasPrefix(resp.Body, `{"error":{"code":"`) {
		t.Fatalf("%s: error answer %d without the JSON error body: %s", name, resp.StatusCode, resp.Body)
	}
	return resp
}

// Decode unmarshals a response body into a value of type T.
func Decode[T any](t testing.TB, resp events.APIGatewayProxyResponse) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return v
}

// ErrorCode returns the code of a JSON error body ("" if none).
func ErrorCode(t testing.TB, resp events.APIGatewayProxyResponse) string {
	t.Helper()
	if resp.StatusCode < 400 {
		return ""
	}
	return Decode[struct {
		Error struct{ Code string } `json:"error"`
	}](t, resp).Error.Code
}
