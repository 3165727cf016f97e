package localstack

import (
	"os"
	"testing"

	"github.com/acmedata/tokenservice/pkg/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }
