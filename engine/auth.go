package engine

import (
	"bytes"
	"errors"
	"strings"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/policy"
	"github.com/mizuchi-gw/mizuchi/policy/sts"
	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// Auth is a route's authentication. A Route with a nil Auth serves
// anonymous requests. When both methods are set a request may use either:
// one that carries a SigV4 Authorization header or presigned query is
// checked as SigV4, anything else as JWT.
type Auth struct {
	SigV4 *sigv4.VerifyConfig // nil: SigV4 not accepted
	JWT   *policy.JWT         // nil: bearer tokens not accepted
	// QueryParams are query parameters that carry tokens (JWT query token
	// sources): they are not operation parameters.
	QueryParams []string

	// sessionClaims: decode the claims of STS sessions (SigV4.Resolve set;
	// the route's authorization or key template reads them). Set by
	// NewRouter.
	sessionClaims bool
}

// Payload modes of x-amz-content-sha256 that carry chunk signatures.
var (
	streamingSigned          = []byte("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	streamingSignedTrailer   = []byte("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
	streamingECDSA           = []byte("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD")
	streamingUnsignedTrailer = []byte("STREAMING-UNSIGNED-PAYLOAD-TRAILER")
)

// identity is who a request authenticated as. Its strings point into
// long-lived configuration, a cached policy.Identity or the request's STS
// session: copying it costs nothing.
type identity struct {
	method    string // "", "sigv4", "jwt" or "sts"
	subject   string
	accessKey string         // sigv4, sts
	role      string         // sts: the assumed role's ARN
	claims    map[string]any // jwt: the verified claims; sts: the session's, when the route reads them (shared, read-only)
	session   *sts.Session   // sts: the opened session (scope checked by bind)
}

// authFailure is a refused authentication, built only on failure.
type authFailure struct {
	e       *s3Error
	msg     string // replaces e.Message when set
	wwwAuth string // WWW-Authenticate value, for bearer failures
	xml     []byte // extra <Error> elements (SignatureDoesNotMatch details)
	// labels of mizuchi_auth_failures_total (authmetrics.go)
	method authMethod
	reason authReason
}

var (
	errAuthMalformed      = &s3Error{"AuthorizationHeaderMalformed", 400, "The authorization header is malformed."}
	errAuthQueryMalformed = &s3Error{"AuthorizationQueryParametersError", 400, "The presigned URL query parameters are malformed."}
	errMissingSecurity    = &s3Error{"MissingSecurityHeader", 400, "Your request was missing a required header."}
	errInvalidAccessKey   = &s3Error{"InvalidAccessKeyId", 403, "The AWS access key Id you provided does not exist in our records."}
	errSignatureMismatch  = &s3Error{"SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	errTimeSkewed         = &s3Error{"RequestTimeTooSkewed", 403, "The difference between the request time and the server's time is too large."}
	errExpired            = &s3Error{"AccessDenied", 403, "Request has expired"}
	errAnonymous          = &s3Error{"AccessDenied", 403, "Anonymous access is not allowed: sign the request with AWS SigV4."}
	errNoCredentials      = &s3Error{"AccessDenied", 401, "Authentication required: send a bearer token or an AWS SigV4 signature."}
	errInvalidToken       = &s3Error{"InvalidToken", 401, "The provided token is malformed or otherwise invalid."}
	errHeadersNotSigned   = &s3Error{"AccessDenied", 403, "There were headers present in the request which were not signed"}
	errNoDecodedLength    = &s3Error{"MissingContentLength", 411, "aws-chunked uploads must send x-amz-decoded-content-length."}
)

// authResult is what the loop learns from authenticating one request.
type authResult struct {
	id        identity
	streaming bool // the body is aws-chunked with chunk signatures (sc.verified holds the seed)
	trailer   bool // ... with a signed trailer
	// unverified: streaming on a route without SigV4, whose chunk
	// signatures cannot be checked (decoded for framing only)
	unverified bool
	// unsigned: STREAMING-UNSIGNED-PAYLOAD-TRAILER in a chunked body,
	// decoded here (no signatures to check)
	unsigned bool
	// autoMP: a PutObject uploaded as a multipart upload (size above the
	// route's threshold, or chunked of unknown length)
	autoMP  bool
	spool   bool // a chunked UploadPart spooled to disk first (spool.go)
	pending bool // waiting for a JWKS refresh; the request stays in gnet's buffer
	fail    *authFailure
}

// looksSigV4 reports whether a request carries SigV4 credentials (header or
// presigned query), so a route accepting both methods knows which to check.
func looksSigV4(req *httpparse.Request) bool {
	a := req.Header("authorization")
	if bytes.HasPrefix(a, []byte("AWS4-")) || bytes.HasPrefix(a, []byte("AWS ")) {
		return true
	}
	return bytes.Contains(req.Query, []byte("X-Amz-Credential=")) || bytes.Contains(req.Query, []byte("X-Amz-Signature="))
}

// authenticate checks a request's credentials on the event loop. It
// allocates nothing on success with a cached signing key or a cached token.
func (s *Server) authenticate(st *connState, sc *loopScratch, a *Auth, req *httpparse.Request) authResult {
	now := time.Unix(0, nowNanos())
	if a.SigV4 != nil && (a.JWT == nil || looksSigV4(req)) {
		return s.authSigV4(sc, a, req, now)
	}
	if a.JWT == nil {
		return authResult{fail: &authFailure{e: errAnonymous, method: authSigV4, reason: reasonMissing}}
	}
	tok, scratch := a.JWT.Token(req, sc.tok[:0])
	sc.tok = scratch
	if tok == nil {
		return authResult{fail: &authFailure{e: errNoCredentials, wwwAuth: `Bearer realm="mizuchi"`, method: authJWT, reason: reasonMissing}}
	}
	ident, err := a.JWT.Verify(tok, now)
	if err == nil {
		st.kidRefreshed = false
		authJWTOK.Inc()
		return authResult{id: identity{method: policy.MethodJWT, subject: ident.Subject, claims: ident.Claims}}
	}
	if errors.Is(err, policy.ErrUnknownKey) && !st.kidRefreshed {
		// The token names a key we have not fetched: refresh the JWKS off
		// the loop and look at this request again when it is done.
		st.kidRefreshed = true
		st.authWait.Store(true)
		gc := st.gc
		a.JWT.RefreshUnknownKey(func() {
			st.authWait.Store(false)
			_ = gc.Wake(nil)
		})
		return authResult{pending: true}
	}
	st.kidRefreshed = false
	detail := strings.TrimPrefix(err.Error(), "policy: ")
	return authResult{fail: &authFailure{
		e:       errInvalidToken,
		msg:     errInvalidToken.Message + " (" + detail + ")",
		wwwAuth: `Bearer realm="mizuchi", error="invalid_token", error_description="` + quoteSafe(detail) + `"`,
		method:  authJWT,
		reason:  jwtReason(err),
	}}
}

func (s *Server) authSigV4(sc *loopScratch, a *Auth, req *httpparse.Request, now time.Time) authResult {
	sc.sigHdrs = sc.sigHdrs[:0]
	for _, h := range req.Headers {
		sc.sigHdrs = append(sc.sigHdrs, sigv4.Header{Name: h.Name, Value: h.Value})
	}
	if sc.verifier == nil {
		sc.verifier = sigv4.NewVerifier(s.clientKeys)
	}
	in := sigv4.Input{Method: req.Method, Path: req.Path, Query: req.Query, Headers: sc.sigHdrs, Now: now}
	err := sc.verifier.Verify(a.SigV4, &in, &sc.verified)
	if err == nil {
		r := authResult{id: identity{method: policy.MethodSigV4, subject: sc.verified.Key.Subject, accessKey: sc.verified.Key.AccessKey}}
		if sess, ok := sc.verified.Key.Session.(*sts.Session); ok {
			if a.sessionClaims && sess.DecodeClaims() != nil {
				sessionInvalid.Inc()
				return authResult{fail: &authFailure{e: errSessionInvalid, method: authSTS, reason: reasonInvalid}}
			}
			authSTSOK.Inc()
			r.id = identity{method: policy.MethodSTS, subject: sess.Subject, accessKey: sess.AccessKeyID,
				role: sess.RoleARN, claims: sess.Claims, session: sess}
		} else {
			authSigV4OK.Inc()
		}
		ph := sc.verified.PayloadHash
		switch {
		case bytes.Equal(ph, streamingSigned):
			r.streaming = true
		case bytes.Equal(ph, streamingSignedTrailer):
			r.streaming, r.trailer = true, true
		}
		return r
	}
	f := &authFailure{msg: strings.TrimPrefix(err.Error(), "sigv4: ")}
	switch {
	case errors.Is(err, sigv4.ErrNoAuth):
		f.e, f.msg = errAnonymous, ""
	case errors.Is(err, sigv4.ErrMalformed):
		f.e = errAuthMalformed
	case errors.Is(err, sigv4.ErrQueryMalformed):
		f.e = errAuthQueryMalformed
	case errors.Is(err, sigv4.ErrMissingSecurityHeader):
		f.e = errMissingSecurity
	case errors.Is(err, sigv4.ErrUnknownAccessKey):
		f.e, f.msg = errInvalidAccessKey, ""
	case errors.Is(err, sts.ErrAccessKeyMismatch):
		sessionMismatch.Inc()
		f.e, f.msg = errInvalidAccessKey, ""
	case errors.Is(err, sts.ErrExpiredToken):
		sessionExpired.Inc()
		f.e, f.msg = errSessionExpired, ""
	case errors.Is(err, sigv4.ErrSecurityToken):
		sessionInvalid.Inc()
		f.e, f.msg = errSessionInvalid, ""
	case errors.Is(err, sigv4.ErrSignatureMismatch):
		f.e, f.msg = errSignatureMismatch, ""
		// As S3 does: show what the server signed, so SDK users can find
		// the difference. Neither holds a secret.
		x := append([]byte(nil), "<StringToSign>"...)
		x = appendXMLEscaped(x, sc.verifier.StringToSign())
		x = append(x, "</StringToSign><CanonicalRequest>"...)
		x = appendXMLEscaped(x, sc.verifier.CanonicalRequest())
		f.xml = append(x, "</CanonicalRequest>"...)
	case errors.Is(err, sigv4.ErrHeadersNotSigned):
		// An x-amz-* header the signer did not approve (metadata,
		// tagging, object-lock retention...): refused, as S3 does, with
		// its name (never its value).
		f.e, f.msg = errHeadersNotSigned, ""
		x := append([]byte(nil), "<HeadersNotSigned>"...)
		x = appendXMLEscaped(x, bytes.ToLower(sc.verifier.UnsignedHeader()))
		f.xml = append(x, "</HeadersNotSigned>"...)
	case errors.Is(err, sigv4.ErrSkewed):
		f.e, f.msg = errTimeSkewed, ""
	case errors.Is(err, sigv4.ErrExpired):
		f.e, f.msg = errExpired, ""
	default:
		f.e = errAuthMalformed
	}
	f.method, f.reason = sigV4Method(req), authReasonOf(f.e)
	return authResult{fail: f}
}

// quoteSafe drops characters that cannot appear in a quoted-string header
// parameter.
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s)
}

// refuseAuth answers a request that failed authentication, from the loop.
func (s *Server) refuseAuth(c gnet.Conn, st *connState, sc *loopScratch, headLen int, rt *Route, o op, f *authFailure) gnet.Action {
	msg := f.msg
	if msg == "" {
		msg = f.e.Message
	}
	countAuthFailure(f)
	var hdr string
	if f.wwwAuth != "" {
		hdr = "WWW-Authenticate: " + f.wwwAuth + "\r\n"
	}
	return s.refuseWith(c, st, sc, headLen, rt.m, o, f.e.Code, f.e.Status, msg, hdr, f.xml)
}

// isStreamingSigned reports a payload mode with chunk signatures.
func isStreamingSigned(ph []byte) bool {
	return bytes.HasPrefix(ph, streamingSigned) || bytes.HasPrefix(ph, streamingECDSA)
}

// parseLength parses a non-negative decimal length header.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
