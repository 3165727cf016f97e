// Command manage is the Lambda function serving the admin management API under /admin.
package main

import (
	"log/slog"

	"github.com/acmedata/tokenservice/pkg/handlers/manage"
	"github.com/acmedata/tokenservice/pkg/tokens"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() {
	wire.StartWithManager(func(m *tokens.Manager, log *slog.Logger) (wire.ProxyHandler, error) {
		return manage.New(m, log)
	})
}
