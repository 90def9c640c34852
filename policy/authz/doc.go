// Package authz is a route's authorization: one or more engines
// (policy/opa, policy/opaserver, policy/fga) that must all allow a request,
// each behind a bounded decision cache, a timeout and the route's fail mode.
//
// Guarantees:
//
//   - Engines are asked in configuration order; the first denial ends the
//     decision (later engines are not asked). An engine that cannot decide
//     (error, timeout) makes the result Unavailable under fail_mode
//     "closed" (the gateway answers 503 ServiceUnavailable with
//     Retry-After) and is skipped, counted, under "open".
//   - Each engine call is bounded by the engine's timeout (timeout_ms,
//     default 100 ms): Decide returns by then.
//   - Decisions are cached per engine, keyed by the canonical JSON of the
//     decision input (policy.Input.AppendJSON: everything a policy can see,
//     nothing per request such as the request id or date); allows for
//     cache_ttl_seconds, denials for cache_deny_ttl_seconds; errors never.
//     A cache holds at most cache_max_entries; a full cache drops its
//     expired entries, or else an arbitrary eighth. Concurrent identical
//     misses make one engine call (golang.org/x/sync/singleflight).
//   - Cached never blocks and never calls an engine: the gateway calls it
//     on the event loop, and Decide, which may wait for a remote engine or
//     spend 50 µs or more in embedded Rego, only off the loop.
//   - Nothing is logged per decision here; the gateway's access log
//     carries the decision and its reason.
//
// Metrics (created once per route and engine; a reload reuses them):
// mizuchi_authz_decisions_total{route,engine,result} with result allow,
// deny, error or timeout; mizuchi_authz_fail_open_total{route,engine};
// mizuchi_authz_decision_duration_seconds{route,engine} (engine calls,
// cache hits excluded); mizuchi_authz_cache_hits_total{route,engine} and
// mizuchi_authz_cache_misses_total{route,engine}.
package authz
