// Command console is the Lambda function serving the admin web console
// (GET /console/ and its assets) and the OpenAPI document (GET
// /openapi.json) from files embedded in the binary.
package main

import (
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() { wire.Start(wire.Proxies[routes.Console]) }
