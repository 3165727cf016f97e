package dynamolocal

import (
	"errors"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/schema"
)

// startServer starts a server of the test's own and stops it when the test
// ends.
func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	opts.JavaArgs = QuickStartJavaArgs()
	srv, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

func TestStopLeavesNoProcessBehind(t *testing.T) {
	srv := startServer(t, Options{})
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(-srv.pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d after Stop: signal 0 gave %v, want ESRCH", srv.pid, err)
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestDataDirKeepsTablesAcrossRestarts(t *testing.T) {
	// A directory that does not exist yet: Start creates it.
	dir := filepath.Join(t.TempDir(), "data")
	prefix := uniquePrefix(t)

	first := startServer(t, Options{DataDir: dir})
	client, err := NewClient(t.Context(), first.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	names, err := EnsureTables(t.Context(), client, prefix, schema.All)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}

	second := startServer(t, Options{DataDir: dir})
	client, err = NewClient(t.Context(), second.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if _, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("table %s after restart: %v", name, err)
		}
	}
	if _, err := EnsureTables(t.Context(), client, prefix, schema.All); err != nil {
		t.Errorf("EnsureTables on a restarted server: %v", err)
	}
}

func TestStartRefusesAPortInUse(t *testing.T) {
	srv := startServer(t, Options{})
	u, err := url.Parse(srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	if other, err := Start(t.Context(), Options{Port: port, JavaArgs: QuickStartJavaArgs()}); err == nil {
		_ = other.Stop()
		t.Fatalf("Start on port %d, already serving, succeeded", port)
	}
}

func TestStartReportsWhyTheServerDied(t *testing.T) {
	_, err := Start(t.Context(), Options{JavaArgs: []string{"-XX:+NoSuchJVMOption"}})
	if err == nil {
		t.Fatal("Start with a JVM option Java rejects succeeded")
	}
	// The JVM names the option it rejects; the error must quote it.
	if !strings.Contains(err.Error(), "NoSuchJVMOption") {
		t.Errorf("error does not quote the server's output: %v", err)
	}
}

// TestServerListensOnLoopbackOnly: DynamoDB Local holds the stack's
// tables, unauthenticated; PRODUCT.md has it on 127.0.0.1, so no other
// machine on the network can reach it. The jar itself binds every
// interface; Start binds it to the host asked for.
func TestServerListensOnLoopbackOnly(t *testing.T) {
	other := nonLoopbackAddr(t)
	srv := startServer(t, Options{})
	u, err := url.Parse(srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" {
		t.Fatalf("endpoint %s, want 127.0.0.1", srv.Endpoint())
	}
	if c, err := net.DialTimeout("tcp", u.Host, 5*time.Second); err != nil {
		t.Fatalf("dial %s: %v", u.Host, err)
	} else {
		c.Close()
	}
	addr := net.JoinHostPort(other, u.Port())
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		c.Close()
		t.Fatalf("DynamoDB Local answers on %s, another interface than loopback", addr)
	}
}

// nonLoopbackAddr is an address of this machine on another interface than
// loopback; the test is skipped on a machine that has none.
func nonLoopbackAddr(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("interface addresses: %v", err)
	}
	for _, a := range addrs {
		if p, ok := a.(*net.IPNet); ok && !p.IP.IsLoopback() && p.IP.To4() != nil {
			return p.IP.String()
		}
	}
	t.Skip("no interface but loopback to dial from")
	return ""
}
