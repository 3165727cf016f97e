// Command keyauthorizer is the Lambda REQUEST authorizer of the admin
// routes (pkg/keyauth), with the same short store timeouts as the data
// authorizer.
package main

import (
	"context"
	"time"

	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/keyauth"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() {
	wire.Start(func(ctx context.Context, d wire.Deps) (any, error) {
		store, err := d.CoreStore(ctx, config.ClientOptions{Timeout: time.Second, MaxAttempts: 2})
		if err != nil {
			return nil, err
		}
		a, err := keyauth.New(store, keyauth.Options{APIKeyPrefix: d.Config.APIKeyPrefix, Logger: d.Log})
		if err != nil {
			return nil, err
		}
		return a.Authorize, nil
	})
}
