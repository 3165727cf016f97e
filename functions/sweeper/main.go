// Command sweeper removes the token items of deleted users in the
// background (tokens.SweepDeletedUsers), built by wire.Sweeper. An
// EventBridge schedule invokes it every minute; the tokens themselves
// stopped when their user was deleted.
package main

import "github.com/acmedata/tokenservice/pkg/wire"

func main() { wire.Start(wire.Sweeper) }
