package dynamolocal

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/config"
)

// Start-up and shut-down limits. A cold JVM on a loaded two-core machine
// takes a few seconds to answer; these bounds only catch a server that is
// stuck.
const (
	startTimeout = 2 * time.Minute
	stopTimeout  = 10 * time.Second
	pollInterval = 50 * time.Millisecond
)

// Options configure Start.
type Options struct {
	// Dist is the installation to run; when its Jar is empty, Start installs
	// into CacheDir (DefaultCacheDir if that is empty too).
	Dist     Dist
	CacheDir string
	// Host is the address to listen on; empty means 127.0.0.1.
	Host string
	// Port to listen on; 0 picks a free one.
	Port int
	// DataDir keeps the tables in files there across restarts; empty keeps
	// them in memory, gone when the server stops.
	DataDir string
	// JavaArgs are extra JVM options, e.g. to trade peak speed for a faster
	// start in short-lived test servers.
	JavaArgs []string
	// Log receives the server's own output; nil discards it (the end of it
	// is still quoted in the error if the server fails to start).
	Log io.Writer
}

// QuickStartJavaArgs returns JVM options for a server that lives no longer
// than a test binary: the client compiler only and a single-threaded
// collector start DynamoDB Local about a quarter faster and with less CPU,
// which counts on a small machine running test binaries side by side, at
// the cost of peak speed a short-lived server never reaches.
func QuickStartJavaArgs() []string {
	return []string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"}
}

// Server is a running DynamoDB Local.
type Server struct {
	endpoint string
	pid      int
	exited   chan struct{} // closed once the process has been waited for
	waitErr  error         // set before exited is closed
	stopOnce sync.Once
	stopErr  error
}

// Start runs DynamoDB Local and returns once it answers requests. ctx bounds
// the start-up only: the server runs until Stop.
func Start(ctx context.Context, opts Options) (*Server, error) {
	dist, err := resolveDist(ctx, opts)
	if err != nil {
		return nil, err
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("dynamolocal: start: DynamoDB Local needs Java 17 or newer: %w", err)
	}
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port, err := checkPort(host, opts.Port)
	if err != nil {
		return nil, fmt.Errorf("dynamolocal: start: %w", err)
	}

	launcher, err := writeLauncher(dist)
	if err != nil {
		return nil, fmt.Errorf("dynamolocal: start: %w", err)
	}
	// The jar's own main binds every interface (it has no host option):
	// the launcher builds the same server and binds it to host alone.
	// Telemetry off: nothing local should phone home, and offline it would
	// only cost time.
	args := append(slices.Clone(opts.JavaArgs), "-Djava.library.path="+dist.LibDir,
		"-cp", dist.Jar+string(os.PathListSeparator)+filepath.Join(dist.LibDir, "*"), launcher, host,
		"-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port))
	if opts.DataDir == "" {
		args = append(args, "-inMemory")
	} else {
		dataDir, err := filepath.Abs(opts.DataDir)
		if err == nil {
			err = os.MkdirAll(dataDir, 0o755)
		}
		if err != nil {
			return nil, fmt.Errorf("dynamolocal: start: data dir: %w", err)
		}
		args = append(args, "-dbPath", dataDir)
	}
	cmd := exec.Command(java, args...)
	// DynamoDB Local writes a metadata file into its working directory;
	// the jar's directory keeps it out of the caller's (a test's package
	// directory, the repository root).
	cmd.Dir = filepath.Dir(dist.Jar)
	tail := &tailBuffer{max: 4 << 10}
	out := io.Writer(tail)
	if opts.Log != nil {
		out = io.MultiWriter(tail, opts.Log)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()

	s := &Server{
		endpoint: "http://" + net.JoinHostPort(host, strconv.Itoa(port)),
		exited:   make(chan struct{}),
	}
	if err := s.run(cmd); err != nil {
		return nil, fmt.Errorf("dynamolocal: start %s: %w", java, err)
	}

	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := s.waitReady(ctx); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("dynamolocal: start on %s: %w; server output:\n%s", s.endpoint, err, tail.String())
	}
	return s, nil
}

// resolveDist returns opts.Dist, or installs into opts.CacheDir (or the
// default cache) when no distribution is given.
func resolveDist(ctx context.Context, opts Options) (Dist, error) {
	if opts.Dist.Jar != "" {
		return opts.Dist, nil
	}
	cacheDir := opts.CacheDir
	if cacheDir == "" {
		var err error
		if cacheDir, err = DefaultCacheDir(); err != nil {
			return Dist{}, err
		}
	}
	return Install(ctx, cacheDir)
}

// run starts cmd and waits for it from a goroutine locked to its OS thread:
// on Linux the parent-death signal fires when the thread that forked the
// child exits, so that thread must live exactly as long as the child.
func (s *Server) run(cmd *exec.Cmd) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		s.pid = cmd.Process.Pid
		started <- nil
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	return <-started
}

// waitReady polls ListTables until the server answers, the process exits or
// ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	// The SDK's retries, with their back-off, would only delay noticing the
	// moment the server comes up: this loop is the retry.
	client := newClient(s.endpoint, func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} })
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		probe, cancel := context.WithTimeout(ctx, time.Second)
		_, err := client.ListTables(probe, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("server exited: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("server not answering: %w (last error: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// EnvOrStart returns the endpoint in $DYNAMODB_ENDPOINT if it is set,
// else starts a DynamoDB Local with opts and returns its endpoint; stop
// stops the server it started, and does nothing for one it did not. Load
// programs use it to run against a given server or one of their own.
func EnvOrStart(ctx context.Context, opts Options) (endpoint string, stop func() error, err error) {
	if endpoint := os.Getenv(config.EnvDynamoEndpoint); endpoint != "" {
		return endpoint, func() error { return nil }, nil
	}
	srv, err := Start(ctx, opts)
	if err != nil {
		return "", nil, err
	}
	return srv.Endpoint(), srv.Stop, nil
}

// Endpoint is the server's URL, e.g. http://127.0.0.1:8000.
func (s *Server) Endpoint() string { return s.endpoint }

// Stop terminates the server's process group and waits for it to exit,
// killing it if it does not exit within a few seconds. It is safe to call
// more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *Server) stop() error {
	if err := syscall.Kill(-s.pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("dynamolocal: stop: %w", err)
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
	}
	if err := syscall.Kill(-s.pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("dynamolocal: stop: %w", err)
	}
	<-s.exited
	return nil
}

//go:embed LoopbackServer.java
var launcherSource []byte

// writeLauncher puts LoopbackServer.java beside the jar (once per content:
// test binaries starting servers side by side may race to write it, and
// each writes a whole file and renames it into place) and returns its
// path.
func writeLauncher(dist Dist) (string, error) {
	path := filepath.Join(filepath.Dir(dist.Jar), "LoopbackServer.java")
	if have, err := os.ReadFile(path); err == nil && bytes.Equal(have, launcherSource) {
		return path, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".LoopbackServer-*.java")
	if err != nil {
		return "", fmt.Errorf("write launcher: %w", err)
	}
	_, err = tmp.Write(launcherSource)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("write launcher: %w", err)
	}
	return path, nil
}

// checkPort returns port, or a free one if port is 0, after making sure it
// can be bound right now. Without the check, a server on a taken port would
// look ready (whoever holds the port answers) until Java failed to bind.
// Another process could still take the port before Java binds it; the server
// then fails to start, rare enough not to retry.
func checkPort(host string, port int) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("port %d not free: %w", port, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it, so a failed start can
// quote the server's last words without holding its whole log.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
