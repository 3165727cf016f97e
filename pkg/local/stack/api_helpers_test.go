package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/acmedata/tokenservice/pkg/handlers/operator"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/local/gateway"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/testkit/apicontract"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// api is the whole stack behind a real HTTP server, on fresh tables.
type api struct {
	url         string
	operatorKey string
	client      *dynamodb.Client
	tables      map[string]string
	stack       *Stack
	logs        lockedBuffer // every function's log lines

	mu         sync.Mutex
	secrets    []string // every token and API key the API has shown
	operations []string // every DynamoDB operation the stack called, in order
}

// newAPI starts the stack for one test with no revocation delay, so that
// a test sees a change on the very next request. When the test ends it
// checks that no table holds any secret the API handed out, then tears
// everything down.
func newAPI(t *testing.T) *api {
	t.Helper()
	return newAPIWithDelay(t, "0")
}

// newAPIWithDelay is newAPI with the token authorizer's revocation delay
// set as REVOCATION_DELAY would ("" for the default, 1 s).
func newAPIWithDelay(t *testing.T, delay string) *api {
	t.Helper()
	return newAPIWith(t, func(c *Config) { c.RevocationDelay = delay })
}

// newAPIWith is newAPI with the stack's Config changed by configure.
func newAPIWith(t *testing.T, configure func(*Config)) *api {
	t.Helper()
	a := &api{
		operatorKey: "opk_" + strings.Repeat("x", 8) + t.Name(),
		client:      dynamotest.Client(t),
		tables:      dynamotest.Tables(t),
	}
	cfg := Config{
		Client: a.recording(a.client), Tables: a.tables, OperatorKey: a.operatorKey,
		UsageFlushInterval: 20 * time.Millisecond, LogOutput: &a.logs, SpoolDir: t.TempDir(),
		RevocationDelay: "0",
	}
	configure(&cfg)
	stack, err := Build(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.stack = stack
	// As scripts/localstack serves it: the server's own refusals (a bad
	// %-escape, a NUL in a header) answer the JSON error body too.
	srv := httptest.NewUnstartedServer(stack)
	srv.Config = gateway.NewServer(stack)
	srv.Listener = gateway.Listener(srv.Listener)
	srv.Start()
	a.url = srv.URL
	// Cleanups run last-in first-out: stop serving, deliver usage, then
	// look for secrets before dynamotest deletes the tables.
	t.Cleanup(func() { a.assertNoPlaintextSecrets(t) })
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := stack.Close(ctx); err != nil {
			t.Errorf("close stack: %v", err)
		}
	})
	return a
}

// recording is c with every operation the stack calls noted, so that a
// test can prove a request path never scans (the test's own secret scan
// uses c itself).
func (a *api) recording(c *dynamodb.Client) *dynamodb.Client {
	return dynamodb.New(c.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("recordOperation",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					a.mu.Lock()
					a.operations = append(a.operations, awsmiddleware.GetOperationName(ctx))
					a.mu.Unlock()
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	})
}

// operationsSince returns the DynamoDB operations the stack called after
// the first n (n from a previous len(operationsSince(0))).
func (a *api) operationsSince(n int) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.operations[n:])
}

// flushUsage delivers the usage of every call answered so far to the
// usage table, so that a test can count records without polling. The
// gateway ships a call's line before its handler returns, and net/http
// sends a small answer only then, so an answered call's line is shipped.
func (a *api) flushUsage(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := a.stack.Flush(ctx); err != nil {
		t.Fatalf("deliver usage: %v", err)
	}
}

// response is one HTTP answer.
type response struct {
	Status int
	Body   []byte
}

// call sends a request with a bearer credential (none if "") and a body:
// nil for none, a string or []byte as it is, anything else as JSON.
func (a *api) call(t *testing.T, method, path, credential string, body any) response {
	t.Helper()
	r, err := a.send(t.Context(), method, path, credential, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// send is call for goroutines other than the test's, which must not
// call t.Fatal. Every exchange is checked against the OpenAPI document
// (pkg/openapi): an answer it does not describe, or a request it refuses
// that the service serves, is an error.
func (a *api) send(ctx context.Context, method, path, credential string, body any) (response, error) {
	var payload []byte
	switch b := body.(type) {
	case nil:
	case string:
		payload = []byte(b)
	case []byte:
		payload = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		payload = raw
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.url+path, r)
	if err != nil {
		return response{}, err
	}
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	out := response{Status: res.StatusCode, Body: raw}
	a.remember(out.Body)
	checker, err := contract()
	if err != nil {
		return out, err
	}
	if err := checker.Check(req, payload, res, raw); err != nil {
		return out, fmt.Errorf("contract: %w", err)
	}
	return out, nil
}

// contract is the checker of every exchange, built once per test binary.
var contract = sync.OnceValues(apicontract.New)

// remember keeps every "token" and "apiKey" an answer shows, for the
// final check that none of them is stored in plain text.
func (a *api) remember(body []byte) {
	var fields struct{ Token, APIKey string }
	if json.Unmarshal(body, &fields) != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range []string{fields.Token, fields.APIKey} {
		if s != "" {
			a.secrets = append(a.secrets, s)
		}
	}
}

// want checks the status and decodes the body into out (if not nil).
func want[T any](t *testing.T, r response, status int) T {
	t.Helper()
	var out T
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	if status == http.StatusNoContent {
		if len(r.Body) != 0 {
			t.Fatalf("204 with body %s", r.Body)
		}
		return out
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	return out
}

// wantError checks an error answer: its status, PRODUCT.md's body and,
// if code is not "", its code.
func wantError(t *testing.T, r response, status int, code string) {
	t.Helper()
	var body struct {
		Error *struct{ Code, Message string } `json:"error"`
	}
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Error == nil || body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("body %s is not the JSON error body", r.Body)
	}
	if code != "" && body.Error.Code != code {
		t.Fatalf("error code %q, want %q (body %s)", body.Error.Code, code, r.Body)
	}
}

// account is an account made through the operator API.
type account struct {
	ID  string
	Key string
}

func (a *api) createAccount(t *testing.T, services ...string) account {
	t.Helper()
	r := a.call(t, "POST", "/operator/accounts", a.operatorKey, map[string]any{"name": "Acct " + t.Name(), "services": services})
	got := want[operator.CreatedAccount](t, r, http.StatusCreated)
	return account{ID: got.Account.ID, Key: got.APIKey}
}

func (a *api) createUser(t *testing.T, acc account, email string) httpapi.UserView {
	t.Helper()
	return want[httpapi.UserView](t, a.call(t, "POST", "/admin/users", acc.Key, map[string]string{"email": email, "name": "User " + email}), http.StatusCreated)
}

func (a *api) setAccess(t *testing.T, acc account, service, userID string, on bool) {
	t.Helper()
	want[map[string]any](t, a.call(t, "PUT", "/admin/services/"+service+"/users/"+userID, acc.Key, map[string]bool{"active": on}), http.StatusOK)
}

// issue makes a token; body may be nil for a userless one without a name.
func (a *api) issue(t *testing.T, acc account, service string, body map[string]any) httpapi.NewTokenView {
	t.Helper()
	var payload any // no body, not a JSON null, for a nil map
	if body != nil {
		payload = body
	}
	tok := want[httpapi.NewTokenView](t, a.call(t, "POST", "/admin/services/"+service+"/tokens", acc.Key, payload), http.StatusCreated)
	if !secret.IsToken(tok.Token) {
		t.Fatalf("issued token %q is not 32 lowercase hex", tok.Token)
	}
	return tok
}

func (a *api) getToken(t *testing.T, acc account, id string) httpapi.TokenView {
	t.Helper()
	return want[httpapi.TokenView](t, a.call(t, "GET", "/admin/tokens/"+id, acc.Key, nil), http.StatusOK)
}

// dataStatus calls the demo data route with a token in the query string.
func (a *api) dataStatus(t *testing.T, service, token string) int {
	t.Helper()
	return a.call(t, "GET", "/data/"+service+"/hourly?token="+token, "", nil).Status
}

// assertNoSecretInLogs fails the test if any log line written so far
// holds one of secrets, or an API key's random part.
func (a *api) assertNoSecretInLogs(t *testing.T, secrets ...string) {
	t.Helper()
	logs := a.logs.String()
	for _, s := range secrets {
		for _, n := range []string{s, strings.TrimPrefix(s, tokens.DefaultAPIKeyPrefix)} {
			if strings.Contains(logs, n) {
				t.Errorf("a log line holds a secret in plain text (hint %s)", secret.Hint(s))
			}
		}
	}
}

// assertNoPlaintextSecrets scans every table (test code only: the service
// itself never scans) for any token or API key the API has shown.
func (a *api) assertNoPlaintextSecrets(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var dump strings.Builder
	for _, name := range a.tables {
		p := dynamodb.NewScanPaginator(a.client, &dynamodb.ScanInput{TableName: &name, ConsistentRead: aws.Bool(true)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("scan %s: %v", name, err)
			}
			var items []map[string]any
			if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(items)
			dump.Write(b)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.secrets {
		// An API key's random part alone would be a leak too.
		needles := []string{s, strings.TrimPrefix(s, tokens.DefaultAPIKeyPrefix)}
		for _, n := range needles {
			if strings.Contains(dump.String(), n) {
				t.Errorf("a table holds a secret in plain text (hint %s)", secret.Hint(s))
			}
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for the stack's concurrent loggers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
