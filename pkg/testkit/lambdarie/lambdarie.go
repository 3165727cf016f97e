// Package lambdarie runs the functions' bootstrap binaries under the AWS
// Lambda Runtime Interface Emulator: the component AWS ships in its Lambda
// base images, which serves the real Runtime API to a binary and invokes
// it as Lambda does. The emulator tests in functions/ and the cold-start
// benchmark (scripts/lambdabench) use it, so a broken main (a bad
// environment variable, an init that fails, a handler the runtime cannot
// invoke) fails a test instead of a deployment.
//
// Install builds the pinned emulator into .cache/ with `go install`; Build
// builds the binaries with the Makefile's own build rule, for the host's
// CPU; Start runs one binary under its own emulator on free loopback ports,
// with exactly the environment it is given.
package lambdarie

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Version is the emulator's pinned module version (the module proxy serves
// no tagged release of it).
const Version = "v0.0.0-20261030222936-bef5c4ba774d"

const emulatorPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// invokePath is the emulator's invoke endpoint, as on a Lambda container image.
const invokePath = "/2015-03-31/functions/function/invocations"

// Root is the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// installMu serialises installs within a process; a second process racing
// on the same path only rebuilds the same binary.
var installMu sync.Mutex

// Install returns the path of the pinned emulator, building it first into
// .cache/rie/<Version>/ if it is not there.
func Install(ctx context.Context) (string, error) {
	installMu.Lock()
	defer installMu.Unlock()
	dir := filepath.Join(Root(), ".cache", "rie", Version)
	bin := filepath.Join(dir, "aws-lambda-rie")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	cmd := exec.CommandContext(ctx, goTool(), "install", emulatorPackage+"@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("lambdarie: go install %s@%s: %w\n%s", emulatorPackage, Version, err, out)
	}
	return bin, nil
}

func goTool() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	// The go on PATH is the toolchain running the tests (go test puts its
	// own GOROOT/bin first).
	return "go"
}

// Build builds each functions/<name> into dir/<name>/bootstrap through the
// Makefile's build rule (the one `make build` runs for the deployment),
// for the host's CPU instead of arm64, so the binaries run here.
func Build(ctx context.Context, dir string, names ...string) error {
	if len(names) == 0 {
		return errors.New("lambdarie: no function to build")
	}
	args := []string{"--no-print-directory", "-s", "-C", Root(), "-j", strconv.Itoa(runtime.NumCPU()),
		"LAMBDA_GOARCH=" + runtime.GOARCH, "BIN_DIR=" + dir, "GO=" + goTool()}
	for _, n := range names {
		args = append(args, "build-"+n)
	}
	cmd := exec.CommandContext(ctx, "make", args...)
	// A make above this process (make test) must not hand its job server
	// to this one.
	cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lambdarie: make %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Functions lists the function directories under functions/.
func Functions() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(Root(), "functions"))
	if err != nil {
		return nil, fmt.Errorf("lambdarie: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Options say how to run one function.
type Options struct {
	// Emulator is Install's path.
	Emulator string
	// Bootstrap is the function's binary.
	Bootstrap string
	// Env is the function's whole environment, as Lambda would set it
	// from the deployment (nothing of this process's is passed on).
	Env map[string]string
	// MemoryMiB is the configured memory the emulator reports (128 if 0).
	MemoryMiB int
	// Log receives the emulator's and the function's output, if not nil.
	Log io.Writer
}

// Function is one binary running under its own emulator.
type Function struct {
	url  string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error // the emulator's exit, once done is closed
}

// Start runs a function under a new emulator, on free loopback ports, and
// returns once the emulator accepts invocations. The emulator starts the
// binary (its init) on the first invocation, as Lambda does on a cold start.
func Start(ctx context.Context, o Options) (*Function, error) {
	invoke, err := freeAddr()
	if err != nil {
		return nil, err
	}
	runtimeAPI, err := freeAddr()
	if err != nil {
		return nil, err
	}
	memory := o.MemoryMiB
	if memory == 0 {
		memory = 128
	}
	cmd := exec.Command(o.Emulator,
		// The emulator would read its log level from LOG_LEVEL, which is
		// the function's own setting: the flag keeps it out of that.
		"--log-level", "info",
		"--runtime-interface-emulator-address", invoke,
		"--runtime-api-address", runtimeAPI,
		o.Bootstrap)
	cmd.Dir = filepath.Dir(o.Bootstrap)
	cmd.Env = []string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(memory)}
	for k, v := range o.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	f := &Function{url: "http://" + invoke + invokePath, cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	var w io.Writer = f.out
	if o.Log != nil {
		w = io.MultiWriter(f.out, o.Log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lambdarie: start emulator: %w", err)
	}
	go func() {
		f.err = cmd.Wait()
		close(f.done)
	}()
	if err := f.awaitListening(ctx, invoke); err != nil {
		return nil, errors.Join(err, f.Stop())
	}
	return f, nil
}

// awaitListening waits until the emulator accepts connections, or exits.
func (f *Function) awaitListening(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var d net.Dialer
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-f.done:
			return fmt.Errorf("lambdarie: the emulator exited before listening (%v):\n%s", f.err, f.out)
		case <-ctx.Done():
			return fmt.Errorf("lambdarie: the emulator is not listening on %s: %w", addr, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// Invoke sends one event and returns the emulator's status and the
// function's answer: the handler's JSON, or Lambda's error object.
func (f *Function) Invoke(ctx context.Context, event []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(event))
	if err != nil {
		return 0, nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("lambdarie: invoke: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, body, err
}

// Output is everything the emulator and the function have written so far.
func (f *Function) Output() string { return f.out.String() }

// AwaitOutput waits until the output holds s: the emulator may answer an
// invocation before it logs how the invocation ended.
func (f *Function) AwaitOutput(ctx context.Context, s string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		written := f.out.written()
		if strings.Contains(f.out.String(), s) {
			return nil
		}
		select {
		case <-written:
		case <-f.done:
			if strings.Contains(f.out.String(), s) {
				return nil
			}
			return fmt.Errorf("lambdarie: the emulator exited without writing %q", s)
		case <-ctx.Done():
			return fmt.Errorf("lambdarie: no %q in the output: %w", s, ctx.Err())
		}
	}
}

// Report is what the emulator reported of one run.
type Report struct {
	// Inits are the durations of the function's inits (the emulator's
	// INIT REPORT lines), one per cold start.
	Inits []time.Duration
	// Invokes are the durations of its invocations (the REPORT lines). The
	// emulator counts a cold start's init in its first invocation.
	Invokes []time.Duration
}

var (
	initReport   = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	invokeReport = regexp.MustCompile(`(?m)^REPORT RequestId: \S+\s+(?:Init Duration: [0-9.]+ ms\s+)?Duration: ([0-9.]+) ms`)
)

// Report parses the emulator's output so far. An INIT REPORT of an init
// that did no work (the emulator reports one, near zero, for the invoke
// phase after a failed init) is not counted.
func (f *Function) Report() Report {
	var r Report
	out := f.Output()
	for _, m := range initReport.FindAllStringSubmatch(out, -1) {
		if d := milliseconds(m[1]); d > 100*time.Microsecond {
			r.Inits = append(r.Inits, d)
		}
	}
	for _, m := range invokeReport.FindAllStringSubmatch(out, -1) {
		r.Invokes = append(r.Invokes, milliseconds(m[1]))
	}
	return r
}

func milliseconds(s string) time.Duration {
	ms, _ := strconv.ParseFloat(s, 64)
	return time.Duration(ms * float64(time.Millisecond))
}

// PeakRSS is the highest resident memory of the function's process so far
// (VmHWM of the emulator's child process; Linux only). The emulator's own
// "Max Memory Used" is a placeholder.
func (f *Function) PeakRSS() (int64, error) {
	// The emulator is a Go program: any of its threads may have started
	// the function.
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", f.cmd.Process.Pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("lambdarie: the emulator's threads: %v", err)
	}
	var children []string
	for _, task := range tasks {
		raw, err := os.ReadFile(task)
		if err != nil {
			return 0, fmt.Errorf("lambdarie: the emulator's children: %w", err)
		}
		children = append(children, strings.Fields(string(raw))...)
	}
	if len(children) != 1 {
		return 0, fmt.Errorf("lambdarie: the emulator runs %d processes, want the function alone", len(children))
	}
	status, err := os.Open("/proc/" + children[0] + "/status")
	if err != nil {
		return 0, fmt.Errorf("lambdarie: the function's status: %w", err)
	}
	defer status.Close()
	s := bufio.NewScanner(status)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("lambdarie: VmHWM %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("lambdarie: no VmHWM in the function's status")
}

// Stop ends the emulator, which ends the function, and waits for both.
func (f *Function) Stop() error {
	select {
	case <-f.done:
		return nil
	default:
	}
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.done
	}
	return nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("lambdarie: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// lockedBuffer collects output written by the emulator's two streams.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	notify chan struct{} // closed and replaced on every write
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notify != nil {
		close(b.notify)
		b.notify = nil
	}
	return b.buf.Write(p)
}

// written returns a channel closed by the next write.
func (b *lockedBuffer) written() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notify == nil {
		b.notify = make(chan struct{})
	}
	return b.notify
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
