package policy

import "time"

// Authentication methods reported in Identity.Method.
const (
	MethodJWT   = "jwt"
	MethodSigV4 = "sigv4"
)

// Identity is who a request authenticated as. It is shared (JWT.Verify
// returns the same *Identity for every request carrying the same token) and
// immutable once returned: callers must not modify it or its Claims.
type Identity struct {
	Method    string         // MethodJWT or MethodSigV4
	Subject   string         // from subject_claim (default "sub"); for sigv4 the credential's subject
	AccessKey string         // sigv4 only
	Claims    map[string]any // jwt only: the verified claims
	Expires   time.Time      // jwt exp
}
