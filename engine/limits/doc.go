// Package limits holds the data structures behind the gateway's admission
// limits: concurrent connections per client IP (IPCounter), in-flight
// uploads per process (Gate) and per identity, a token bucket per identity
// (Identities, TokenBucket), and the minimum body rate measured over a
// window (Window).
//
// Guarantees:
//
//   - Nothing blocks beyond a short, uncontended-in-practice mutex held for
//     a map lookup: the checks run on gnet event loops.
//   - The checks allocate nothing once an IP or identity has an entry
//     (limits_alloc_test.go); a new entry is one map insert.
//   - Memory is bounded: an IP has an entry only while it has connections;
//     Identities holds at most MaxIdentities entries, evicting idle ones
//     (no upload in flight) first, the least recently seen of a shard when
//     none is idle.
//   - Time is passed in by the caller (Unix nanoseconds), so tests inject a
//     clock; the engine passes its coarse clock.
//
// The engine (engine/limits.go) decides where each check runs and how a
// refusal is answered.
package limits
