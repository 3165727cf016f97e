// Command lambdabench measures every function's cold start and memory on
// the real Lambda runtime API: each bootstrap, built as make build builds
// it but for this machine's CPU, runs under the Lambda Runtime Interface
// Emulator with the environment the CDK stack gives it (pointed at a
// DynamoDB Local of its own) and 128 MB configured. Each function is
// started cold several times and invoked with the first fixture of its
// events/ folder; the figures are the medians of the emulator's own INIT
// REPORT and REPORT lines, and the peak RSS (VmHWM) of the function's
// process, printed beside their targets. It exits non-zero on a miss.
//
//	go run ./scripts/lambdabench [-starts 5] [-invokes 10] [-functions authorizer,clone]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/acmedata/tokenservice/infra/lambdaenv"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/local/dynamolocal"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/fixtures"
	"github.com/acmedata/tokenservice/pkg/testkit/lambdarie"
	"github.com/acmedata/tokenservice/pkg/testkit/loadgen"
)

// The targets, for the smallest configuration a function could be given.
const (
	memoryMiB  = 128
	initTarget = 30 * time.Millisecond
	rssTarget  = 40 << 20
)

func main() {
	starts := flag.Int("starts", 5, "cold starts per function")
	invokes := flag.Int("invokes", 10, "warm invocations per cold start")
	only := flag.String("functions", "", "comma-separated functions to measure (all of functions/ if empty)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *starts, *invokes, *only); err != nil {
		fmt.Fprintln(os.Stderr, "lambdabench:", err)
		os.Exit(1)
	}
}

// figures are one function's measurements.
type figures struct {
	init, invoke time.Duration // medians
	peakRSS      int64         // the highest of every start
}

func run(ctx context.Context, starts, invokes int, only string) error {
	all, err := lambdarie.Functions()
	if err != nil {
		return err
	}
	names := all
	if only != "" {
		names = strings.Split(only, ",")
		for _, n := range names {
			if !slices.Contains(all, n) {
				return fmt.Errorf("no function %q under functions/ (there are %s)", n, strings.Join(all, ", "))
			}
		}
	}
	// The stack needs every function's asset, whichever are measured.
	deployed, err := lambdaenv.Synthesise(all)
	if err != nil {
		return fmt.Errorf("synthesise the stack: %w", err)
	}
	dir, err := os.MkdirTemp("", "lambdabench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := lambdarie.Build(ctx, dir, names...); err != nil {
		return err
	}
	emulator, err := lambdarie.Install(ctx)
	if err != nil {
		return err
	}
	db, cleanup, err := dynamolocal.NewScratch(ctx, "lambdabench", schema.All)
	if err != nil {
		return err
	}
	defer func() { _ = cleanup() }()
	endpoint, tables := db.Endpoint, db.Tables

	fmt.Printf("functions under the Lambda Runtime Interface Emulator %s (%d MB configured; %d cold starts, %d warm invokes each; medians); %s:\n",
		lambdarie.Version, memoryMiB, starts, invokes, loadgen.MachineLoad())
	fmt.Printf("  %-14s %12s %12s %14s\n", "function", "init", "invoke", "peak RSS")
	missed := false
	for _, name := range names {
		d, ok := deployed[name]
		if !ok {
			return fmt.Errorf("the CDK stack deploys no function %s", name)
		}
		event, err := firstEvent(name)
		if err != nil {
			return err
		}
		f, err := measure(ctx, lambdarie.Options{
			Emulator: emulator, Bootstrap: filepath.Join(dir, name, "bootstrap"),
			Env: d.Local(tables, endpoint), MemoryMiB: memoryMiB,
		}, event, starts, invokes)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		initOK, rssOK := f.init <= initTarget, f.peakRSS <= rssTarget
		missed = missed || !initOK || !rssOK
		fmt.Printf("  %-14s %9.1f ms %s %9.2f ms %9.1f MB %s\n", name,
			ms(f.init), mark(initOK), ms(f.invoke), float64(f.peakRSS)/(1<<20), mark(rssOK))
	}
	fmt.Printf("  targets: init <= %d ms, peak RSS <= %d MB at %d MB (binary size: see the linux/arm64 figures)\n", initTarget/time.Millisecond, rssTarget>>20, memoryMiB)
	// Init is a few milliseconds of CPU: on a shared machine a busy
	// scheduler, not the function, sets most of what is printed above.
	fmt.Printf("  done; %s\n", loadgen.MachineLoad())
	if missed {
		return fmt.Errorf("a function missed its target (see above)")
	}
	return nil
}

// measure starts the function cold starts times and invokes it 1+invokes
// times each; the first invocation of a start carries its init.
func measure(ctx context.Context, o lambdarie.Options, event []byte, starts, invokes int) (figures, error) {
	var inits, durations []time.Duration
	var f figures
	for range starts {
		fn, err := lambdarie.Start(ctx, o)
		if err != nil {
			return f, err
		}
		err = func() error {
			defer fn.Stop()
			for i := 0; i <= invokes; i++ {
				status, body, err := fn.Invoke(ctx, event)
				if err != nil {
					return err
				}
				if status != 200 {
					return fmt.Errorf("the emulator answered %d: %s\n%s", status, body, fn.Output())
				}
			}
			if err := fn.AwaitOutput(ctx, "END RequestId"); err != nil {
				return err
			}
			rss, err := fn.PeakRSS()
			if err != nil {
				return err
			}
			f.peakRSS = max(f.peakRSS, rss)
			r := fn.Report()
			if len(r.Inits) != 1 || len(r.Invokes) < 2 {
				return fmt.Errorf("the emulator reported %d inits and %d invokes, want 1 and %d:\n%s", len(r.Inits), len(r.Invokes), invokes+1, fn.Output())
			}
			inits = append(inits, r.Inits[0])
			durations = append(durations, r.Invokes[1:]...)
			return nil
		}()
		if err != nil {
			return f, err
		}
	}
	f.init, f.invoke = median(inits), median(durations)
	return f, nil
}

// firstEvent is the function's first fixture, its placeholders filled with
// well-formed IDs of an account the store does not hold: each invocation
// still makes the store calls of a refused or empty answer.
func firstEvent(function string) ([]byte, error) {
	entries, err := os.ReadDir(filepath.Join(fixtures.Dir(), function))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") && !strings.HasSuffix(e.Name(), ".decoded.json") {
			return fixtures.Read(function+"/"+e.Name(), map[string]string{
				"accountId": id.New(id.Account), "keyId": id.New(id.APIKey), "tokenId": id.New(id.Token),
				"service": "tmy", "type": "user", "limit": "10", "body": "{}",
			})
		}
	}
	return nil, fmt.Errorf("events/%s holds no fixture", function)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mark(ok bool) string {
	if ok {
		return "ok  "
	}
	return "OVER"
}
