// Package opa is the embedded OPA authorization engine (config type "opa"):
// a Rego policy compiled once, evaluated in the gateway's process.
//
// # Guarantees
//
//   - New compiles the policy (inline, a file, or a bundle: a directory of
//     .rego files with optional data.json/data.yaml, or a bundle .tar.gz,
//     loaded by OPA's own loader) into one prepared query. A policy that
//     does not parse or compile is an error from New, so a reload with a
//     broken policy is refused and the running one stays.
//   - Decide never waits for I/O: the I/O builtins (http.send,
//     net.lookup_ip_addr) are left out of the capabilities, so a policy
//     calling them does not compile. Local reports true, and the gateway
//     may evaluate on its event loop (see BenchmarkDecide for the cost).
//   - The query's result is a boolean, or an object {"allow": bool,
//     "reason": string} ("reason" optional, other keys ignored). An
//     undefined result is a denial with reason ReasonUndefined. Any other
//     result — another type, several results, an evaluation error (a
//     conflict between complete rules, a cancelled ctx) — is an error
//     wrapping ErrResult or the evaluation error, and the caller applies
//     its fail mode.
//   - An Engine is immutable after New and safe for concurrent use.
//
// # Decisions
//
//   - Input: Decide builds the input as an OPA AST value straight from
//     policy.Input (rego.EvalParsedInput) instead of handing OPA in.Map()
//     (rego.EvalInput), which OPA would convert again; BenchmarkDecideInput
//     compares the two. The value is the same document as in.AppendJSON.
//   - Policies are Rego v1 (OPA 1.x's default); a bundle's manifest may
//     declare rego_version 0.
package opa
