package functions

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/acmedata/tokenservice/infra/lambdaenv"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
	"github.com/acmedata/tokenservice/pkg/testkit/fixtures"
	"github.com/acmedata/tokenservice/pkg/testkit/lambdarie"
	"github.com/acmedata/tokenservice/pkg/tokens"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func TestMain(m *testing.M) {
	code := dynamotest.Run(m)
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func functionNames() ([]string, error) { return lambdarie.Functions() }

// deployment is what the CDK stack gives each function, synthesised once
// per test binary.
var deployment = sync.OnceValues(func() (map[string]lambdaenv.Function, error) {
	names, err := functionNames()
	if err != nil {
		return nil, err
	}
	return lambdaenv.Synthesise(names)
})

// buildDir holds the binaries the tests built, removed by TestMain.
var buildDir string

// binaries builds every function once per test binary, as make build
// does but for this machine's CPU, and returns the directory holding
// <name>/bootstrap.
var binaries = sync.OnceValues(func() (string, error) {
	names, err := functionNames()
	if err != nil {
		return "", err
	}
	if buildDir, err = os.MkdirTemp("", "rie-bin-"); err != nil {
		return "", err
	}
	return buildDir, lambdarie.Build(context.Background(), buildDir, names...)
})

var emulator = sync.OnceValues(func() (string, error) { return lambdarie.Install(context.Background()) })

// start runs the built binary of function name under the emulator with env.
func start(t *testing.T, name string, env map[string]string, memoryMiB int) *lambdarie.Function {
	t.Helper()
	dir, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	rie, err := emulator()
	if err != nil {
		t.Fatal(err)
	}
	f, err := lambdarie.Start(t.Context(), lambdarie.Options{
		Emulator: rie, Bootstrap: filepath.Join(dir, name, "bootstrap"), Env: env, MemoryMiB: memoryMiB,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("%s under the emulator:\n%s", name, f.Output())
		}
	})
	return f
}

// TestDeployedBinariesAnswerAsTheHandlersDoInProcess starts every
// function's bootstrap under the Lambda Runtime Interface Emulator with the
// environment the CDK stack gives it, invokes it with each of its events/
// fixtures, and checks each answer equals the one the same handler gives
// in process, over an identically seeded store.
func TestDeployedBinariesAnswerAsTheHandlersDoInProcess(t *testing.T) {
	names, err := functionNames()
	if err != nil {
		t.Fatal(err)
	}
	deployed, err := deployment()
	if err != nil {
		t.Fatalf("synthesise the stack: %v", err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, ok := deployed[name]
			if !ok {
				t.Fatalf("the CDK stack deploys no function %s", name)
			}
			cases := fixtureCases(t, name)
			endpoint := dynamotest.Endpoint(t)

			local := seed(t, d, endpoint)
			handler, err := inProcess(t.Context(), name, local.env)
			if err != nil {
				t.Fatalf("in process: %v", err)
			}
			invoke := lambda.NewHandler(handler)

			remote := seed(t, d, endpoint)
			f := start(t, name, remote.env, d.MemoryMiB)

			served := false
			for _, c := range cases {
				want, err := invoke.Invoke(t.Context(), local.event(t, c))
				if err != nil {
					// The runtime reports a handler's error as this object.
					want, _ = json.Marshal(map[string]string{"errorMessage": err.Error()})
				}
				status, got, err := f.Invoke(t.Context(), remote.event(t, c))
				if err != nil {
					t.Fatalf("%s: %v", c.fixture, err)
				}
				if status != http.StatusOK {
					t.Fatalf("%s: the emulator answered %d: %s", c.fixture, status, got)
				}
				wantN, gotN := local.normalise(t, want), remote.normalise(t, withoutErrorType(t, got))
				if wantN != gotN {
					t.Errorf("%s:\n under the runtime: %s\n in process:        %s", c.fixture, gotN, wantN)
				}
				served = served || isServed(gotN)
			}
			if !served {
				t.Errorf("no fixture of %s succeeded: the seeded store does not match the fixtures", name)
			}
		})
	}
}

// TestABadConfigurationFailsInitLoudly: a function missing a table name or
// given an unreadable setting logs why, exits non-zero during init, and
// never answers an event.
func TestABadConfigurationFailsInitLoudly(t *testing.T) {
	names, err := functionNames()
	if err != nil {
		t.Fatal(err)
	}
	deployed, err := deployment()
	if err != nil {
		t.Fatalf("synthesise the stack: %v", err)
	}
	type breakage struct {
		function, name, unset, set, value, logged string
	}
	var cases []breakage
	for _, name := range names {
		d := deployed[name]
		for k := range d.Tables {
			cases = append(cases, breakage{name, "without " + k, k, "", "", k + " is not set"})
		}
		cases = append(cases, breakage{name, "with a bad " + config.EnvLogLevel, "", config.EnvLogLevel, "loud", config.EnvLogLevel})
	}
	for _, c := range cases {
		t.Run(c.function+" "+c.name, func(t *testing.T) {
			t.Parallel()
			d := deployed[c.function]
			env := d.Local(map[string]string{schema.Core.ID: "core", schema.Usage.ID: "usage"}, "http://127.0.0.1:1")
			delete(env, c.unset)
			if c.set != "" {
				env[c.set] = c.value
			}
			f := start(t, c.function, env, d.MemoryMiB)
			status, body, err := f.Invoke(t.Context(), []byte(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			if status == http.StatusOK {
				t.Fatalf("the function answered an event despite its configuration: %s", body)
			}
			if err := f.AwaitOutput(t.Context(), "INIT RTDONE(status: error)"); err != nil {
				t.Fatal(err)
			}
			out := f.Output()
			for _, want := range []string{`"level":"ERROR"`, c.logged, "exit status 1", "INIT RTDONE(status: error)"} {
				if !strings.Contains(out, want) {
					t.Errorf("init output lacks %q", want)
				}
			}
		})
	}
}

// fixtureCase is one event of events/<function>/ with its placeholders.
type fixtureCase struct {
	fixture string
	vars    func(w *world) map[string]string
}

// fixtureCases lists every fixture of the function; a fixture with a
// request body gets one that its handler accepts.
func fixtureCases(t *testing.T, function string) []fixtureCase {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(fixtures.Dir(), function))
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]func(w *world) string{
		"manage/create-user.json":      func(*world) string { return `{"email":"grace@example.com","name":"Grace Hopper"}` },
		"manage/patch-token.json":      func(*world) string { return `{"name":"renamed","enabled":false}` },
		"operator/create-account.json": func(*world) string { return `{"name":"Beta Analytics","services":["tmy"]}` },
		"operator/put-settings.json":   func(*world) string { return `{"settings":{"publicOnly":true,"maxRows":100}}` },
		"issue/issue-token.json": func(w *world) string {
			return fmt.Sprintf(`{"name":"notebook","userId":%q,"expiresAt":"2030-01-02T15:04:05Z"}`, w.user.ID)
		},
		"clone/clone-token.json": func(*world) string { return `{"name":"rotated","revokeSourceAfterSeconds":3600}` },
	}
	var cases []fixtureCase
	for _, e := range entries {
		// events/recorder/*.decoded.json show what the encoded events hold.
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasSuffix(e.Name(), ".decoded.json") {
			continue
		}
		name := function + "/" + e.Name()
		body := bodies[name]
		cases = append(cases, fixtureCase{fixture: name, vars: func(w *world) map[string]string {
			v := map[string]string{
				"accountId": w.account.ID, "keyId": w.account.APIKey.ID, "tokenId": w.userless.ID,
				"service": "tmy", "type": "user", "limit": "10", "body": "",
			}
			if body != nil {
				v["body"] = body(w)
			}
			return v
		}})
	}
	if len(cases) == 0 {
		t.Fatalf("events/%s holds no fixture", function)
	}
	return cases
}

// The secrets the fixtures present, replaced by the seeded ones.
const (
	fixtureToken      = "46a4eccec1414feab118287f5af26f03"             // events/authorizer, the user token
	otherFixtureToken = "9f1c2e3d4b5a69788796a5b4ccff71cf"             // events/authorizer, the userless token
	fixtureKey        = "tka_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGH" // events/keyauthorizer
)

// world is one fresh set of tables seeded with an account, a user with
// access to tmy, a user token and a userless token.
type world struct {
	env      map[string]string
	account  tokens.Account
	key      string
	user     tokens.User
	userTok  tokens.TokenView
	userless tokens.TokenView
	secrets  map[string]string // fixture secret -> seeded secret
	names    map[string]string // seeded value -> its name in a normalised answer
}

func seed(t *testing.T, d lambdaenv.Function, endpoint string) *world {
	t.Helper()
	ctx := audit.WithOperator(t.Context(), "test")
	tables := dynamotest.Tables(t)
	w := &world{env: d.Local(tables, endpoint)}
	getenv := func(k string) string { return w.env[k] }
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	// Seeded even for a function that reads no table, whose fixtures name
	// an account all the same.
	cfg.CoreTable = tables[schema.Core.ID]
	mgr, err := wire.SharedDeps(cfg, getenv, slog.New(slog.DiscardHandler), dynamotest.Client(t)).Manager(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w.account, w.key, err = mgr.CreateAccount(ctx, "Acme Data", []string{"tmy", "timeseries"}); err != nil {
		t.Fatal(err)
	}
	if w.user, err = mgr.CreateUser(ctx, w.account.ID, "ada@example.com", "Ada Lovelace"); err != nil {
		t.Fatal(err)
	}
	if _, err = mgr.SetAccess(ctx, w.account.ID, "tmy", w.user.ID, true); err != nil {
		t.Fatal(err)
	}
	name := "ci"
	var userSecret, userlessSecret string
	if w.userTok, userSecret, err = mgr.IssueToken(ctx, w.account.ID, "tmy", tokens.IssueRequest{Name: &name, UserID: w.user.ID}); err != nil {
		t.Fatal(err)
	}
	if w.userless, userlessSecret, err = mgr.IssueToken(ctx, w.account.ID, "tmy", tokens.IssueRequest{Name: &name}); err != nil {
		t.Fatal(err)
	}
	w.secrets = map[string]string{fixtureToken: userSecret, otherFixtureToken: userlessSecret, fixtureKey: w.key}
	w.names = map[string]string{
		w.account.ID: "<account>", w.account.APIKey.ID: "<key>", w.user.ID: "<user>",
		w.userTok.ID: "<user token>", w.userless.ID: "<userless token>",
		userSecret: "<user token secret>", userlessSecret: "<userless token secret>", w.key: "<api key>",
	}
	return w
}

// event is the fixture with the world's IDs and secrets.
func (w *world) event(t *testing.T, c fixtureCase) []byte {
	t.Helper()
	text := string(fixtures.Raw(t, c.fixture, c.vars(w)))
	for fixture, seeded := range w.secrets {
		text = strings.ReplaceAll(text, fixture, seeded)
	}
	return []byte(text)
}

var (
	generatedID     = regexp.MustCompile(`\b(acc|usr|tok|key)_[0-9a-z]{26}\b`)
	generatedSecret = regexp.MustCompile(`\btka_[A-Z2-7]{20,}|\b[0-9a-f]{32}\b`)
	timestamp       = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	hint            = regexp.MustCompile(`(\\*"hint\\*":\\*")[^"\\]*`)
)

// normalise names the world's seeded values, then numbers the IDs and
// secrets made during the call in order of appearance (so an answer that
// points at the wrong one still differs), and blanks times and hints
// (which derive from the secrets). What remains must be equal.
func (w *world) normalise(t *testing.T, answer []byte) string {
	t.Helper()
	s := string(answer)
	for value, name := range w.names {
		s = strings.ReplaceAll(s, value, name)
	}
	seen := map[string]string{}
	number := func(kind string) func(string) string {
		return func(v string) string {
			if _, ok := seen[v]; !ok {
				seen[v] = fmt.Sprintf("<new %s %d>", kind, len(seen)+1)
			}
			return seen[v]
		}
	}
	s = generatedID.ReplaceAllStringFunc(s, number("id"))
	s = generatedSecret.ReplaceAllStringFunc(s, number("secret"))
	s = timestamp.ReplaceAllString(s, "<time>")
	return hint.ReplaceAllString(s, "${1}<hint>")
}

// withoutErrorType drops the errorType of the runtime's error object: it
// names the Go type of the error value, which the in-process call has no
// equivalent for; the message is compared.
func withoutErrorType(t *testing.T, answer []byte) []byte {
	t.Helper()
	var e map[string]any
	if json.Unmarshal(answer, &e) != nil || e["errorMessage"] == nil {
		return answer
	}
	delete(e, "errorType")
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	proxyAnswer  = regexp.MustCompile(`"statusCode":(\d+)`)
	policyAnswer = regexp.MustCompile(`"Effect":"(Allow|Deny)"`)
)

// isServed reports whether an answer is a success: a 2xx, an Allow, or
// (for the functions that answer no HTTP call) no error.
func isServed(answer string) bool {
	if strings.Contains(answer, `"errorMessage"`) {
		return false
	}
	if m := proxyAnswer.FindStringSubmatch(answer); m != nil {
		return strings.HasPrefix(m[1], "2")
	}
	if m := policyAnswer.FindStringSubmatch(answer); m != nil {
		return m[1] == "Allow"
	}
	return true
}

// inProcess builds, over the stores env names, the handler that
// functions/<name>/main.go serves: through the same wire.Build, as the
// local stack does.
func inProcess(ctx context.Context, name string, env map[string]string) (any, error) {
	getenv := func(k string) string { return env[k] }
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	client, err := config.DynamoDB(ctx, cfg, config.ClientOptions{})
	if err != nil {
		return nil, err
	}
	d := wire.SharedDeps(cfg, getenv, slog.New(slog.DiscardHandler), client)
	switch name {
	case "authorizer":
		return build(ctx, d, wire.Authorizers[routes.TokenAuth])
	case "keyauthorizer":
		return build(ctx, d, wire.Authorizers[routes.APIKeyAuth])
	case "recorder":
		return build(ctx, d, wire.Recorder)
	case "sweeper":
		return build(ctx, d, wire.Sweeper)
	}
	if b, ok := wire.Proxies[routes.Function(name)]; ok {
		return build(ctx, d, b)
	}
	return nil, fmt.Errorf("function %s has no in-process twin here: add the wire.Build its main starts", name)
}

func build[H any](ctx context.Context, d wire.Deps, b wire.Build[H]) (any, error) { return b(ctx, d) }
