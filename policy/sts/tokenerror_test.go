package sts

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/policy"
)

func mustJWT(t testing.TB, cfg *config.JWT) *policy.JWT {
	t.Helper()
	v, err := policy.NewJWT(cfg, policy.JWTOptions{Route: "sts", CacheSize: -1})
	if err != nil {
		t.Fatalf("cannot build verifier: %s", err)
	}
	return v
}

// TestVerifyAndAssume runs the flow the gateway runs: verify the web
// identity token with the issuer's verifier, then Assume.
func TestVerifyAndAssume(t *testing.T) {
	cfg := testConfig()
	iss := mustIssuer(t, cfg, mustJWT(t, &cfg.JWT))
	tok := signJWT(t, jwt.MapClaims{
		"sub": "alice", "iss": issuerURL, "aud": "mizuchi", "exp": testNow.Add(time.Hour).Unix(),
		"iat": testNow.Unix(), "tenant": "acme", "groups": []string{"uploaders"}, "email_verified": true,
	})
	id, err := iss.JWT().Verify([]byte(tok), testNow)
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	req := testRequest(scopedARN)
	c := mustAssume(t, iss, req, id)
	s, _, err := iss.Open([]byte(c.AccessKeyID), []byte(c.SessionToken), testNow)
	if err != nil || s.KeyPrefix != "tenants/acme/alice/" || s.Claims["tenant"] != "acme" || s.Claims["exp"] != nil {
		t.Fatalf("unexpected session %+v, %v", s, err)
	}
}

func TestTokenError(t *testing.T) {
	cfg := testConfig()
	iss := mustIssuer(t, cfg, mustJWT(t, &cfg.JWT))
	f := func(tok, code, msg string) {
		t.Helper()
		_, err := iss.JWT().Verify([]byte(tok), testNow)
		if err == nil {
			t.Fatalf("expecting a verification error")
		}
		e := iss.TokenError(err)
		if e.Code != code || e.Status != 400 || !strings.Contains(e.Message, msg) {
			t.Fatalf("unexpected error for %v; got %s %d %q; want %s 400 containing %q", err, e.Code, e.Status, e.Message, code, msg)
		}
		if strings.Contains(e.Message, tok) {
			t.Fatalf("the message quotes the token: %q", e.Message)
		}
	}
	claims := func(edit func(c jwt.MapClaims)) string {
		c := jwt.MapClaims{"sub": "alice", "iss": issuerURL, "aud": "mizuchi", "exp": testNow.Add(time.Hour).Unix()}
		edit(c)
		return signJWT(t, c)
	}
	f(claims(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Hour).Unix() }), CodeExpiredToken, "Token expired")
	f(claims(func(c jwt.MapClaims) { c["aud"] = "other" }), CodeInvalidIdentityToken, "could not be validated: token has the wrong audience")
	f(claims(func(c jwt.MapClaims) { c["iss"] = "https://evil" }), CodeInvalidIdentityToken, "token has the wrong issuer")
	f(claims(func(c jwt.MapClaims) { delete(c, "sub") }), CodeInvalidIdentityToken, `no string "sub" claim`)
	good := claims(func(jwt.MapClaims) {})
	f(good[:len(good)-2]+"xx", CodeInvalidIdentityToken, "signature is invalid")
	f("not.a.jwt", CodeInvalidIdentityToken, "token is malformed")
	f(strings.Repeat("x", policy.MaxTokenSize+1), CodeInvalidIdentityToken, "too large")
	// An expired token with a bad signature is invalid, not expired: the
	// signature is checked first.
	exp := claims(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Hour).Unix() })
	f(exp[:len(exp)-2]+"xx", CodeInvalidIdentityToken, "signature is invalid")

	// Unknown keys: IDPCommunicationError while no JWK set was fetched,
	// else InvalidIdentityToken.
	jcfg := config.JWT{Algorithms: []string{"RS256"}, JWKSURL: "http://127.0.0.1:1/jwks", JWKSAllowHTTP: true, Leeway: time.Minute, SubjectClaim: "sub"}
	cold := mustIssuer(t, cfg, mustJWT(t, &jcfg))
	unknown := fmt.Errorf("%w: kid not in the key set", policy.ErrUnknownKey)
	if e := cold.TokenError(unknown); e.Code != CodeIDPCommunication {
		t.Fatalf("unexpected code before the first JWKS fetch; got %s; want %s", e.Code, CodeIDPCommunication)
	}
	if e := iss.TokenError(unknown); e.Code != CodeInvalidIdentityToken {
		t.Fatalf("unexpected code with keys loaded; got %s; want %s", e.Code, CodeInvalidIdentityToken)
	}
	if e := iss.TokenError(errors.New("other")); e.Code != CodeInvalidIdentityToken {
		t.Fatalf("unexpected code for an unknown error; got %s", e.Code)
	}
}
