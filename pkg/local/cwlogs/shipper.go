package cwlogs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Deliver hands one subscription delivery to its destination: on the local
// stack, the recorder Lambda's handler function itself.
type Deliver func(ctx context.Context, ev events.CloudwatchLogsEvent) error

// ShipperOptions tune a Shipper; zero values take the defaults, but Dir
// is required.
type ShipperOptions struct {
	// Dir holds the lines not delivered yet, one file per batch, so they
	// outlive a crash, a Ctrl-C or a restart: a Shipper started on the
	// same Dir delivers them first. Each Shipper needs a Dir of its own.
	Dir       string
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

// File names in Dir: <seq>.open is the batch being filled, <seq>.batch a
// batch sealed for delivery; seq orders them.
const (
	openExt  = ".open"
	batchExt = ".batch"
)

// Shipper plays CloudWatch Logs' part on the local stack: it collects log
// lines, batches them, wraps each batch with Event and delivers it,
// retrying a failed delivery with backoff until it succeeds.
//
// A line is written to the open batch file in Dir before Ship returns; a
// batch is sealed (renamed) when full or at the flush interval, and its
// file removed only once delivered. A process killed at any point leaves
// every undelivered line on disk (a write to a file survives the process
// that made it), and the next Shipper on Dir delivers it. A batch's
// content never changes once sealed, so a batch delivered again after a
// crash is the same batch: its destination must be idempotent (the
// recorder is: records are keyed by request ID, counts by batch chunk), as
// it must be on AWS, where Lambda retries failed invocations too.
type Shipper struct {
	deliver Deliver
	opts    ShipperOptions

	mu        sync.Mutex
	open      *os.File // nil when no batch is being filled
	openLines int
	sealed    []batchFile // in delivery order
	nextSeq   uint64
	closed    bool
	// queued counts every line ever queued (those found on disk at start
	// included), handled those delivered or dropped; progress is closed
	// and replaced whenever handled grows, waking Flush.
	queued, handled uint64
	progress        chan struct{}

	kick    chan struct{} // a full batch is waiting
	closing chan struct{} // Close was called
	done    chan struct{} // the loop has ended
	ctx     context.Context
	cancel  context.CancelFunc
}

type batchFile struct {
	path  string
	lines int
}

// spooled is one line as a batch file holds it.
type spooled struct {
	TimeMs  int64  `json:"t"`
	Message string `json:"m"`
}

// NewShipper starts a Shipper delivering to deliver, first whatever an
// earlier Shipper left undelivered in opts.Dir. Close it to flush.
func NewShipper(deliver Deliver, opts ShipperOptions) (*Shipper, error) {
	if deliver == nil {
		return nil, errors.New("cwlogs: nil deliver function")
	}
	if opts.Dir == "" {
		return nil, errors.New("cwlogs: no directory for undelivered lines")
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
	if err := s.recover(); err != nil {
		cancel()
		return nil, err
	}
	go s.loop()
	return s, nil
}

// recover seals the batches an earlier Shipper left in Dir, in order.
func (s *Shipper) recover() error {
	if err := os.MkdirAll(s.opts.Dir, 0o700); err != nil {
		return fmt.Errorf("cwlogs: %w", err)
	}
	entries, err := os.ReadDir(s.opts.Dir)
	if err != nil {
		return fmt.Errorf("cwlogs: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, ext), 10, 64)
		if err != nil || (ext != openExt && ext != batchExt) {
			continue // not ours
		}
		if ext == openExt {
			if err := os.Rename(filepath.Join(s.opts.Dir, name), s.batchPath(seq)); err != nil {
				return fmt.Errorf("cwlogs: seal %s: %w", name, err)
			}
		}
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	for _, seq := range seqs {
		lines, err := readBatch(s.batchPath(seq))
		if err != nil {
			return err
		}
		s.sealed = append(s.sealed, batchFile{path: s.batchPath(seq), lines: len(lines)})
		s.queued += uint64(len(lines))
		s.nextSeq = seq + 1
	}
	if n := len(seqs); n > 0 {
		s.opts.Log.Info("resuming undelivered log lines", slog.String("logGroup", s.opts.LogGroup), slog.Int("batches", n), slog.Uint64("lines", s.queued))
	}
	return nil
}

func (s *Shipper) batchPath(seq uint64) string {
	return filepath.Join(s.opts.Dir, fmt.Sprintf("%020d%s", seq, batchExt))
}

// Ship queues one line for delivery, unless the filter refuses it: it is
// on disk when Ship returns. It never waits for a delivery.
func (s *Shipper) Ship(line []byte) error {
	if s.opts.Filter != nil && !s.opts.Filter(line) {
		return nil
	}
	rec, err := json.Marshal(spooled{TimeMs: time.Now().UnixMilli(), Message: string(line)})
	if err != nil {
		return fmt.Errorf("cwlogs: encode line: %w", err)
	}
	rec = append(rec, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.open == nil {
		path := strings.TrimSuffix(s.batchPath(s.nextSeq), batchExt) + openExt
		if s.open, err = os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
			return fmt.Errorf("cwlogs: %w", err)
		}
	}
	// One write per line: a process killed between two writes leaves
	// whole lines behind.
	if _, err := s.open.Write(rec); err != nil {
		return fmt.Errorf("cwlogs: keep line: %w", err)
	}
	s.openLines++
	s.queued++
	if s.openLines >= s.opts.MaxBatch {
		if err := s.sealLocked(); err != nil {
			return err
		}
		s.kickLoop()
	}
	return nil
}

// sealLocked closes the open batch and queues it for delivery.
func (s *Shipper) sealLocked() error {
	if s.open == nil {
		return nil
	}
	f, lines := s.open, s.openLines
	s.open, s.openLines = nil, 0
	path := s.batchPath(s.nextSeq)
	s.nextSeq++
	err := f.Close()
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("cwlogs: seal batch: %w", err)
	}
	s.sealed = append(s.sealed, batchFile{path: path, lines: lines})
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
// reports how many of those lines were still undelivered (they stay on
// disk).
func (s *Shipper) Flush(ctx context.Context) error {
	s.mu.Lock()
	target := s.queued
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
// first, it gives up and reports how many lines were left, on disk, for
// the next Shipper on Dir.
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
	err := s.sealLocked()
	if n := s.queued - s.handled; n > 0 {
		return errors.Join(err, fmt.Errorf("cwlogs: shipper closed with %d lines undelivered, kept in %s: %w", n, s.opts.Dir, ctx.Err()))
	}
	return err
}

func (s *Shipper) loop() {
	defer close(s.done)
	tick := time.NewTicker(s.opts.FlushInterval)
	defer tick.Stop()
	for {
		closing := false
		select {
		case <-tick.C:
		case <-s.kick:
		case <-s.closing:
			closing = true
		}
		s.mu.Lock()
		if err := s.sealLocked(); err != nil {
			s.opts.Log.Error("log batch not sealed", slog.Any("error", err))
		}
		s.mu.Unlock()
		for s.ctx.Err() == nil && s.deliverNext() {
		}
		if closing {
			return
		}
	}
}

// deliverNext delivers the oldest sealed batch, retrying until it is
// delivered or the shipper is cancelled; it reports whether it delivered
// one.
func (s *Shipper) deliverNext() bool {
	s.mu.Lock()
	if len(s.sealed) == 0 {
		s.mu.Unlock()
		return false
	}
	b := s.sealed[0]
	s.mu.Unlock()
	lines, err := readBatch(b.path)
	if err != nil {
		s.opts.Log.Error("log batch unreadable, left in place", slog.String("file", b.path), slog.Any("error", err))
		return false
	}
	ev, err := Event(Batch{LogGroup: s.opts.LogGroup, LogStream: s.opts.LogStream, Lines: lines})
	for wait := s.opts.MinBackoff; err == nil; wait = min(2*wait, s.opts.MaxBackoff) {
		if err = s.deliver(s.ctx, ev); err == nil {
			break
		}
		s.opts.Log.Warn("log delivery failed, retrying", slog.String("logGroup", s.opts.LogGroup), slog.Int("lines", len(lines)), slog.Duration("in", wait), slog.Any("error", err))
		select {
		case <-time.After(wait):
			err = nil
		case <-s.ctx.Done():
			return false
		}
	}
	if err != nil {
		// Event fails only if encoding/json or gzip does, which no retry
		// cures: the batch stays on disk for a look, out of the queue.
		s.opts.Log.Error("log batch not encodable, left in place", slog.String("file", b.path), slog.Any("error", err))
	} else if err := os.Remove(b.path); err != nil {
		s.opts.Log.Error("delivered batch not removed: it will be delivered again", slog.String("file", b.path), slog.Any("error", err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealed = s.sealed[1:]
	s.handled += uint64(b.lines)
	close(s.progress)
	s.progress = make(chan struct{})
	return true
}

// readBatch reads a batch file. A line that does not decode (the last
// one, torn by a crash mid-write) is skipped.
func readBatch(path string) ([]Line, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cwlogs: %w", err)
	}
	defer f.Close()
	var lines []Line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20) // a CloudWatch event is at most 256 KB
	for sc.Scan() {
		var l spooled
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		lines = append(lines, Line{Timestamp: time.UnixMilli(l.TimeMs), Message: []byte(l.Message)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cwlogs: read %s: %w", path, err)
	}
	return lines, nil
}
