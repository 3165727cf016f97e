// Command authorizer is the Lambda REQUEST authorizer of the data routes
// (pkg/authz), built by wire.Authorizers.
package main

import (
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() { wire.Start(wire.Authorizers[routes.TokenAuth]) }
