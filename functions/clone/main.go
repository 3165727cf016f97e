// Command clone is the Lambda function serving token cloning (POST /admin/tokens/{tokenId}/clone).
package main

import (
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() { wire.Start(wire.Proxies[routes.Clone]) }
