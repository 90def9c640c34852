// Package policy will hold authentication beyond SigV4 (JWT with JWKS) and
// authorization (embedded OPA/Rego, an OPA server, OpenFGA).
//
// It is empty in this build: no route can enable auth or authz yet, and a
// configuration that does is refused at start (config.Config.Unsupported),
// so nothing is served on the assumption that a policy was checked.
package policy
