// Command usage is the Lambda function serving GET /admin/usage.
package main

import (
	"context"
	"fmt"

	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/handlers/usage"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/usagestore"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() {
	wire.Start(func(ctx context.Context, d wire.Deps) (any, error) {
		if err := d.Config.RequireTables(schema.Usage); err != nil {
			return nil, err
		}
		client, err := config.DynamoDB(ctx, d.Config, config.ClientOptions{})
		if err != nil {
			return nil, err
		}
		store, err := usagestore.New(client, d.Config.UsageTable)
		if err != nil {
			return nil, fmt.Errorf("usage store: %w", err)
		}
		h, err := usage.New(store, d.Log)
		if err != nil {
			return nil, err
		}
		return h.Serve, nil
	})
}
