// Package policy authenticates requests beyond SigV4: JWT bearer tokens,
// with keys from a static PEM key, an HMAC secret or a JWK set (JWKS). It
// also holds the authorization contract shared by the engines in its
// sub-packages: Input (the decision input, whose JSON form is documented in
// docs/AUTHORIZATION.md), Decision and Engine. The engines are policy/opa
// (embedded Rego), policy/opaserver and policy/fga (OpenFGA); policy/authz
// puts them behind caches, timeouts and fail modes. Upload binding lives in
// policy/seal, policy/uploadid, policy/keytemplate and policy/limits.
//
// # JWT
//
// NewJWT builds one authenticator per route from config.JWT. The engine
// calls Token to find the token in a parsed request, Verify to check it,
// and on ErrUnknownKey RefreshUnknownKey followed by one retry.
//
// Guarantees:
//
//   - Only cfg.Algorithms are accepted; "none" never is. The key is chosen
//     by the token's algorithm: HS* always uses the secret (never a public
//     key, never a JWK), RS*/PS* an RSA key, ES256/384/512 an ECDSA key on
//     P-256/P-384/P-521, EdDSA an Ed25519 key. A key of another type is
//     never tried, which rules out key-confusion attacks.
//   - With jwks_url, a token with a kid must name a key of the current set
//     (else ErrUnknownKey); a token without kid uses the set's only key for
//     its algorithm, else the static key. Without jwks_url, kid is ignored.
//     JWKs with "use":"enc", kty "oct", or an "alg" other than the token's
//     are not used.
//   - exp is required; exp, nbf and iat are checked with cfg.Leeway; iss
//     must equal cfg.Issuer and aud must contain one of cfg.Audience when
//     they are set; the subject claim must be a non-empty string.
//   - Tokens over MaxTokenSize are refused before parsing. Error details
//     are fixed phrases and never contain the token; nothing logs tokens,
//     secrets or claims.
//
// # Allocation
//
// Token never allocates when scratch is large enough (a query token is
// decoded into it). Verify of a token verified before is a map lookup:
// no signature check and no allocation (allocation_test.go). The cache
// keeps at most about CacheSize tokens in 16 shards; a full shard drops its
// expired entries, or else an arbitrary eighth of itself. Entries stay valid
// until exp+leeway and every hit re-checks exp, nbf and iat against now.
// When a refresh removes a key from the JWK set the cache is cleared.
//
// # JWK set refresh
//
// One goroutine, started by Start, fetches the set (GET, status 200, at
// most 1 MiB) at once and then every cache_ttl, retrying failures sooner.
// The set is swapped atomically (atomic.Pointer): a request uses either
// the old or the new keys, never none. A failed fetch keeps the previous
// set and sets mizuchi_jwks_stale{route} to 1. RefreshUnknownKey triggers
// an early fetch, at most one per MinRefreshInterval.
//
// Metrics (route label): mizuchi_jwt_cache_hits_total,
// mizuchi_jwt_cache_misses_total, mizuchi_jwks_refresh_total{result="ok"|"error"},
// mizuchi_jwks_stale, mizuchi_jwks_keys. They are created once in NewJWT
// (GetOrCreate, so rebuilding a route on reload reuses them).
//
// Identity is also the result type of SigV4 authentication (Method
// MethodSigV4), so authorization sees one type.
package policy
