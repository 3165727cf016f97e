// Command localstack runs the whole service on this machine for `make run`:
// DynamoDB Local on 127.0.0.1:$DYNAMODB_PORT (default 8000) with its data in
// .local/dynamodb, or the DynamoDB at $DYNAMODB_ENDPOINT if set (its tables
// created there if missing), the tables exactly as the CDK stack defines them,
// usage not yet recorded kept in .local/usage across restarts, the gateway
// twin's usage plans with their quota counts in .local/usageplans.json, and
// every route of the API on 127.0.0.1:$PORT (default 8080) through the
// real Lambda handlers and authorizers (pkg/localstack). Run it from the
// repository root.
//
// The operator key is $OPERATOR_KEY, else one generated on the first run
// into .local/operator-key. The first run also creates a demo account and
// prints its API key; only the account's ID is remembered. Ctrl-C (or
// SIGTERM) stops the server, delivers pending usage and stops DynamoDB Local.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/ghscan"
	"github.com/acmedata/tokenservice/pkg/local/dynamolocal"
	"github.com/acmedata/tokenservice/pkg/local/gateway"
	"github.com/acmedata/tokenservice/pkg/local/stack"
	"github.com/acmedata/tokenservice/pkg/schema"
)

const (
	stateDir = ".local"
	// tablePrefix names the local tables: fixed, so data persists across runs.
	tablePrefix = "local_"
	// stopBudget bounds a graceful stop in all: draining requests, then
	// delivering the usage of the calls answered. Lines not delivered by
	// then (the store is down, say) stay in the spool in .local/usage and
	// are delivered at the next start: a stop never loses a record, and
	// never hangs on a dead store.
	stopBudget = 3 * time.Second
)

var (
	operatorKeyFile = filepath.Join(stateDir, "operator-key")
	demoAccountFile = filepath.Join(stateDir, "demo-account")
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "localstack:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) (err error) {
	port, err := envPort("PORT", 8080)
	if err != nil {
		return err
	}
	dbPort, err := envPort("DYNAMODB_PORT", 8000)
	if err != nil {
		return err
	}
	operatorKey, err := loadOperatorKey()
	if err != nil {
		return err
	}

	if os.Getenv(config.EnvDynamoEndpoint) == "" {
		fmt.Println("Starting DynamoDB Local (the first run installs it with npm)...")
	}
	// With DYNAMODB_ENDPOINT set, the stack uses that DynamoDB (a team's
	// shared one, or one an outside tool measures) and creates its tables
	// there if they are missing; otherwise it starts its own.
	endpoint, stopDB, err := dynamolocal.EnvOrStart(ctx, dynamolocal.Options{Port: dbPort, DataDir: filepath.Join(stateDir, "dynamodb")})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopDB()) }()
	client, err := dynamolocal.NewClient(ctx, endpoint)
	if err != nil {
		return err
	}
	tables, err := dynamolocal.EnsureTables(ctx, client, tablePrefix, schema.All)
	if err != nil {
		return err
	}

	svc, err := stack.Build(ctx, stack.Config{
		Client: client, Tables: tables, OperatorKey: operatorKey, LogOutput: os.Stderr,
		SpoolDir: filepath.Join(stateDir, "usage"),
		// The gateway twin's usage plans: a restart keeps every quota.
		UsagePlansFile: filepath.Join(stateDir, "usageplans.json"),
		// As on AWS: REVOCATION_DELAY if set, else the 1 s default.
		RevocationDelay:  os.Getenv(config.EnvRevocationDelay),
		GitHubPublicKeys: os.Getenv(ghscan.EnvPublicKeys),
	})
	if err != nil {
		return err
	}
	var stopBy stopDeadline
	defer func() {
		closeCtx, cancel := stopBy.context()
		defer cancel()
		err = errors.Join(err, svc.Close(closeCtx))
	}()

	apiKey, accountID, err := demoAccount(ctx, svc)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := gateway.NewServer(svc)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(gateway.Listener(ln)) }()

	printBanner(addr, endpoint, operatorKey, accountID, apiKey)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Println("\nStopping...")
	shutCtx, cancel := stopBy.context()
	defer cancel()
	return srv.Shutdown(shutCtx)
}

// stopDeadline is the one deadline of a stop, set when stopping begins, so
// that its steps share stopBudget rather than take it each.
type stopDeadline struct{ at time.Time }

func (s *stopDeadline) context() (context.Context, context.CancelFunc) {
	if s.at.IsZero() {
		s.at = time.Now().Add(stopBudget)
	}
	return context.WithDeadline(context.Background(), s.at)
}

func envPort(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("%s=%q is not a port", name, v)
	}
	return p, nil
}

// loadOperatorKey returns $OPERATOR_KEY, else the key saved by an earlier
// run, else a new one, saved readable by this user only.
func loadOperatorKey() (string, error) {
	if k := strings.TrimSpace(os.Getenv("OPERATOR_KEY")); k != "" {
		return k, nil
	}
	b, err := os.ReadFile(operatorKeyFile)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read operator key: %w", err)
	}
	key := "opk_" + rand.Text()
	if err := writePrivate(operatorKeyFile, key); err != nil {
		return "", fmt.Errorf("save operator key: %w", err)
	}
	return key, nil
}

// demoAccount creates the demo account on the first run and returns its
// API key, shown this once; later runs return only its remembered ID.
func demoAccount(ctx context.Context, svc *stack.Stack) (apiKey, accountID string, err error) {
	if b, err := os.ReadFile(demoAccountFile); err == nil {
		return "", strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("read demo account: %w", err)
	}
	acc, key, err := svc.Manager.CreateAccount(audit.WithOperator(ctx, "local-stack"), "Demo", []string{"tmy", "timeseries"})
	if err != nil {
		return "", "", fmt.Errorf("create demo account: %w", err)
	}
	// Only the ID is kept: the key, like every API key, exists only as a hash.
	if err := writePrivate(demoAccountFile, acc.ID); err != nil {
		return "", "", fmt.Errorf("save demo account: %w", err)
	}
	return key, acc.ID, nil
}

func writePrivate(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content+"\n"), 0o600)
}

func printBanner(addr, dbEndpoint, operatorKey, accountID, apiKey string) {
	base := "http://" + addr
	where := "data in " + filepath.Join(stateDir, "dynamodb")
	if os.Getenv(config.EnvDynamoEndpoint) != "" {
		where = "from " + config.EnvDynamoEndpoint
	}
	fmt.Printf("\nConsole:         %s/console/   <- sign in with the API key\n", base)
	fmt.Printf("API:             %s\nDynamoDB Local:  %s (%s)\n", base, dbEndpoint, where)
	fmt.Printf("Operator key:    %s\n", operatorKey)
	if apiKey != "" {
		fmt.Printf("Demo account:    %s\nDemo API key:    %s   <- shown once, keep it\n", accountID, apiKey)
	} else {
		fmt.Printf("Demo account:    %s (its API key was shown on the first run; replace a lost one with\n"+
			"                 curl -X POST -H \"Authorization: Bearer <operator key>\" %s/operator/accounts/%s/api-key)\n",
			accountID, base, accountID)
	}
	fmt.Printf("\nTry:  curl -s -H \"Authorization: Bearer <API key>\" %s/admin/account\n", base)
	fmt.Println("Ctrl-C stops everything.")
}
