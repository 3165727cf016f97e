// Command operator is the Lambda function serving the IAM-authorised operator routes under /operator.
package main

import (
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() { wire.Start(wire.Proxies[routes.Operator]) }
