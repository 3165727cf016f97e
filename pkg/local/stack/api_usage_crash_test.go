package stack

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/local/dynamolocal"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
	"github.com/acmedata/tokenservice/pkg/testkit/loadgen"
	"github.com/acmedata/tokenservice/pkg/usage"
	"github.com/acmedata/tokenservice/pkg/usagestore"
)

// The child stack's configuration, passed through its environment.
const (
	childAddrEnv   = "STACK_CHILD_ADDR"
	childTablesEnv = "STACK_CHILD_TABLES"
	childSpoolEnv  = "STACK_CHILD_SPOOL"
	childKeyEnv    = "STACK_CHILD_OPERATOR_KEY"
	childReady     = "stack ready"
)

// runChild serves the stack as make run does, until SIGTERM (a clean
// stop that delivers its usage) or SIGKILL (a crash).
func runChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	var tables map[string]string
	if err := json.Unmarshal([]byte(os.Getenv(childTablesEnv)), &tables); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	client, err := dynamolocal.NewClient(ctx, os.Getenv(config.EnvDynamoEndpoint))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	st, err := Build(ctx, Config{
		Client: client, Tables: tables, OperatorKey: os.Getenv(childKeyEnv),
		SpoolDir: os.Getenv(childSpoolEnv), UsageFlushInterval: 50 * time.Millisecond,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	ln, err := net.Listen("tcp", os.Getenv(childAddrEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	srv := &http.Server{Handler: st, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println(childReady)
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)
	if err := st.Close(shut); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// child is one run of the stack in a child process.
type child struct {
	cmd  *exec.Cmd
	done chan error
}

func startChild(t *testing.T, env []string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == childReady {
				ready <- true
			}
		}
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case <-ready:
	case err := <-c.done:
		t.Fatalf("the child stack exited before it was ready: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the child stack did not start")
	}
	return c
}

// answered is what the load saw: the request ID of every answered call.
type answered struct {
	mu  sync.Mutex
	ids map[string]int // request ID -> status
}

func (a *answered) add(r *http.Response) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ids[r.Header.Get("X-Amzn-Requestid")] = r.StatusCode
}

func (a *answered) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids)
}

// TestUsageSurvivesTheStackKilledMidLoad: the stack is SIGKILLed while
// 8 callers drive it and started again on the same .local state; every call
// that got an answer (served, refused 403 or 401) is in the history
// afterwards, matched by request ID: the undelivered lines were on disk.
func TestUsageSurvivesTheStackKilledMidLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the stack three times")
	}
	tables := dynamotest.Tables(t)
	raw, err := json.Marshal(tables)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	operatorKey := "opk_crash_" + fmt.Sprint(time.Now().UnixNano())
	env := []string{
		childAddrEnv + "=" + addr, childTablesEnv + "=" + string(raw), childSpoolEnv + "=" + filepath.Join(t.TempDir(), "usage"),
		childKeyEnv + "=" + operatorKey, config.EnvDynamoEndpoint + "=" + dynamotest.Endpoint(t),
	}
	first := startChild(t, env)
	base := "http://" + addr
	accountID, apiKey := createAccountOver(t, base, operatorKey)
	served, disabled := issueOver(t, base, apiKey), issueOver(t, base, apiKey)
	disable(t, base, apiKey, disabled.ID)

	seen := &answered{ids: map[string]int{}}
	loadDone := make(chan error, 1)
	go func() {
		_, err := loadgen.Run(context.Background(), loadgen.Options{Concurrency: 8, Requests: 3000, OnResponse: func(_ int, r *http.Response) { seen.add(r) }},
			func(ctx context.Context, i int) (*http.Request, error) {
				token, service := served.Token, "tmy"
				switch i % 10 {
				case 8:
					service = "timeseries"
				case 9:
					token = disabled.Token
				}
				return http.NewRequestWithContext(ctx, http.MethodGet, base+"/data/"+service+"/hourly?token="+token, nil)
			})
		loadDone <- err
	}()
	waitFor(t, func() bool { return seen.count() >= 800 })
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	killedAt := seen.count()
	second := startChild(t, env)
	if err := <-loadDone; err != nil {
		t.Fatal(err)
	}
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-second.done; err != nil {
		t.Fatalf("the restarted stack did not stop cleanly: %v", err)
	}
	t.Logf("%d calls answered, %d before the kill", seen.count(), killedAt)
	if killedAt >= seen.count() {
		t.Fatal("no call was answered after the restart: the test proved nothing")
	}
	assertEveryAnsweredCallRecorded(t, tables, accountID, seen)
}

// TestUsageSurvivesADynamoDBLocalOutageMidLoad: DynamoDB Local stops
// while callers drive the stack and comes back on the same data; the
// recorder's deliveries fail meanwhile and are retried from disk, so every
// answered call is in the history afterwards.
func TestUsageSurvivesADynamoDBLocalOutageMidLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local twice")
	}
	ctx := t.Context()
	dataDir := t.TempDir()
	db, err := dynamolocal.Start(ctx, dynamolocal.Options{DataDir: dataDir, JavaArgs: dynamolocal.QuickStartJavaArgs()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Stop() })
	client, err := dynamolocal.NewClient(ctx, db.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	tables, err := dynamolocal.EnsureTables(ctx, client, "outage_", schema.All)
	if err != nil {
		t.Fatal(err)
	}
	operatorKey := "opk_outage_" + fmt.Sprint(time.Now().UnixNano())
	st, err := Build(ctx, Config{Client: client, Tables: tables, OperatorKey: operatorKey, SpoolDir: t.TempDir(), UsageFlushInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(t, st)
	accountID, apiKey := createAccountOver(t, srv, operatorKey)
	served := issueOver(t, srv, apiKey)

	seen := &answered{ids: map[string]int{}}
	loadDone := make(chan error, 1)
	go func() {
		_, err := loadgen.Run(context.Background(), loadgen.Options{Concurrency: 8, Requests: 2500, OnResponse: func(_ int, r *http.Response) { seen.add(r) }},
			func(ctx context.Context, i int) (*http.Request, error) {
				return http.NewRequestWithContext(ctx, http.MethodGet, srv+"/data/tmy/hourly?token="+served.Token, nil)
			})
		loadDone <- err
	}()
	waitFor(t, func() bool { return seen.count() >= 600 })
	port := db.Endpoint()[strings.LastIndexByte(db.Endpoint(), ':')+1:]
	if err := db.Stop(); err != nil {
		t.Fatal(err)
	}
	down := seen.count()
	time.Sleep(2 * time.Second) // an outage, not a blip: the load goes on meanwhile
	var p int
	fmt.Sscan(port, &p)
	db2, err := dynamolocal.Start(ctx, dynamolocal.Options{Port: p, DataDir: dataDir, JavaArgs: dynamolocal.QuickStartJavaArgs()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db2.Stop() })
	if err := <-loadDone; err != nil {
		t.Fatal(err)
	}
	flush, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := st.Close(flush); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d calls answered, %d before the outage", seen.count(), down)
	assertEveryAnsweredCallRecordedIn(t, client, tables, accountID, seen)
}

// assertEveryAnsweredCallRecorded checks the history on the tests' shared
// DynamoDB Local.
func assertEveryAnsweredCallRecorded(t *testing.T, tables map[string]string, accountID string, seen *answered) {
	t.Helper()
	assertEveryAnsweredCallRecordedIn(t, dynamotest.Client(t), tables, accountID, seen)
}

// assertEveryAnsweredCallRecordedIn reads the account's whole history and
// finds in it every call answered with a token's outcome (200, 401, 403).
// A 5xx is an authorizer that could not reach the store: it knows no token
// ID to attribute the call to.
func assertEveryAnsweredCallRecordedIn(t *testing.T, client *dynamodb.Client, tables map[string]string, accountID string, seen *answered) {
	t.Helper()
	store, err := usagestore.New(client, tables[schema.Usage.ID])
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]int{}
	page := paging.Request{Limit: 100}
	for {
		p, err := store.Records(t.Context(), accountID, usage.Filter{}, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Items {
			if _, dup := recorded[r.RequestID]; dup {
				t.Errorf("request %s recorded twice", r.RequestID)
			}
			recorded[r.RequestID] = r.Status
		}
		if p.NextCursor == "" {
			break
		}
		page.Cursor = p.NextCursor
	}
	missing, statuses := 0, map[int]int{}
	for id, status := range seen.ids {
		statuses[status]++
		if status >= 500 {
			continue
		}
		if got, ok := recorded[id]; !ok || got != status {
			missing++
		}
	}
	t.Logf("answers %v; %d records", statuses, len(recorded))
	if missing > 0 {
		t.Errorf("%d answered calls missing from the history (or with another status)", missing)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the load did not get going")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newHTTPServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// created is a token as its create call answers it.
type created struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

func doJSON(t *testing.T, method, url, credential string, body, into any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+credential)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatal(err)
		}
	}
}

func createAccountOver(t *testing.T, base, operatorKey string) (accountID, apiKey string) {
	t.Helper()
	var out struct {
		Account struct {
			ID string `json:"id"`
		} `json:"account"`
		APIKey string `json:"apiKey"`
	}
	doJSON(t, http.MethodPost, base+"/operator/accounts", operatorKey, map[string]any{"name": "Crash", "services": []string{"tmy", "timeseries"}}, &out)
	return out.Account.ID, out.APIKey
}

func issueOver(t *testing.T, base, apiKey string) created {
	t.Helper()
	var c created
	doJSON(t, http.MethodPost, base+"/admin/services/tmy/tokens", apiKey, map[string]any{}, &c)
	return c
}

func disable(t *testing.T, base, apiKey, tokenID string) {
	t.Helper()
	doJSON(t, http.MethodPatch, base+"/admin/tokens/"+tokenID, apiKey, map[string]any{"enabled": false}, nil)
}
