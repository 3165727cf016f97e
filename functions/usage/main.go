// Command usage is the Lambda function serving GET /admin/usage.
package main

import (
	"context"

	"github.com/acmedata/tokenservice/pkg/handlers/usage"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() {
	wire.Start(func(ctx context.Context, d wire.Deps) (any, error) {
		store, err := d.UsageStore(ctx)
		if err != nil {
			return nil, err
		}
		h, err := usage.New(store, d.Log)
		if err != nil {
			return nil, err
		}
		return h.Serve, nil
	})
}
