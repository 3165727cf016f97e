// Command authorizer is the Lambda REQUEST authorizer of the data routes
// (pkg/authz). Its DynamoDB client gives up after 1 s per attempt and two
// attempts, so a slow store fails the call closed (500) instead of hanging
// the caller.
package main

import (
	"context"
	"os"
	"time"

	"github.com/acmedata/tokenservice/pkg/authz"
	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() {
	wire.Start(func(ctx context.Context, d wire.Deps) (any, error) {
		routeServices, err := authz.ParseRouteServices(os.Getenv(authz.EnvRouteServices))
		if err != nil {
			return nil, err
		}
		store, err := d.CoreStore(ctx, config.ClientOptions{Timeout: time.Second, MaxAttempts: 2})
		if err != nil {
			return nil, err
		}
		a, err := authz.New(store, authz.Options{RouteServices: routeServices, Logger: d.Log})
		if err != nil {
			return nil, err
		}
		return a.Authorize, nil
	})
}
