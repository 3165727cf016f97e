package cwlogs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/aws/aws-lambda-go/events"
)

// sink records delivered messages; it fails the first failures deliveries.
type sink struct {
	mu       sync.Mutex
	failures int
	calls    int
	messages []string
}

func (s *sink) deliver(_ context.Context, ev events.CloudwatchLogsEvent) error {
	data, err := accesslog.Decode(ev)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failures > 0 {
		s.failures--
		return errors.New("recorder unavailable")
	}
	for _, le := range data.LogEvents {
		s.messages = append(s.messages, le.Message)
	}
	return nil
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

func TestShipperDeliversWithinTheFlushInterval(t *testing.T) {
	var s sink
	sh, err := NewShipper(s.deliver, ShipperOptions{Dir: t.TempDir(), FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sh.Close(context.Background()) })
	if err := sh.Ship([]byte("one")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.count() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("line not delivered without Close")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestShipperRetriesAndFlushesEverythingOnClose(t *testing.T) {
	s := sink{failures: 3}
	sh, err := NewShipper(s.deliver, ShipperOptions{Dir: t.TempDir(), FlushInterval: time.Hour, MaxBatch: 7, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	for i := range n {
		if err := sh.Ship(fmt.Appendf(nil, "line %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sh.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if s.count() != n {
		t.Fatalf("delivered %d lines, want %d", s.count(), n)
	}
	for i, m := range s.messages {
		if m != fmt.Sprintf("line %d", i) {
			t.Fatalf("line %d is %q: order or content lost", i, m)
		}
	}
	if s.calls < n/7+3 {
		t.Errorf("%d deliveries: failed ones were not retried", s.calls)
	}
	if err := sh.Ship([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("Ship after Close = %v, want ErrClosed", err)
	}
}

func TestShipperCloseGivesUpWhenItsContextEnds(t *testing.T) {
	s := sink{failures: 1 << 30}
	sh, err := NewShipper(s.deliver, ShipperOptions{Dir: t.TempDir(), MinBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_ = sh.Ship([]byte("doomed"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := sh.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want a deadline error reporting the lost line", err)
	}
}

func TestNewShipperRefusesNilDeliver(t *testing.T) {
	if _, err := NewShipper(nil, ShipperOptions{Dir: t.TempDir()}); err == nil {
		t.Error("NewShipper(nil) succeeded")
	}
	if _, err := NewShipper(func(context.Context, events.CloudwatchLogsEvent) error { return nil }, ShipperOptions{}); err == nil {
		t.Error("NewShipper without a directory succeeded")
	}
}

func TestShipperFlushDeliversWhatWasShippedAndKeepsRunning(t *testing.T) {
	s := sink{failures: 2}
	// An hour's interval: only Flush can deliver within the test.
	sh, err := NewShipper(s.deliver, ShipperOptions{Dir: t.TempDir(), FlushInterval: time.Hour, MaxBatch: 7, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sh.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for round, n := range []int{20, 5} {
		for i := range n {
			if err := sh.Ship(fmt.Appendf(nil, "round %d line %d", round, i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := sh.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if s.count() != 25 {
		t.Fatalf("delivered %d lines after two flushes, want 25", s.count())
	}
	if err := sh.Flush(ctx); err != nil {
		t.Errorf("Flush with nothing pending = %v", err)
	}
}

func TestShipperFlushGivesUpWhenItsContextEnds(t *testing.T) {
	s := sink{failures: 1 << 30}
	sh, err := NewShipper(s.deliver, ShipperOptions{Dir: t.TempDir(), FlushInterval: time.Hour, MinBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		_ = sh.Close(ctx)
	})
	_ = sh.Ship([]byte("stuck"))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := sh.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush = %v, want a deadline error reporting the undelivered line", err)
	}
}

func TestShipperWriteDeliversOnlyWhatTheFilterMatches(t *testing.T) {
	var s sink
	keep := func(line []byte) bool { return string(line) != "drop" }
	sh, err := NewShipper(s.deliver, ShipperOptions{Dir: t.TempDir(), FlushInterval: time.Hour, Filter: keep})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sh.Close(context.Background()) })
	for _, line := range []string{"keep 1", "drop", "keep 2"} {
		if n, err := sh.Write([]byte(line)); err != nil || n != len(line) {
			t.Fatalf("Write(%q) = %d, %v", line, n, err)
		}
	}
	if err := sh.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if fmt.Sprint(s.messages) != "[keep 1 keep 2]" {
		t.Errorf("delivered %q, want the two lines the filter keeps", s.messages)
	}
}

// TestShipperResumesWhatAnEarlierOneLeftOnDisk: lines a shipper could not
// deliver before it stopped (its destination down, then a Ctrl-C or a
// crash) are delivered by the next shipper on the same directory, all of
// them, in order, a torn last line skipped.
func TestShipperResumesWhatAnEarlierOneLeftOnDisk(t *testing.T) {
	dir := t.TempDir()
	down := sink{failures: 1 << 30}
	first, err := NewShipper(down.deliver, ShipperOptions{Dir: dir, FlushInterval: time.Millisecond, MaxBatch: 7, MinBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := range n {
		if err := first.Ship(fmt.Appendf(nil, "line %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := first.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with the destination down = %v, want the lines reported kept", err)
	}
	// A crash mid-write leaves a torn line at the end of the open batch.
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%020d%s", 999, openExt)), []byte(`{"t":1,"m":"line 50"}`+"\n"+`{"t":1,"m":"li`), 0o600); err != nil {
		t.Fatal(err)
	}

	var up sink
	second, err := NewShipper(up.deliver, ShipperOptions{Dir: dir, FlushInterval: time.Hour, MaxBatch: 7})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := second.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if up.count() != n+1 {
		t.Fatalf("the second shipper delivered %d lines, want the %d the first left", up.count(), n+1)
	}
	for i, m := range up.messages {
		if m != fmt.Sprintf("line %d", i) {
			t.Fatalf("line %d is %q: order or content lost", i, m)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d files left after every line was delivered", len(left))
	}
}
