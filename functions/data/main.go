// Command data is the Lambda function of the demo data routes
// (pkg/databackend). It needs no store: the authorizer has already decided.
package main

import (
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() { wire.Start(wire.Proxies[routes.Data]) }
