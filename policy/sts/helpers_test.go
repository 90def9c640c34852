package sts

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/policy"
)

// testNow is the fixed "now" of the tests.
var testNow = time.Date(2026, 3, 7, 9, 5, 1, 0, time.UTC)

const (
	secretNew = "sts-test-secret-new-0123456789abcdef"
	secretOld = "sts-test-secret-old-0123456789abcdef"
	jwtSecret = "jwt-test-secret-0123456789abcdef"
	roleARN   = "arn:aws:iam::123456789012:role/uploader"
	scopedARN = "arn:aws:iam::123456789012:role/path/scoped"
	otherARN  = "arn:minio:iam:::role/x-0123456789"
	issuerURL = "https://idp.example.com"
)

// testConfig is a valid sts section with three roles: an unscoped one, a
// scoped one with required claims, and one with a non-AWS ARN.
func testConfig(secrets ...string) *config.STS {
	if len(secrets) == 0 {
		secrets = []string{secretNew}
	}
	return &config.STS{
		Enabled: true,
		JWT: config.JWT{
			Algorithms: []string{"HS256"}, Secret: jwtSecret, Issuer: issuerURL,
			Audience: []string{"mizuchi"}, Leeway: time.Minute, SubjectClaim: "sub",
		},
		Roles: []config.STSRole{
			{ARN: roleARN, Routes: []string{"uploads", "photos"}, MaxDuration: time.Hour},
			{
				ARN: scopedARN, Routes: []string{"uploads"}, KeyTemplate: "tenants/{claims.tenant}/{sub}/",
				RequiredClaims: map[string][]string{"groups": {"uploaders", "admins"}, "email_verified": {"true"}},
				MaxDuration:    12 * time.Hour,
			},
			{ARN: otherARN, Routes: []string{"photos"}, MaxDuration: 15 * time.Minute},
		},
		Secrets: secrets,
	}
}

func mustIssuer(t testing.TB, cfg *config.STS, verifier *policy.JWT) *Issuer {
	t.Helper()
	iss, err := New(cfg, verifier)
	if err != nil {
		t.Fatalf("cannot build issuer: %s", err)
	}
	return iss
}

// testIdentity is what policy.JWT gives a typical ID token.
func testIdentity() *policy.Identity {
	return &policy.Identity{
		Method:  policy.MethodJWT,
		Subject: "alice",
		Claims: map[string]any{
			"sub": "alice", "iss": issuerURL, "aud": []any{"other", "mizuchi"},
			"exp": float64(testNow.Add(time.Hour).Unix()), "iat": float64(testNow.Unix()), "nonce": "n",
			"tenant": "acme", "groups": []any{"staff", "uploaders"}, "email_verified": true, "level": float64(3),
		},
		Expires: testNow.Add(time.Hour),
	}
}

func testRequest(arn string) *Request {
	return &Request{WebIdentityToken: []byte("token"), RoleARN: arn, RoleSessionName: "app1"}
}

func mustAssume(t testing.TB, iss *Issuer, req *Request, id *policy.Identity) *Credentials {
	t.Helper()
	c, e := iss.Assume(req, id, testNow)
	if e != nil {
		t.Fatalf("unexpected error: %s (%s)", e, e.Reason)
	}
	return c
}

// signJWT signs claims with HS256 and jwtSecret.
func signJWT(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(jwtSecret))
	if err != nil {
		t.Fatalf("cannot sign: %s", err)
	}
	return s
}
