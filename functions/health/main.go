// Command health is the Lambda function serving GET /healthz.
package main

import (
	"context"
	"time"

	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/handlers/health"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() {
	wire.Start(func(ctx context.Context, d wire.Deps) (any, error) {
		store, err := d.CoreStore(ctx, config.ClientOptions{Timeout: time.Second, MaxAttempts: 2})
		if err != nil {
			return nil, err
		}
		h, err := health.New(store, d.Log)
		if err != nil {
			return nil, err
		}
		return h.Serve, nil
	})
}
