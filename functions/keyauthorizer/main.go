// Command keyauthorizer is the Lambda REQUEST authorizer of the account
// admin routes (pkg/keyauth), built by wire.Authorizers.
package main

import (
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() { wire.Start(wire.Authorizers[routes.APIKeyAuth]) }
