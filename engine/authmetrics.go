package engine

import (
	"bytes"
	"errors"

	"github.com/VictoriaMetrics/metrics"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/policy"
)

// mizuchi_auth_failures_total{method,reason} counts refused
// authentications. Both labels come from fixed sets, so the series are
// created once, at start, and a refusal is one atomic add.
//
// method is the scheme the gateway checked: "sigv4", "sts" (SigV4 with
// session credentials: the request carries a security token) or "jwt".
// reason is mapped from the S3 error answered (authReasonOf) or, for
// bearer tokens, from the policy package's sentinel errors (jwtReason).

type authMethod uint8

const (
	authSigV4 authMethod = iota
	authSTS
	authJWT
	numAuthMethods
)

var authMethodNames = [numAuthMethods]string{authSigV4: "sigv4", authSTS: "sts", authJWT: "jwt"}

type authReason uint8

const (
	reasonMissing         authReason = iota // no credentials at all
	reasonMalformed                         // credentials present but unparseable, or a required header missing
	reasonUnknownKey                        // access key, session key or JWT kid not known
	reasonSignature                         // signature does not match
	reasonUnsignedHeaders                   // x-amz-* headers outside the signature
	reasonSkewed                            // request time too far from the gateway's clock
	reasonExpired                           // presigned URL, session or token expired
	reasonInvalid                           // token or session refused for another reason (claims, issuer, audience...)
	numAuthReasons
)

var authReasonNames = [numAuthReasons]string{
	reasonMissing:         "missing",
	reasonMalformed:       "malformed",
	reasonUnknownKey:      "unknown_key",
	reasonSignature:       "signature",
	reasonUnsignedHeaders: "unsigned_headers",
	reasonSkewed:          "skewed",
	reasonExpired:         "expired",
	reasonInvalid:         "invalid",
}

var authFailures [numAuthMethods][numAuthReasons]*metrics.Counter

func init() {
	for m := range authFailures {
		for r := range authFailures[m] {
			authFailures[m][r] = metrics.NewCounter(`mizuchi_auth_failures_total{method="` + authMethodNames[m] + `",reason="` + authReasonNames[r] + `"}`)
		}
	}
}

// countAuthFailure counts a refused authentication.
func countAuthFailure(f *authFailure) { authFailures[f.method][f.reason].Inc() }

// authReasonOf maps the S3 error of a refused SigV4 request to its reason.
func authReasonOf(e *s3Error) authReason {
	switch e {
	case errAnonymous, errNoCredentials:
		return reasonMissing
	case errInvalidAccessKey:
		return reasonUnknownKey
	case errSignatureMismatch:
		return reasonSignature
	case errHeadersNotSigned:
		return reasonUnsignedHeaders
	case errTimeSkewed:
		return reasonSkewed
	case errExpired, errSessionExpired:
		return reasonExpired
	case errSessionInvalid, errInvalidToken:
		return reasonInvalid
	}
	return reasonMalformed // AuthorizationHeaderMalformed, AuthorizationQueryParametersError, MissingSecurityHeader
}

// jwtReason maps a bearer token's verification error to its reason.
func jwtReason(err error) authReason {
	switch {
	case errors.Is(err, policy.ErrTokenExpired):
		return reasonExpired
	case errors.Is(err, policy.ErrUnknownKey):
		return reasonUnknownKey
	case errors.Is(err, policy.ErrTokenTooLarge):
		return reasonMalformed
	}
	return reasonInvalid
}

// sigV4Method tells a request signed with session credentials (a security
// token in the header or the presigned query) from a plain SigV4 one.
func sigV4Method(req *httpparse.Request) authMethod {
	if req.Header("x-amz-security-token") != nil || bytes.Contains(req.Query, []byte("X-Amz-Security-Token=")) {
		return authSTS
	}
	return authSigV4
}
