// Package authztest starts real authorization servers for tests: OPA
// (StartOPA) and OpenFGA (StartOpenFGA), plus what several test packages
// share: the example policy's path and its case table (PolicyCases), an
// OpenFGA model with a condition (ExampleModel), and a server that accepts
// connections and never answers (Stall). It is used by the policy engine
// tests and by cmd/mizuchi's end-to-end tests, hence its place under the
// module's internal/.
//
// # Guarantees
//
//   - The binaries come from MIZUCHI_OPA and MIZUCHI_OPENFGA (paths, as
//     printed by scripts/install-authz-servers.sh; the Makefile sets them).
//     When one is unset the test is skipped with a message saying so; when
//     it is set but the server cannot start, the test fails.
//   - Servers listen on free loopback ports only, with telemetry, version
//     checks, the playground and metrics off (metrics on a loopback port
//     with StartOpenFGAMetrics); nothing leaves the machine.
//   - A Start function returns once the server answers its health
//     endpoint (polled in a bounded loop, no fixed sleeps), or fails the
//     test. The returned stop kills the server and waits for it; it is
//     idempotent and also registered with t.Cleanup. On Linux the server
//     is killed as well if the test binary dies (Pdeathsig). The server's
//     output is logged when the test failed.
package authztest
