// Command clone is the Lambda function serving token cloning (POST /admin/tokens/{tokenId}/clone).
package main

import (
	"log/slog"

	"github.com/acmedata/tokenservice/pkg/handlers/newtoken"
	"github.com/acmedata/tokenservice/pkg/tokens"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() {
	wire.StartWithManager(func(m *tokens.Manager, log *slog.Logger) (wire.ProxyHandler, error) {
		return newtoken.NewClone(m, log)
	})
}
