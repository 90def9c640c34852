package policy

import "context"

// Decision is an authorization engine's answer for one request.
type Decision struct {
	Allow bool
	// Reason is the policy's explanation, when it gave one ({"allow": …,
	// "reason": "…"} from Rego). It goes into the S3 error message of a
	// denial and into the access log; it must not carry secrets.
	Reason string
}

// Engine is one authorization engine: embedded OPA (policy/opa), an OPA
// server (policy/opaserver) or OpenFGA (policy/fga). Implementations are
// safe for concurrent use. The gateway never calls Decide on an event
// loop (policy/authz wraps engines with caches, timeouts and fail modes).
type Engine interface {
	// Type is the engine's configuration type: "opa", "opa_server" or
	// "openfga". It labels metrics.
	Type() string
	// Decide evaluates one request. in is never modified; inJSON is
	// in.AppendJSON's output, for engines that send JSON. Decide returns
	// an error when no decision could be made (server down, timeout,
	// a policy result that is neither a boolean nor {"allow": bool}); the
	// caller applies the fail mode. It returns by ctx's deadline.
	Decide(ctx context.Context, in *Input, inJSON []byte) (Decision, error)
	// Local reports that Decide never waits for I/O (embedded evaluation).
	// It is informational: even a local engine costs 50 µs or more per
	// decision, so the gateway decides off its event loops.
	Local() bool
	// Close releases connections and background work.
	Close() error
}
