// Command authorizer is the Lambda REQUEST authorizer of the data routes
// (pkg/authz), built by wire.Authorizers. It keeps answers in memory for
// the deployment's revocation delay (REVOCATION_DELAY, 1 s by default).
package main

import (
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/wire"
)

func main() { wire.Start(wire.Authorizers[routes.TokenAuth]) }
