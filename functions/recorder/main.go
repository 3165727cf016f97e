// Command recorder is the usage recorder Lambda: subscribed to the API's
// access-log group and to the token authorizer's log group, it writes the
// usage history and tokens' lastUsedAt (see pkg/usage/recorder).
package main

import (
	"context"
	"fmt"

	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/usage/recorder"
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
		core, err := d.CoreStore(ctx, config.ClientOptions{})
		if err != nil {
			return nil, err
		}
		r, err := recorder.New(store, core, d.Log)
		if err != nil {
			return nil, err
		}
		return r.Handle, nil
	})
}
