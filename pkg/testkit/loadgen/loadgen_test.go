package loadgen

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// server answers /status/<code> with that code and counts the
// connections it accepts.
func server(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("status"))
		if err != nil {
			code = http.StatusOK
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func get(url string) NewRequest {
	return func(ctx context.Context, i int) (*http.Request, error) {
		status := http.StatusOK
		if i%4 == 3 {
			status = http.StatusForbidden
		}
		return http.NewRequestWithContext(ctx, http.MethodGet, url+"?status="+strconv.Itoa(status), nil)
	}
}

func TestRunSendsExactlyTheRequestedCountOverReusedConnections(t *testing.T) {
	srv, conns := server(t)
	const n, c = 1000, 8
	var mu sync.Mutex
	seen := map[int]bool{}
	res, err := Run(t.Context(), Options{Concurrency: c, Requests: n, OnResponse: func(i int, _ *http.Response) {
		mu.Lock()
		defer mu.Unlock()
		seen[i] = true
	}}, get(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != n || res.Errors != 0 || len(seen) != n {
		t.Fatalf("requests %d, errors %d (%v), %d distinct indexes seen; want %d, 0, %d", res.Requests, res.Errors, res.FirstError, len(seen), n, n)
	}
	if res.Statuses[http.StatusOK] != 750 || res.Statuses[http.StatusForbidden] != 250 || res.Failed(http.StatusOK) != 250 {
		t.Errorf("statuses %v", res.Statuses)
	}
	// A worker may dial while its previous connection is still on the way
	// back to the pool, so a few more than c can open; without reuse there
	// would be about one per request.
	if got := conns.Load(); got > n/10 {
		t.Errorf("%d connections for %d requests from %d workers: connections are not reused", got, n, c)
	}
	if p50, p99 := res.Percentile(50), res.Percentile(99); p50 <= 0 || p99 < p50 {
		t.Errorf("p50 %v, p99 %v", p50, p99)
	}
}

func TestRunStopsAtTheDuration(t *testing.T) {
	srv, _ := server(t)
	const d = 200 * time.Millisecond
	res, err := Run(t.Context(), Options{Concurrency: 4, Duration: d}, get(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Elapsed < d || res.Elapsed > d+time.Second {
		t.Errorf("%d requests in %v, want some in about %v", res.Requests, res.Elapsed, d)
	}
	if res.Rate() <= 0 {
		t.Errorf("rate %v", res.Rate())
	}
}

func TestRunCountsTransportErrors(t *testing.T) {
	srv, _ := server(t)
	url := srv.URL
	srv.Close()
	res, err := Run(t.Context(), Options{Concurrency: 2, Requests: 10}, get(url))
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 10 || res.FirstError == nil || res.Failed(http.StatusOK) != 10 || res.Percentile(50) != 0 {
		t.Errorf("result %+v, want 10 transport errors", res)
	}
}

func TestRunStopsWhenARequestCannotBeMade(t *testing.T) {
	srv, _ := server(t)
	boom := errors.New("boom")
	_, err := Run(t.Context(), Options{Concurrency: 4, Requests: 100}, func(ctx context.Context, i int) (*http.Request, error) {
		if i == 10 {
			return nil, boom
		}
		return get(srv.URL)(ctx, i)
	})
	if !errors.Is(err, boom) {
		t.Errorf("Run = %v, want the request maker's error", err)
	}
}

func TestRunRefusesAnUnboundedRun(t *testing.T) {
	if _, err := Run(t.Context(), Options{Concurrency: 4}, get("http://127.0.0.1")); err == nil {
		t.Error("Run without a count or a duration succeeded")
	}
	if _, err := Run(t.Context(), Options{Requests: 1}, nil); err == nil {
		t.Error("Run with a nil request maker succeeded")
	}
}

func TestAddMergesRunsAsOne(t *testing.T) {
	srv, _ := server(t)
	var total Result
	for range 3 {
		r, err := Run(t.Context(), Options{Concurrency: 2, Requests: 8}, get(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		before := total.Elapsed
		total.Add(r)
		if total.Elapsed != before+r.Elapsed {
			t.Errorf("elapsed %v, want %v", total.Elapsed, before+r.Elapsed)
		}
	}
	if total.Requests != 24 || total.Statuses[http.StatusOK] != 18 || total.Statuses[http.StatusForbidden] != 6 {
		t.Errorf("merged %d requests with statuses %v, want 24: 18 OK and 6 forbidden", total.Requests, total.Statuses)
	}
	if total.Percentile(0) > total.Percentile(50) || total.Percentile(50) > total.Percentile(100) {
		t.Error("merged latencies are not ordered")
	}
}
