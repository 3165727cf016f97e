package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/apigw"
	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/authctx"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// deployerRoutes is the ROUTE_SERVICES the tests configure.
var deployerRoutes = map[string]string{"GET /reports/{proxy+}": "tmy"}

// TestAuthorizeDecidesEveryOutcomeOfTheProduct walks PRODUCT.md's
// "Authorizer decisions" list: each row is one outcome, driven by a real
// event fixture and a store state.
func TestAuthorizeDecidesEveryOutcomeOfTheProduct(t *testing.T) {
	past := testNow.Add(-time.Second)
	future := testNow.Add(time.Hour)
	cases := []struct {
		name    string
		fixture string
		store   func(c *tokens.Credential) bool // mutate; false = token not stored
		want    tokens.Outcome
	}{
		{"valid user token allows", "data-query", nil, tokens.Valid},
		{"valid userless token allows", "data-query", func(c *tokens.Credential) bool { c.Token.UserID, c.User = "", tokens.UserGate{}; return true }, tokens.Valid},
		{"token expiring later allows", "data-query", func(c *tokens.Credential) bool { c.Token.ExpiresAt = &future; return true }, tokens.Valid},
		{"no token is 401", "data-missing", nil, tokens.Missing},
		{"malformed token is 401", "data-query-uppercase", nil, tokens.Malformed},
		{"token failing its check is 401 malformed", "data-query-check-failed", nil, tokens.Malformed},
		{"unknown token is 401", "data-query", func(*tokens.Credential) bool { return false }, tokens.Unknown},
		{"deleted token is 401", "data-query", func(*tokens.Credential) bool { return false }, tokens.Unknown},
		{"disabled token is 401", "data-query", func(c *tokens.Credential) bool {
			c.Token.Enabled, c.Token.DisabledReason = false, tokens.DisabledByAdmin
			return true
		}, tokens.Disabled},
		{"expired token is 401", "data-query", func(c *tokens.Credential) bool { c.Token.ExpiresAt = &past; return true }, tokens.Expired},
		{"token of a replaced API key is 401", "data-query", func(c *tokens.Credential) bool { c.Account.KeyGeneration = 2; return true }, tokens.KeyReplaced},
		{"token disabled by key replacement is 401", "data-query", func(c *tokens.Credential) bool {
			c.Token.Enabled, c.Token.DisabledReason = false, tokens.DisabledAPIKeyReplaced
			return true
		}, tokens.KeyReplaced},
		{"two different tokens are 401", "data-query-and-header-different", nil, tokens.Ambiguous},
		{"closed account is 401", "data-query", func(c *tokens.Credential) bool { c.Account.Status = tokens.AccountStatusClosed; return true }, tokens.AccountClosed},
		{"token for another service is 403", "data-timeseries-query", nil, tokens.WrongService},
		{"user access off is 403", "data-query", func(c *tokens.Credential) bool { c.User = tokens.UserGate{}; return true }, tokens.AccessOff},
		{"account without the service is 403", "data-query", func(c *tokens.Credential) bool { c.Account.Services = []string{"timeseries"}; return true }, tokens.ServiceNotSubscribed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			cred := validCredential("tmy")
			if tc.store == nil || tc.store(&cred) {
				store.put(fixtureToken, cred)
			}
			var logs bytes.Buffer
			a := newTestAuthorizer(t, store, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

			ev := loadEvent(t, tc.fixture)
			resp, err := a.Authorize(context.Background(), ev)

			line := decodeLogLine(t, &logs)
			if got := line["outcome"]; got != tc.want.Code() {
				t.Errorf("logged outcome = %v, want %s", got, tc.want.Code())
			}
			switch {
			case tc.want == tokens.Valid:
				assertEffect(t, resp, err, "Allow")
				assertContext(t, resp.Context, cred, "tmy", true)
			case tc.want.Forbidden():
				assertEffect(t, resp, err, "Deny")
				assertContext(t, resp.Context, cred, ev.PathParameters[ServiceParam], false)
				if got := resp.Context[authctx.Outcome]; got != tc.want.Code() {
					t.Errorf("deny context outcome = %v, want %s", got, tc.want.Code())
				}
				assertDenyReason(t, resp.Context, tc.want.Code(), tc.want.Message())
			default:
				if err == nil || err.Error() != "Unauthorized" {
					t.Fatalf("err = %v, want exactly \"Unauthorized\" (API Gateway's 401)", err)
				}
			}
		})
	}
}

// TestAFloodOfMadeUpTokensNeverReadsTheStore: 100,000 random strings of a
// token's shape (32 lowercase hex) are each refused 401 as malformed on
// their check, with no store read at all, at well under 1 µs of check
// each (the check alone; BenchmarkIsToken in pkg/secret measures it).
func TestAFloodOfMadeUpTokensNeverReadsTheStore(t *testing.T) {
	store := newFakeStore()
	store.put(fixtureToken, validCredential("tmy"))
	var logs bytes.Buffer
	a := newTestAuthorizer(t, store, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	flood := randomHexRequests(t, 100_000)
	for i, ev := range flood {
		logs.Reset()
		if _, err := a.Authorize(context.Background(), ev); !errors.Is(err, apigw.ErrUnauthorized) {
			t.Fatalf("request %d: err = %v, want Unauthorized", i, err)
		}
		if !strings.Contains(logs.String(), `"outcome":"token_malformed"`) {
			t.Fatalf("request %d: logged %s, want the outcome token_malformed", i, logs.String())
		}
	}
	if n := store.calls.Load(); n != 0 {
		t.Fatalf("the flood read the store %d times, want 0", n)
	}
}

// TestAStoredTokenFailingItsCheckIsRefusedBeforeTheStore: even a token the
// store holds is refused as malformed, unread, when its check fails; the
// one place that refuses it (admit) is where imported checkless tokens
// would be let in.
func TestAStoredTokenFailingItsCheckIsRefusedBeforeTheStore(t *testing.T) {
	store := newFakeStore()
	store.put(checklessFixtureToken, validCredential("tmy"))
	_, err := newTestAuthorizer(t, store, Options{}).Authorize(context.Background(), loadEvent(t, "data-query-check-failed"))
	if !errors.Is(err, apigw.ErrUnauthorized) || store.calls.Load() != 0 {
		t.Fatalf("err = %v after %d store reads, want Unauthorized after none", err, store.calls.Load())
	}
	if admit(checklessFixtureToken) != tokens.Malformed || admit(fixtureToken) != tokens.Valid {
		t.Fatal("admit does not judge by the check")
	}
}

// TestAuthorizeReadsEveryPlacement proves each way PRODUCT.md lets a caller
// present a token reaches an Allow, with header names and schemes in any
// case and the same token repeated.
func TestAuthorizeReadsEveryPlacement(t *testing.T) {
	for _, fixture := range []string{
		"data-query", "data-query-multivalue-same", "data-header", "data-header-lowercase",
		"data-header-uppercase", "data-query-and-header-same", "feed-path", "feed-path-and-query-same",
	} {
		t.Run(fixture, func(t *testing.T) {
			store := newFakeStore()
			cred := validCredential("tmy")
			store.put(fixtureToken, cred)
			resp, err := newTestAuthorizer(t, store, Options{}).Authorize(context.Background(), loadEvent(t, fixture))
			assertEffect(t, resp, err, "Allow")
			if resp.PrincipalID != cred.Token.ID {
				t.Errorf("principalId = %q, want the token ID %q", resp.PrincipalID, cred.Token.ID)
			}
		})
	}
}

// TestAuthorizeRefusesWithoutTouchingTheStore proves that a request whose
// token cannot be right is answered 401 without a database call.
func TestAuthorizeRefusesWithoutTouchingTheStore(t *testing.T) {
	for _, fixture := range []string{
		"data-missing", "data-query-empty", "data-query-uppercase", "data-query-short",
		"data-query-check-failed", "data-header-basic", "data-header-empty-bearer", "feed-path-malformed",
		"data-query-multivalue-different", "data-query-and-header-different",
		"data-header-multivalue-different", "feed-path-and-header-different",
	} {
		t.Run(fixture, func(t *testing.T) {
			store := newFakeStore()
			store.put(fixtureToken, validCredential("tmy"))
			store.put(otherFixtureToken, validCredential("tmy"))
			store.put(checklessFixtureToken, validCredential("tmy"))
			_, err := newTestAuthorizer(t, store, Options{}).Authorize(context.Background(), loadEvent(t, fixture))
			if !errors.Is(err, apigw.ErrUnauthorized) {
				t.Errorf("err = %v, want Unauthorized", err)
			}
			if n := store.calls.Load(); n != 0 {
				t.Errorf("store called %d times, want 0", n)
			}
		})
	}
}

// TestAuthorizeFailsClosedWhenTheStoreFails proves a store failure or
// timeout never allows and never looks like a 401 or 403: API Gateway
// answers 500 and the operator gets an error line.
func TestAuthorizeFailsClosedWhenTheStoreFails(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), testNow)
	t.Cleanup(cancel)
	cases := []struct {
		name     string
		ctx      context.Context
		storeErr error
	}{
		{"store unreachable", context.Background(), apperr.Unavailable(errors.New("dial tcp: connection refused"))},
		{"store throttling", context.Background(), apperr.Throttled(errors.New("ProvisionedThroughputExceeded"))},
		{"deadline exceeded", expired, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			store.put(fixtureToken, validCredential("tmy"))
			store.err = tc.storeErr
			var logs bytes.Buffer
			a := newTestAuthorizer(t, store, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

			resp, err := a.Authorize(tc.ctx, loadEvent(t, "data-query"))

			if !errors.Is(err, ErrStoreUnavailable) {
				t.Fatalf("err = %v, want ErrStoreUnavailable", err)
			}
			if err.Error() == "Unauthorized" || len(resp.PolicyDocument.Statement) != 0 {
				t.Fatalf("a failed lookup answered a decision: %+v, %v", resp, err)
			}
			line := decodeLogLine(t, &logs)
			if line["level"] != "ERROR" || line["decision"] != string(accesslog.DecisionError) {
				t.Errorf("log line = %v, want an ERROR line with decision=error", line)
			}
		})
	}
}

// TestAuthorizeRefusesRoutesWithoutAService proves a route the deployer
// forgot to map is refused with a 500 and a log line, never guessed.
func TestAuthorizeRefusesRoutesWithoutAService(t *testing.T) {
	store := newFakeStore()
	store.put(fixtureToken, validCredential("tmy"))
	a := newTestAuthorizer(t, store, Options{RouteServices: deployerRoutes})
	_, err := a.Authorize(context.Background(), loadEvent(t, "deployer-route-unmapped"))
	if !errors.Is(err, ErrNoService) {
		t.Fatalf("err = %v, want ErrNoService", err)
	}
	if n := store.calls.Load(); n != 0 {
		t.Errorf("store called %d times, want 0", n)
	}
}

// TestAServiceOutsideTheCatalogueGoesNoFurther (issue 11): whatever a
// caller puts in the {service} segment that the deployment does not list
// (a token, a case variant, a huge string) is refused as a token for
// another service would be, and is neither in the context the access log
// and the backend see nor in the decision line: "" stands for it.
func TestAServiceOutsideTheCatalogueGoesNoFurther(t *testing.T) {
	for name, service := range map[string]string{
		"a token":         fixtureToken,
		"a case variant":  "TMY",
		"an unlisted one": "tmy2",
		"a huge one":      strings.Repeat("s", 2000),
		"a path":          "../tmy",
	} {
		t.Run(name, func(t *testing.T) {
			store := newFakeStore()
			store.put(fixtureToken, validCredential("tmy"))
			var logs bytes.Buffer
			a := newTestAuthorizer(t, store, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			req := loadEvent(t, "data-header")
			req.PathParameters[ServiceParam] = service
			resp, err := a.Authorize(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if effect := resp.PolicyDocument.Statement[0].Effect; effect != "Deny" {
				t.Errorf("effect %s, want Deny", effect)
			}
			if got := resp.Context[authctx.Outcome]; got != tokens.WrongService.Code() {
				t.Errorf("outcome %v, want %s", got, tokens.WrongService.Code())
			}
			if got := resp.Context[authctx.Service]; got != "" {
				t.Errorf("context service %q, want \"\"", got)
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			if got, ok := line["service"]; ok && got != "" {
				t.Errorf("decision line service %q, want none", got)
			}
			if strings.Contains(logs.String(), fixtureToken) {
				t.Errorf("decision line holds the token: %s", logs.String())
			}
		})
	}
}

// TestAnAuthorizerRefusesAMisconfiguredCatalogue: no catalogue, or a
// deployer route mapped to a service outside it, fails at init rather
// than refusing every call of that route at run time.
func TestAnAuthorizerRefusesAMisconfiguredCatalogue(t *testing.T) {
	for name, opts := range map[string]Options{
		"no catalogue":       {Services: []string{}},
		"a route outside it": {Services: testServices, RouteServices: map[string]string{"GET /reports/{proxy+}": "weather"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(newFakeStore(), opts); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

// TestAuthorizeNeverLogsTheToken proves no decision line holds a token,
// whichever placement carried it and whatever the decision.
func TestAuthorizeNeverLogsTheToken(t *testing.T) {
	for _, fixture := range []string{"feed-path", "data-query", "data-header", "feed-path-and-header-different", "data-query-uppercase"} {
		t.Run(fixture, func(t *testing.T) {
			store := newFakeStore()
			store.put(fixtureToken, validCredential("tmy"))
			var logs bytes.Buffer
			a := newTestAuthorizer(t, store, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			if _, err := a.Authorize(context.Background(), loadEvent(t, fixture)); err != nil && !errors.Is(err, apigw.ErrUnauthorized) {
				t.Fatal(err)
			}
			out := strings.ToLower(logs.String())
			for _, tok := range []string{fixtureToken, otherFixtureToken} {
				if strings.Contains(out, tok) {
					t.Errorf("log holds a token: %s", logs.String())
				}
			}
		})
	}
}

// TestDecisionLogLineCarriesTheAttributionFields proves the line the
// usage history reads refused calls from holds the token's identity and
// the redacted request, read back through the line's one definition.
func TestDecisionLogLineCarriesTheAttributionFields(t *testing.T) {
	store := newFakeStore()
	cred := validCredential("tmy")
	cred.Token.Enabled, cred.Token.DisabledReason = false, tokens.DisabledByAdmin
	store.put(fixtureToken, cred)
	var logs bytes.Buffer
	a := newTestAuthorizer(t, store, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	ev := loadEvent(t, "feed-path")
	_, _ = a.Authorize(context.Background(), ev)

	got, err := accesslog.ParseDecision(bytes.TrimSpace(logs.Bytes()), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := accesslog.DecisionLine{
		RequestID: ev.RequestContext.RequestID, Decision: accesslog.DecisionUnauthorized, Status: 401,
		Outcome: tokens.Disabled.Code(), AccountID: cred.Token.AccountID, TokenID: cred.Token.ID,
		TokenType: string(cred.Token.Type()), UserID: cred.Token.UserID, Service: "tmy", HTTPMethod: "GET",
		Resource: "/feed/{token}/{service}/{proxy+}", Path: "/feed/{token}/tmy/hourly",
		SourceIP: ev.RequestContext.Identity.SourceIP, LatencyUs: got.LatencyUs, Time: got.Time,
	}
	if got != want {
		t.Errorf("decision line\n got %+v\nwant %+v", got, want)
	}
	if got.Time.IsZero() {
		t.Error("no logger time on the line")
	}
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	cases := []struct {
		name  string
		store tokens.CredentialStore
		opts  Options
	}{
		{"nil store", nil, Options{}},
		{"route without method", newFakeStore(), Options{RouteServices: map[string]string{"/reports": "tmy"}}},
		{"wildcard service", newFakeStore(), Options{RouteServices: map[string]string{"GET /reports": "*"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.store, tc.opts); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestParseRouteServicesReadsTheEnvironmentFormat(t *testing.T) {
	got, err := ParseRouteServices(`{"GET /reports/{proxy+}":"tmy","POST /exports":"timeseries"}`)
	if err != nil || got["GET /reports/{proxy+}"] != "tmy" || got["POST /exports"] != "timeseries" {
		t.Fatalf("got %v, %v", got, err)
	}
	if got, err := ParseRouteServices(""); err != nil || len(got) != 0 {
		t.Errorf("empty: got %v, %v", got, err)
	}
	if _, err := ParseRouteServices(`["GET /x"]`); err == nil {
		t.Error("accepted a JSON array")
	}
}

func assertEffect(t *testing.T, resp events.APIGatewayCustomAuthorizerResponse, err error, effect string) {
	t.Helper()
	if err != nil {
		t.Fatalf("err = %v, want an %s policy", err, effect)
	}
	st := resp.PolicyDocument.Statement
	if len(st) != 1 || st[0].Effect != effect || len(st[0].Action) != 1 || st[0].Action[0] != "execute-api:Invoke" {
		t.Fatalf("policy = %+v, want one %s statement for execute-api:Invoke", resp.PolicyDocument, effect)
	}
}

// assertDenyReason checks the error body a Deny hands the gateway's
// ACCESS_DENIED response: the caller's 403 code and message.
func assertDenyReason(t *testing.T, got map[string]any, code, message string) {
	t.Helper()
	if got[authctx.ErrorCode] != code || got[authctx.ErrorMessage] != message || message == "" {
		t.Errorf("deny reason %v / %v, want %s / %q", got[authctx.ErrorCode], got[authctx.ErrorMessage], code, message)
	}
}

func assertContext(t *testing.T, got map[string]any, c tokens.Credential, service string, withSettings bool) {
	t.Helper()
	want := map[string]any{
		authctx.AccountID: c.Token.AccountID,
		authctx.TokenID:   c.Token.ID,
		authctx.TokenType: string(c.Token.Type()),
		authctx.UserID:    c.Token.UserID,
		authctx.Service:   service,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("context[%s] = %v, want %v", k, got[k], v)
		}
	}
	for k, v := range got {
		switch v.(type) {
		case string, bool, float64, int, int64:
		default:
			t.Errorf("context[%s] is a %T: API Gateway carries only strings, numbers and booleans", k, v)
		}
	}
	raw, ok := got[authctx.Settings].(string)
	if !withSettings {
		if ok {
			t.Errorf("a Deny carries the settings: %s", raw)
		}
		return
	}
	var settings tokens.Settings
	if err := json.Unmarshal([]byte(raw), &settings); err != nil {
		t.Fatalf("settings %q are not a JSON object: %v", raw, err)
	}
	if len(settings) != len(c.Token.Settings) {
		t.Errorf("settings = %v, want %v", settings, c.Token.Settings)
	}
	for k, v := range c.Token.Settings {
		if settings[k] != v {
			t.Errorf("settings[%s] = %v, want %v", k, settings[k], v)
		}
	}
}

// decodeLogLine returns the one JSON line the authorizer logged.
func decodeLogLine(t *testing.T, logs *bytes.Buffer) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("logged %d lines, want exactly 1:\n%s", len(lines), logs.String())
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatalf("log line is not JSON: %v", err)
	}
	return line
}
