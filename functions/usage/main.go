// Command usage is the Lambda function serving GET /admin/usage.
package main

import (
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() { wire.Start(wire.Proxies[routes.Usage]) }
