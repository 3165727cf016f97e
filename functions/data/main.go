// Command data is the Lambda function of the demo data routes
// (pkg/databackend). It needs no store: the authorizer has already decided.
package main

import (
	"context"

	"github.com/acmedata/tokenservice/pkg/databackend"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() {
	wire.Start(func(_ context.Context, d wire.Deps) (any, error) {
		b, err := databackend.New(d.Log)
		if err != nil {
			return nil, err
		}
		return b.Serve, nil
	})
}
