package stack

import (
	"os"
	"testing"

	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
)

func TestMain(m *testing.M) {
	// The crash test runs the stack in a child process of this binary,
	// which it can SIGKILL (api_usage_crash_test.go).
	if os.Getenv(childAddrEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(dynamotest.Run(m))
}
