// Package loadgen drives HTTP load: a fixed number of requests, or as many
// as fit in a duration, from a number of concurrent workers sharing one
// keep-alive client. It counts answers by status and keeps every latency
// for percentiles. The gateway throughput benchmark (scripts/gwbench) and
// the local stack's usage load test both run on it.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options shape a run. At least one of Requests and Duration must be set;
// with both, the run stops at whichever comes first.
type Options struct {
	// Concurrency is the number of workers, each with one request in
	// flight at a time (1 if zero).
	Concurrency int
	// Requests is how many requests to send in all (0: no limit).
	Requests int
	// Duration is how long to keep sending (0: no limit). Requests in
	// flight when it ends are finished and counted.
	Duration time.Duration
	// Client sends the requests (NewClient(Concurrency) if nil).
	Client *http.Client
	// OnResponse, if set, sees every answer before its body is drained;
	// it is called from the workers, concurrently.
	OnResponse func(i int, res *http.Response)
}

// NewRequest makes the i-th request of a run (i counts from 0).
type NewRequest func(ctx context.Context, i int) (*http.Request, error)

// Result is what a run saw.
type Result struct {
	// Requests counts every request sent, answered or not.
	Requests int
	// Statuses counts answers by HTTP status.
	Statuses map[int]int
	// Errors counts requests that got no answer (transport errors);
	// FirstError is one of them.
	Errors     int
	FirstError error
	// Elapsed is the run's wall time.
	Elapsed time.Duration
	// latencies of answered requests, sorted.
	latencies []time.Duration
}

// NewClient returns a client whose transport keeps at least concurrency
// idle connections per host, so that workers reuse connections instead of
// opening one per request.
func NewClient(concurrency int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = max(tr.MaxIdleConns, 2*concurrency)
	tr.MaxIdleConnsPerHost = max(2, concurrency)
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// Run sends requests made by next until opts say stop or ctx ends. An
// error means the run could not be carried out (bad options, a request
// that next could not make); failed requests are counted in the Result.
func Run(ctx context.Context, opts Options, next NewRequest) (Result, error) {
	if next == nil {
		return Result{}, errors.New("loadgen: nil request maker")
	}
	if opts.Requests <= 0 && opts.Duration <= 0 {
		return Result{}, errors.New("loadgen: neither a request count nor a duration")
	}
	workers := max(1, opts.Concurrency)
	if opts.Requests > 0 {
		workers = min(workers, opts.Requests)
	}
	client := opts.Client
	if client == nil {
		client = NewClient(workers)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var (
		claimed  atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		total    = Result{Statuses: map[int]int{}}
		deadline time.Time
	)
	start := time.Now()
	if opts.Duration > 0 {
		deadline = start.Add(opts.Duration)
	}
	for range workers {
		wg.Go(func() {
			mine := Result{Statuses: map[int]int{}}
			for ctx.Err() == nil {
				i := int(claimed.Add(1) - 1)
				if opts.Requests > 0 && i >= opts.Requests || !deadline.IsZero() && !time.Now().Before(deadline) {
					break
				}
				req, err := next(ctx, i)
				if err != nil {
					cancel(fmt.Errorf("loadgen: request %d: %w", i, err))
					break
				}
				mine.Requests++
				sent := time.Now()
				status, err := do(client, req, func(res *http.Response) {
					if opts.OnResponse != nil {
						opts.OnResponse(i, res)
					}
				})
				if err != nil {
					mine.Errors++
					if mine.FirstError == nil {
						mine.FirstError = err
					}
					continue
				}
				mine.latencies = append(mine.latencies, time.Since(sent))
				mine.Statuses[status]++
			}
			mu.Lock()
			defer mu.Unlock()
			total.Add(mine)
		})
	}
	wg.Wait()
	total.Elapsed = time.Since(start)
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return total, err
	}
	return total, nil
}

// do sends req and drains and closes the body, so the connection can be
// reused, and returns the status.
func do(client *http.Client, req *http.Request, inspect func(*http.Response)) (int, error) {
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	inspect(res)
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// Add merges o into r, as if both runs were one: counts, latencies and
// elapsed times add up.
func (r *Result) Add(o Result) {
	if r.Statuses == nil {
		r.Statuses = map[int]int{}
	}
	r.Requests += o.Requests
	r.Elapsed += o.Elapsed
	r.Errors += o.Errors
	if r.FirstError == nil {
		r.FirstError = o.FirstError
	}
	for s, n := range o.Statuses {
		r.Statuses[s] += n
	}
	r.latencies = append(r.latencies, o.latencies...)
	slices.Sort(r.latencies)
}

// Rate is requests per second over the run.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Percentile returns the latency below which p percent of the answered
// requests fell (0 if none was answered).
func (r Result) Percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.latencies)) * p / 100)
	return r.latencies[min(max(i, 0), len(r.latencies)-1)]
}

// Failed counts requests not answered with want: transport errors and
// any other status.
func (r Result) Failed(want int) int { return r.Requests - r.Statuses[want] }

// MachineLoad describes the machine's load average (from /proc/loadavg)
// for a benchmark to print beside its figures: on a shared machine a
// latency is only comparable with one measured at a similar load.
func MachineLoad() string {
	b, err := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if err != nil || len(f) < 3 {
		return "load average unknown"
	}
	return fmt.Sprintf("load average %s, %s, %s (1, 5, 15 min)", f[0], f[1], f[2])
}
