package cwlogs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Deliver hands one subscription delivery to its destination: on the local
// stack, the recorder Lambda's handler function itself.
type Deliver func(ctx context.Context, ev events.CloudwatchLogsEvent) error

// ShipperOptions tune a Shipper; zero values take the defaults.
type ShipperOptions struct {
	LogGroup  string // default "local/access-log"
	LogStream string // default "local"
	// FlushInterval is the longest a line waits before delivery (default
	// 500ms, so a call shows up in usage within about a second).
	FlushInterval time.Duration
	// MaxBatch is the most lines in one delivery (default 1000); a full
	// batch is delivered at once.
	MaxBatch int
	// MinBackoff and MaxBackoff bound the wait between retries of a failed
	// delivery (defaults 50ms and 2s).
	MinBackoff, MaxBackoff time.Duration
	// Filter, if set, is the subscription's filter pattern: Ship drops
	// the lines it refuses, as CloudWatch Logs delivers only the lines a
	// subscription filter matches.
	Filter func(line []byte) bool
	Log    *slog.Logger
}

// ErrClosed is returned by Ship after Close.
var ErrClosed = errors.New("cwlogs: shipper closed")

// Shipper plays CloudWatch Logs' part on the local stack: it collects
// log lines, batches them, wraps each batch with Event and delivers it,
// retrying a failed delivery with backoff until it succeeds. A retried
// delivery carries the same lines, so its destination must be idempotent
// (the recorder is: items are keyed by request ID), as it must be on AWS,
// where Lambda retries failed asynchronous invocations too.
type Shipper struct {
	deliver Deliver
	opts    ShipperOptions

	mu      sync.Mutex
	pending []Line
	closed  bool
	// handled counts the lines delivered (or dropped as unencodable), so
	// handled+len(pending) is every line ever queued; progress is closed
	// and replaced whenever handled grows, waking Flush.
	handled  uint64
	progress chan struct{}

	kick    chan struct{} // a full batch is waiting
	closing chan struct{} // Close was called
	done    chan struct{} // the loop has ended
	ctx     context.Context
	cancel  context.CancelFunc
}

// NewShipper starts a Shipper delivering to deliver. Close it to flush.
func NewShipper(deliver Deliver, opts ShipperOptions) (*Shipper, error) {
	if deliver == nil {
		return nil, errors.New("cwlogs: nil deliver function")
	}
	if opts.LogGroup == "" {
		opts.LogGroup = "local/access-log"
	}
	if opts.LogStream == "" {
		opts.LogStream = "local"
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 500 * time.Millisecond
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1000
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 50 * time.Millisecond
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(2*time.Second, opts.MinBackoff)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Shipper{
		deliver: deliver, opts: opts,
		kick: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{}),
		progress: make(chan struct{}), ctx: ctx, cancel: cancel,
	}
	go s.loop()
	return s, nil
}

// Ship queues one line for delivery, unless the filter refuses it. It
// never blocks on delivery.
func (s *Shipper) Ship(line []byte) error {
	if s.opts.Filter != nil && !s.opts.Filter(line) {
		return nil
	}
	l := Line{Timestamp: time.Now(), Message: append([]byte(nil), line...)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.pending = append(s.pending, l)
	if len(s.pending) >= s.opts.MaxBatch {
		s.kickLoop()
	}
	return nil
}

// Write ships p as one line, so a logger can write straight into the
// shipper as a function's log group feeds its subscription. slog's
// handlers write each record with exactly one Write call, so a line is
// never split.
func (s *Shipper) Write(p []byte) (int, error) {
	if err := s.Ship(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// kickLoop asks the loop to deliver now rather than at its next tick.
func (s *Shipper) kickLoop() {
	select {
	case s.kick <- struct{}{}:
	default: // a kick is already waiting
	}
}

// Flush delivers, without waiting for the flush interval, every line
// shipped before it was called, and returns once they are delivered; the
// shipper keeps running. If ctx ends or the shipper stops first, it
// reports how many of those lines were still undelivered.
func (s *Shipper) Flush(ctx context.Context) error {
	s.mu.Lock()
	target := s.handled + uint64(len(s.pending))
	s.mu.Unlock()
	s.kickLoop()
	for {
		s.mu.Lock()
		handled, progress := s.handled, s.progress
		s.mu.Unlock()
		if handled >= target {
			return nil
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return fmt.Errorf("cwlogs: flush gave up with %d lines undelivered: %w", target-handled, ctx.Err())
		case <-s.done:
			s.mu.Lock()
			handled = s.handled
			s.mu.Unlock()
			if handled >= target {
				return nil
			}
			return fmt.Errorf("cwlogs: flush: shipper stopped with %d lines undelivered: %w", target-handled, ErrClosed)
		}
	}
}

// Close stops accepting lines and delivers every queued one. If ctx ends
// first, it gives up and reports how many lines were not delivered.
func (s *Shipper) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	select {
	case <-s.done:
	case <-ctx.Done():
		s.cancel()
		<-s.done
	}
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.pending); n > 0 {
		return fmt.Errorf("cwlogs: shipper closed with %d lines undelivered: %w", n, ctx.Err())
	}
	return nil
}

func (s *Shipper) loop() {
	defer close(s.done)
	tick := time.NewTicker(s.opts.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-s.kick:
		case <-s.closing:
			for s.ctx.Err() == nil && s.flush() {
			}
			return
		}
		for s.ctx.Err() == nil && s.flush() {
		}
	}
}

// flush delivers one batch of at most MaxBatch lines, retrying until it is
// delivered or the shipper is cancelled; it reports whether more lines wait.
func (s *Shipper) flush() (more bool) {
	s.mu.Lock()
	n := min(len(s.pending), s.opts.MaxBatch)
	batch := s.pending[:n:n]
	s.mu.Unlock()
	if n == 0 {
		return false
	}
	ev, err := Event(Batch{LogGroup: s.opts.LogGroup, LogStream: s.opts.LogStream, Lines: batch})
	if err != nil {
		// Event fails only if encoding/json or gzip does, which no retry cures.
		s.opts.Log.Error("access log batch dropped", slog.Int("lines", n), slog.Any("error", err))
		s.drop(n)
		return true
	}
	for wait := s.opts.MinBackoff; ; wait = min(2*wait, s.opts.MaxBackoff) {
		err := s.deliver(s.ctx, ev)
		if err == nil {
			s.drop(n)
			return true
		}
		s.opts.Log.Warn("access log delivery failed, retrying", slog.Int("lines", n), slog.Duration("in", wait), slog.Any("error", err))
		select {
		case <-time.After(wait):
		case <-s.ctx.Done():
			return false
		}
	}
}

// drop removes the first n pending lines, now delivered.
func (s *Shipper) drop(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = s.pending[n:]
	s.handled += uint64(n)
	close(s.progress)
	s.progress = make(chan struct{})
}
