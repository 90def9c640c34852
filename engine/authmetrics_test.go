package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// signedHead returns a PUT head signed with (ak, secret) at the given time,
// with extra (unsigned) header lines.
func signedHead(ak, secret string, at time.Time, extra string) []byte {
	date := sigv4.AppendAmzDate(nil, at.UTC())
	hdrs := []sigv4.Header{
		{Name: []byte("host"), Value: []byte("127.0.0.1:8080")},
		{Name: []byte("x-amz-content-sha256"), Value: []byte("UNSIGNED-PAYLOAD")},
		{Name: []byte("x-amz-date"), Value: date},
	}
	auth := sigv4.NewSigner(nil).AppendAuthorization(nil, &sigv4.Credentials{AccessKey: ak, SecretKey: secret}, &sigv4.Request{
		Method: []byte("PUT"), Path: []byte("/uploads/k"), Headers: hdrs, PayloadHash: []byte("UNSIGNED-PAYLOAD"),
		AmzDate: date, Region: "us-east-1",
	})
	return []byte("PUT /uploads/k HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 1\r\n" +
		"x-amz-content-sha256: UNSIGNED-PAYLOAD\r\nx-amz-date: " + string(date) + "\r\nAuthorization: " + string(auth) + "\r\n" + extra + "\r\n")
}

// Every refused authentication carries the method and reason it is counted
// under, and countAuthFailure moves exactly that series.
func TestAuthFailureLabels(t *testing.T) {
	fx := newAuthFixture(t)
	now := time.Unix(0, nowNanos())
	anon := []byte("PUT /uploads/k HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n")
	for _, c := range []struct {
		name     string
		head     []byte
		noJWT    bool
		method   string
		reason   string
		s3Code   string
		notSigV4 bool
	}{
		{name: "wrong secret", head: signedHead("AKTEST", "WRONG", now, ""), method: "sigv4", reason: "signature", s3Code: "SignatureDoesNotMatch"},
		{name: "unknown key", head: signedHead("AKNOPE", "SKTEST", now, ""), method: "sigv4", reason: "unknown_key", s3Code: "InvalidAccessKeyId"},
		{name: "skewed", head: signedHead("AKTEST", "SKTEST", now.Add(-time.Hour), ""), method: "sigv4", reason: "skewed", s3Code: "RequestTimeTooSkewed"},
		{name: "unsigned x-amz header", head: signedHead("AKTEST", "SKTEST", now, "x-amz-meta-owner: eve\r\n"), method: "sigv4", reason: "unsigned_headers", s3Code: "AccessDenied"},
		{name: "malformed", head: []byte("PUT /uploads/k HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nAuthorization: AWS4-HMAC-SHA256 nonsense\r\n\r\n"), method: "sigv4", reason: "malformed", s3Code: "AuthorizationHeaderMalformed"},
		{name: "session token, wrong secret", head: signedHead("AKTEST", "WRONG", now, "x-amz-security-token: tok\r\n"), method: "sts"},
		{name: "anonymous on a SigV4 route", head: anon, noJWT: true, method: "sigv4", reason: "missing", s3Code: "AccessDenied"},
		{name: "no token", head: anon, method: "jwt", reason: "missing", s3Code: "AccessDenied"},
		{name: "expired token", head: bearerHead(hsToken(t, jwt.MapClaims{"sub": "bob", "exp": now.Add(-time.Hour).Unix()})), method: "jwt", reason: "expired", s3Code: "InvalidToken"},
		{name: "token without exp", head: bearerHead(hsToken(t, jwt.MapClaims{"sub": "bob"})), method: "jwt", reason: "invalid", s3Code: "InvalidToken"},
		{name: "token too large", head: bearerHead(strings.Repeat("a", 9<<10)), method: "jwt", reason: "malformed", s3Code: "InvalidToken"},
	} {
		t.Run(c.name, func(t *testing.T) {
			saved := fx.a.JWT
			if c.noJWT {
				fx.a.JWT = nil
			}
			defer func() { fx.a.JWT = saved }()
			r := fx.run(t, c.head)
			f := r.fail
			if f == nil {
				t.Fatalf("accepted; want a refusal")
			}
			if c.s3Code != "" && f.e.Code != c.s3Code {
				t.Fatalf("answered %s; want %s", f.e.Code, c.s3Code)
			}
			if got := authMethodNames[f.method]; got != c.method {
				t.Fatalf("method %s; want %s", got, c.method)
			}
			if got := authReasonNames[f.reason]; c.reason != "" && got != c.reason {
				t.Fatalf("reason %s; want %s", got, c.reason)
			}
			ctr := authFailures[f.method][f.reason]
			before := ctr.Get()
			countAuthFailure(f)
			if got := ctr.Get(); got != before+1 {
				t.Fatalf("mizuchi_auth_failures_total{method=%q,reason=%q} moved by %d; want 1", c.method, authReasonNames[f.reason], got-before)
			}
		})
	}
}
