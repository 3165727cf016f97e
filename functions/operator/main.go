// Command operator is the Lambda function serving the IAM-authorised operator routes under /operator.
package main

import (
	"log/slog"

	"github.com/acmedata/tokenservice/pkg/handlers/operator"
	"github.com/acmedata/tokenservice/pkg/tokens"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() {
	wire.StartWithManager(func(m *tokens.Manager, log *slog.Logger) (wire.ProxyHandler, error) {
		return operator.New(m, log)
	})
}
