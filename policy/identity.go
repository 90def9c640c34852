package policy

import "time"

// Authentication methods reported in Identity.Method.
const (
	MethodJWT   = "jwt"
	MethodSigV4 = "sigv4"
	// MethodSTS: SigV4 with temporary credentials from the gateway's
	// AssumeRoleWithWebIdentity (package policy/sts).
	MethodSTS = "sts"
)

// Identity is who a request authenticated as. It is shared (JWT.Verify
// returns the same *Identity for every request carrying the same token) and
// immutable once returned: callers must not modify it or its Claims.
type Identity struct {
	Method    string         // MethodJWT, MethodSigV4 or MethodSTS
	Subject   string         // from subject_claim (default "sub"); for sigv4 the credential's subject; for sts the web identity token's
	AccessKey string         // sigv4 and sts
	Role      string         // sts only: the assumed role's ARN
	Claims    map[string]any // jwt: the verified claims; sts: the claims sealed in the session
	Expires   time.Time      // jwt exp
}
