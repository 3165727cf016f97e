// Command sweeper removes the token items of deleted users and moves
// expired tokens out of the listings of live ones, in the background
// (tokens.RunSweeps), and reconciles plans, built by wire.Sweeper. An
// EventBridge schedule invokes it every minute; the tokens themselves
// stopped when their user was deleted or their time passed.
package main

import "github.com/acmedata/tokenservice/pkg/wire"

func main() { wire.Start(wire.Sweeper) }
