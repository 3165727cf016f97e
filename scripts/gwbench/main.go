// Command gwbench measures the local gateway's throughput for an
// authorised data call against GET /healthz. It builds the whole local
// stack (pkg/local/stack, usage shipping on, as `make run` has it) on fresh
// tables, serves it on a loopback listener, issues a tmy token through the
// token domain, and drives each route at the same concurrency for the same
// total time: GET /healthz (one store read, nothing recorded) and GET
// /data/tmy/hourly with the token (the authorizer's store read, the
// backend, and a usage record per call). It prints requests, req/s, p50
// and p99 of each and the data/healthz throughput ratio, and fails below
// the target ratio (0.5x) or on any answer other than 200. It uses
// $DYNAMODB_ENDPOINT if set, else starts its own in-memory DynamoDB Local.
//
// After a short warm-up of each route, the duration is split into rounds
// that alternate the routes (healthz then data, data then healthz, ...): a
// fresh DynamoDB Local's JVM keeps compiling for its first fifteen seconds
// or so of load, and other processes come and go on a shared machine, so
// a route measured wholly before the other would be measured on a
// different machine.
//
// Usage is recorded during each slice as in `make run`: the recorder
// delivers every flush interval, concurrently with the calls. Each slice
// ends by delivering what is still queued (Stack.Flush), timed as part of
// the slice, so recording a route's calls counts against that route and
// never spills into the other's slice. The bench delivers every 100 ms
// (-flush) rather than the local stack's 500 ms so that the recorder works
// alongside the calls, as the recorder Lambda does on AWS, instead of
// leaving a quarter of each 2-second slice's records to its end.
//
//	go run ./scripts/gwbench [-c 16] [-d 10s] [-rounds 5] [-warmup 3s] [-flush 100ms] [-min-ratio 0.5] [-cpuprofile file]
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/local/dynamolocal"
	"github.com/acmedata/tokenservice/pkg/local/stack"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/loadgen"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// closeTimeout bounds delivering the recorded usage at the end.
const closeTimeout = time.Minute

type params struct {
	concurrency      int
	duration, warmup time.Duration
	flush            time.Duration
	rounds           int
	minRatio         float64
	cpuProfile       string
}

func main() {
	var p params
	flag.IntVar(&p.concurrency, "c", 16, "concurrent callers")
	flag.DurationVar(&p.duration, "d", 10*time.Second, "measured duration of each route")
	flag.IntVar(&p.rounds, "rounds", 5, "interleaved rounds the duration is split into")
	flag.DurationVar(&p.warmup, "warmup", 3*time.Second, "unmeasured warm-up of each route")
	flag.DurationVar(&p.flush, "flush", 100*time.Millisecond, "usage delivery interval of the stack")
	flag.Float64Var(&p.minRatio, "min-ratio", 0.5, "fail below this data/healthz throughput ratio")
	flag.StringVar(&p.cpuProfile, "cpuprofile", "", "write the CPU profile of this process (the whole stack but DynamoDB Local) to this file")
	flag.Parse()
	if p.concurrency < 1 || p.rounds < 1 || p.duration < time.Duration(p.rounds)*time.Millisecond {
		fmt.Fprintln(os.Stderr, "gwbench: -c and -rounds must be at least 1, and -d at least a millisecond a round")
		os.Exit(2)
	}
	if err := run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "gwbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, p params) (err error) {
	db, cleanup, err := dynamolocal.NewScratch(ctx, "gwbench", schema.All)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cleanup()) }()
	endpoint, client, tables := db.Endpoint, db.Client, db.Tables

	spool, err := os.MkdirTemp("", "gwbench-spool-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(spool)) }()
	svc, err := stack.Build(ctx, stack.Config{
		Client: client, Tables: tables, OperatorKey: "opk_gwbench_" + rand.Text(), LogOutput: io.Discard,
		UsageFlushInterval: p.flush, SpoolDir: spool,
	})
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		err = errors.Join(err, svc.Close(closeCtx))
	}()
	token, err := issueToken(ctx, svc.Manager)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: svc, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { err = errors.Join(err, srv.Shutdown(context.Background())) }()
	base := "http://" + ln.Addr().String()

	fmt.Printf("gwbench: concurrency %d, %v per route in %d interleaved rounds after %v warm-up each, usage delivered every %v; stack at %s, DynamoDB Local at %s\n",
		p.concurrency, p.duration, p.rounds, p.warmup, p.flush, base, endpoint)
	if p.cpuProfile != "" {
		stop, err := startProfile(p.cpuProfile)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, stop()) }()
	}
	health := &route{name: "GET /healthz", next: get(base+"/healthz", "")}
	data := &route{name: "GET /data/tmy/hourly (token)", next: get(base+"/data/tmy/hourly", token)}
	if err := measure(ctx, p, svc, health, data); err != nil {
		return err
	}
	var errs []error
	for _, r := range []*route{health, data} {
		t := r.total
		failed := t.Failed(http.StatusOK)
		fmt.Printf("%-30s requests %7d  %7.0f req/s  p50 %9s  p99 %9s  errors %d  (of its time, delivering usage left at slice ends: %v)\n", r.name, t.Requests, t.Rate(),
			t.Percentile(50).Round(time.Microsecond), t.Percentile(99).Round(time.Microsecond), failed, r.drained.Round(time.Millisecond))
		if failed > 0 {
			errs = append(errs, fmt.Errorf("%s: %d of %d requests failed (statuses %v, first transport error: %v)",
				r.name, failed, t.Requests, t.Statuses, t.FirstError))
		}
	}
	ratio := data.total.Rate() / health.total.Rate()
	fmt.Printf("ratio data/healthz %.2fx (target >= %.2fx)\n", ratio, p.minRatio)
	if ratio < p.minRatio {
		errs = append(errs, fmt.Errorf("data/healthz throughput %.2fx, below %.2fx", ratio, p.minRatio))
	}
	return errors.Join(errs...)
}

// route is one measured route and what its slices added up to.
type route struct {
	name    string
	next    loadgen.NewRequest
	total   loadgen.Result
	drained time.Duration // delivering the usage queued at the ends of its slices
}

// measure warms each route up, then drives them in turns, p.rounds slices
// each, the order alternating. Each slice ends when the usage it recorded
// is delivered; that time counts in the slice and is kept in drained.
func measure(ctx context.Context, p params, svc *stack.Stack, routes ...*route) error {
	opts := loadgen.Options{Concurrency: p.concurrency, Client: loadgen.NewClient(p.concurrency)}
	slice := func(r *route, d time.Duration) (loadgen.Result, error) {
		opts.Duration = d
		res, err := loadgen.Run(ctx, opts, r.next)
		if err != nil {
			return res, fmt.Errorf("%s: %w", r.name, err)
		}
		start := time.Now()
		if err := svc.Flush(ctx); err != nil {
			return res, fmt.Errorf("%s: deliver usage: %w", r.name, err)
		}
		drain := time.Since(start)
		res.Elapsed += drain
		r.drained += drain
		return res, nil
	}
	if p.warmup > 0 {
		for _, r := range routes {
			if _, err := slice(r, p.warmup); err != nil {
				return err
			}
			r.drained = 0
		}
	}
	for round := range p.rounds {
		for k := range routes {
			if round%2 == 1 {
				k = len(routes) - 1 - k
			}
			res, err := slice(routes[k], p.duration/time.Duration(p.rounds))
			if err != nil {
				return err
			}
			routes[k].total.Add(res)
		}
	}
	return nil
}

// startProfile starts CPU profiling into path; the function it returns
// stops it and closes the file.
func startProfile(path string) (func() error, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return func() error { pprof.StopCPUProfile(); return f.Close() }, nil
}

// get requests url, with the token as a bearer credential unless it is "".
func get(url, token string) loadgen.NewRequest {
	return func(ctx context.Context, _ int) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err == nil && token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req, err
	}
}

// issueToken makes an account subscribed to tmy and a userless tmy token
// through the token domain, as scripts/localstack makes its demo account.
func issueToken(ctx context.Context, mgr *tokens.Manager) (string, error) {
	ctx = audit.WithOperator(ctx, "gwbench")
	acc, _, err := mgr.CreateAccount(ctx, "gwbench", []string{"tmy"})
	if err != nil {
		return "", err
	}
	_, token, err := mgr.IssueToken(ctx, acc.ID, "tmy", tokens.IssueRequest{})
	return token, err
}
