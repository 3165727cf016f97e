// Command health is the Lambda function serving GET /healthz.
package main

import (
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() { wire.Start(wire.Proxies[routes.Health]) }
