// Package opaserver is the remote OPA authorization engine (config type
// "opa_server"): each decision is a POST to an OPA server's Data API.
//
// # Guarantees
//
//   - Decide sends POST {url}/v1/data/{policy_path} with the body
//     {"input": <inJSON>} (inJSON is policy.Input.AppendJSON's output,
//     copied, never re-encoded) and, when a bearer token is configured,
//     "Authorization: Bearer <token>". The token is never logged and never
//     appears in an error.
//   - 200 {"result": true|false} and 200 {"result": {"allow": bool,
//     "reason": string}} ("reason" optional, other keys ignored) are
//     decisions. 200 without "result" (an undefined decision) is a denial
//     with reason ReasonUndefined. Anything else — another status,
//     redirects (never followed), another result shape, a body over 1 MiB,
//     a connection error, ctx's deadline — is an error (wrapping ErrStatus,
//     ErrResult or the transport's error), and the caller applies its fail
//     mode. Decide returns by ctx's deadline; with no deadline, by the
//     configured timeout.
//   - Connections are kept alive in a pool of up to MaxIdleConnsPerHost
//     per server, so steady traffic does not dial. Environment proxies are
//     not used: the decision goes straight to the configured URL.
//   - An Engine is safe for concurrent use; Close closes idle connections.
package opaserver
