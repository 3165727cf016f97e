// Command issue is the Lambda function serving token issuance (POST /admin/services/{service}/tokens).
package main

import (
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() { wire.Start(wire.Proxies[routes.Issue]) }
