// Command recorder is the usage recorder Lambda: subscribed to the API's
// access-log group and to the token authorizer's log group, it writes the
// usage history and tokens' lastUsedAt (see pkg/usage/recorder).
package main

import (
	"context"

	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/usage/recorder"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() {
	wire.Start(func(ctx context.Context, d wire.Deps) (any, error) {
		store, err := d.UsageStore(ctx)
		if err != nil {
			return nil, err
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
