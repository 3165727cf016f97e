// Command issue is the Lambda function serving token issuance (POST /admin/services/{service}/tokens).
package main

import (
	"log/slog"

	"github.com/acmedata/tokenservice/pkg/handlers/newtoken"
	"github.com/acmedata/tokenservice/pkg/tokens"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() {
	wire.StartWithManager(func(m *tokens.Manager, log *slog.Logger) (wire.ProxyHandler, error) {
		return newtoken.NewIssue(m, log)
	})
}
