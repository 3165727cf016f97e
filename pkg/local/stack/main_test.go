package stack

import (
	"os"
	"testing"

	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }
