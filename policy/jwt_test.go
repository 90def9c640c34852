package policy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mizuchi-gw/mizuchi/config"
)

func TestVerify_Success(t *testing.T) {
	k := tk(t)
	f := func(name string, cfg *config.JWT, method jwt.SigningMethod, key any, c jwt.MapClaims, wantSub string) {
		t.Helper()
		a := newTestJWT(t, cfg, JWTOptions{Route: "verify-ok"})
		tok := sign(t, method, key, "", c)
		id, err := a.Verify([]byte(tok), testNow)
		if err != nil {
			t.Fatalf("%s: unexpected error: %s", name, err)
		}
		if id.Method != MethodJWT || id.Subject != wantSub {
			t.Fatalf("%s: unexpected identity; got %s/%q; want jwt/%q", name, id.Method, id.Subject, wantSub)
		}
		if exp := time.Unix(c["exp"].(int64), 0); !id.Expires.Equal(exp) {
			t.Fatalf("%s: unexpected Expires; got %s; want %s", name, id.Expires, exp)
		}
	}
	hs := func(alg string) *config.JWT {
		c := jwtConfig(alg)
		c.Secret = testSecret
		return c
	}
	withKey := func(pemKey string, algs ...string) *config.JWT {
		c := jwtConfig(algs...)
		c.PublicKey = pemKey
		return c
	}
	f("HS256", hs("HS256"), jwt.SigningMethodHS256, []byte(testSecret), claims(nil), "alice")
	f("HS384", hs("HS384"), jwt.SigningMethodHS384, []byte(testSecret), claims(nil), "alice")
	f("HS512", hs("HS512"), jwt.SigningMethodHS512, []byte(testSecret), claims(nil), "alice")
	rsaPEM := pkixPEM(t, &k.rsa.PublicKey)
	f("RS256", withKey(rsaPEM, "RS256"), jwt.SigningMethodRS256, k.rsa, claims(nil), "alice")
	f("RS512 PKCS1 PEM", withKey(pkcs1PEM(&k.rsa.PublicKey), "RS512"), jwt.SigningMethodRS512, k.rsa, claims(nil), "alice")
	f("PS256", withKey(rsaPEM, "PS256"), jwt.SigningMethodPS256, k.rsa, claims(nil), "alice")
	f("ES256", withKey(pkixPEM(t, &k.p256.PublicKey), "ES256"), jwt.SigningMethodES256, k.p256, claims(nil), "alice")
	f("ES384", withKey(pkixPEM(t, &k.p384.PublicKey), "ES384"), jwt.SigningMethodES384, k.p384, claims(nil), "alice")
	f("ES512", withKey(pkixPEM(t, &k.p521.PublicKey), "ES512"), jwt.SigningMethodES512, k.p521, claims(nil), "alice")
	f("ES256 certificate", withKey(certPEM(t, k.p256), "ES256"), jwt.SigningMethodES256, k.p256, claims(nil), "alice")
	f("EdDSA", withKey(pkixPEM(t, k.ed.Public()), "EdDSA"), jwt.SigningMethodEdDSA, k.ed, claims(nil), "alice")

	// Several algorithms on one route: each picks its own key.
	both := withKey(rsaPEM, "RS256", "HS256")
	both.Secret = testSecret
	f("HS256 on HS256+RS256", both, jwt.SigningMethodHS256, []byte(testSecret), claims(nil), "alice")
	f("RS256 on HS256+RS256", both, jwt.SigningMethodRS256, k.rsa, claims(nil), "alice")

	// Claims within leeway, issuer, audiences, subject claim.
	c := hs("HS256")
	c.Issuer = "https://idp.example"
	c.Audience = []string{"uploads", "other"}
	f("iss and aud string", c, jwt.SigningMethodHS256, []byte(testSecret), claims(map[string]any{"iss": "https://idp.example", "aud": "uploads"}), "alice")
	f("iss and aud array", c, jwt.SigningMethodHS256, []byte(testSecret), claims(map[string]any{"iss": "https://idp.example", "aud": []string{"x", "other"}}), "alice")
	f("exp within leeway", hs("HS256"), jwt.SigningMethodHS256, []byte(testSecret), claims(map[string]any{"exp": testNow.Add(-30 * time.Second).Unix()}), "alice")
	f("nbf within leeway", hs("HS256"), jwt.SigningMethodHS256, []byte(testSecret), claims(map[string]any{"nbf": testNow.Add(30 * time.Second).Unix()}), "alice")
	f("iat within leeway", hs("HS256"), jwt.SigningMethodHS256, []byte(testSecret), claims(map[string]any{"iat": testNow.Add(30 * time.Second).Unix()}), "alice")
	f("no nbf, no iat", hs("HS256"), jwt.SigningMethodHS256, []byte(testSecret), claims(map[string]any{"nbf": nil, "iat": nil}), "alice")
	sc := hs("HS256")
	sc.SubjectClaim = "email"
	f("subject claim", sc, jwt.SigningMethodHS256, []byte(testSecret), claims(map[string]any{"email": "bob@example.com"}), "bob@example.com")
}

func TestVerify_Failure(t *testing.T) {
	k := tk(t)
	f := func(name string, cfg *config.JWT, tok string, wantErr error, wantDetail string) {
		t.Helper()
		a := newTestJWT(t, cfg, JWTOptions{Route: "verify-fail"})
		id, err := a.Verify([]byte(tok), testNow)
		if !errors.Is(err, wantErr) {
			t.Fatalf("%s: unexpected error; got %v; want %v", name, err, wantErr)
		}
		if id != nil {
			t.Fatalf("%s: unexpected identity %+v", name, id)
		}
		if !strings.Contains(err.Error(), wantDetail) {
			t.Fatalf("%s: unexpected detail; got %q; want it to contain %q", name, err, wantDetail)
		}
		for _, seg := range strings.Split(tok, ".") {
			if len(seg) >= 8 && strings.Contains(err.Error(), seg) {
				t.Fatalf("%s: error %q contains token bytes", name, err)
			}
		}
		// A failure is not cached: the same token fails again.
		if _, err2 := a.Verify([]byte(tok), testNow); err2 == nil || err2.Error() != err.Error() {
			t.Fatalf("%s: second Verify; got %v; want %v", name, err2, err)
		}
	}
	hs := jwtConfig("HS256")
	hs.Secret = testSecret
	secret := []byte(testSecret)
	hsTok := func(extra map[string]any) string { return sign(t, jwt.SigningMethodHS256, secret, "", claims(extra)) }

	f("expired", hs, hsTok(map[string]any{"exp": testNow.Add(-2 * time.Minute).Unix()}), ErrInvalidToken, "token is expired")
	f("nbf in the future", hs, hsTok(map[string]any{"nbf": testNow.Add(2 * time.Minute).Unix()}), ErrInvalidToken, "not valid yet")
	f("iat in the future", hs, hsTok(map[string]any{"iat": testNow.Add(2 * time.Minute).Unix()}), ErrInvalidToken, "issued in the future")
	f("missing exp", hs, hsTok(map[string]any{"exp": nil}), ErrInvalidToken, "no exp claim")
	f("exp not a number", hs, hsTok(map[string]any{"exp": "tomorrow"}), ErrInvalidToken, "wrong type")
	f("missing subject", hs, hsTok(map[string]any{"sub": nil}), ErrInvalidToken, `no string "sub" claim`)
	f("subject not a string", hs, hsTok(map[string]any{"sub": 42}), ErrInvalidToken, `no string "sub" claim`)
	f("empty subject", hs, hsTok(map[string]any{"sub": ""}), ErrInvalidToken, `no string "sub" claim`)

	iss := jwtConfig("HS256")
	iss.Secret = testSecret
	iss.Issuer = "https://idp.example"
	f("wrong issuer", iss, hsTok(map[string]any{"iss": "https://evil.example"}), ErrInvalidToken, "wrong issuer")
	f("missing issuer", iss, hsTok(nil), ErrInvalidToken, "no iss claim")
	aud := jwtConfig("HS256")
	aud.Secret = testSecret
	aud.Audience = []string{"uploads"}
	f("wrong audience string", aud, hsTok(map[string]any{"aud": "downloads"}), ErrInvalidToken, "wrong audience")
	f("wrong audience array", aud, hsTok(map[string]any{"aud": []string{"a", "b"}}), ErrInvalidToken, "wrong audience")
	f("missing audience", aud, hsTok(nil), ErrInvalidToken, "no aud claim")

	// alg none, even unsigned, is never accepted.
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims(nil))
	f("alg none", hs, none, ErrInvalidToken, "algorithm not allowed")
	f("alg none with signature", hs, none+"c2ln", ErrInvalidToken, "algorithm not allowed")
	f("alg unknown", hs, b64u([]byte(`{"alg":"XS256","typ":"JWT"}`))+"."+strings.Split(hsTok(nil), ".")[1]+".c2ln", ErrInvalidToken, "algorithm missing or unsupported")

	// Key confusion: HS256 signed with the RSA public key PEM as the HMAC
	// secret must fail on an RS256 route, and on a route that also allows
	// HS256 with its own secret.
	rsaPEM := pkixPEM(t, &k.rsa.PublicKey)
	rs := jwtConfig("RS256")
	rs.PublicKey = rsaPEM
	confused := sign(t, jwt.SigningMethodHS256, []byte(rsaPEM), "", claims(nil))
	f("key confusion RS256 route", rs, confused, ErrInvalidToken, "algorithm not allowed")
	rsHS := jwtConfig("RS256", "HS256")
	rsHS.PublicKey = rsaPEM
	rsHS.Secret = testSecret
	f("key confusion RS256+HS256 route", rsHS, confused, ErrInvalidToken, "signature is invalid")
	f("RS256 token on HS256 route", hs, sign(t, jwt.SigningMethodRS256, k.rsa, "", claims(nil)), ErrInvalidToken, "algorithm not allowed")

	// Signature and payload tampering.
	good := strings.Split(hsTok(nil), ".")
	evil := strings.Split(hsTok(map[string]any{"sub": "mallory"}), ".")
	f("tampered payload", hs, good[0]+"."+evil[1]+"."+good[2], ErrInvalidToken, "signature is invalid")
	sig := []byte(good[2])
	sig[5] ^= 1
	f("tampered signature", hs, good[0]+"."+good[1]+"."+string(sig), ErrInvalidToken, "signature is invalid")
	f("signature stripped", hs, good[0]+"."+good[1]+".", ErrInvalidToken, "signature is invalid")
	f("other secret", hs, sign(t, jwt.SigningMethodHS256, []byte("another secret of decent length"), "", claims(nil)), ErrInvalidToken, "signature is invalid")
	rs2 := sign(t, jwt.SigningMethodRS256, k.rsa2, "", claims(nil))
	f("RS256 other key", rs, rs2, ErrInvalidToken, "signature is invalid")

	// ECDSA curve must match the algorithm.
	es := jwtConfig("ES256", "ES384")
	es.PublicKey = pkixPEM(t, &k.p384.PublicKey)
	f("ES256 with only a P-384 key", es, sign(t, jwt.SigningMethodES256, k.p256, "", claims(nil)), ErrInvalidToken, "no key for ES256")

	// Malformed and oversized.
	f("empty", hs, "", ErrInvalidToken, "empty")
	f("not a JWT", hs, "abc", ErrInvalidToken, "malformed")
	f("bad base64", hs, "!!!.???.***", ErrInvalidToken, "malformed")
	f("bad JSON", hs, b64u([]byte("{"))+"."+good[1]+"."+good[2], ErrInvalidToken, "malformed")
	f("oversized", hs, hsTok(map[string]any{"pad": strings.Repeat("x", MaxTokenSize)}), ErrTokenTooLarge, "more than 8192 bytes")
}

func TestVerify_Cache(t *testing.T) {
	a := newTestJWT(t, func() *config.JWT { c := jwtConfig("HS256"); c.Secret = testSecret; return c }(), JWTOptions{Route: "verify-cache"})
	tok := []byte(sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", claims(nil)))
	id1, err := a.Verify(tok, testNow)
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	hits := a.hits.Get()
	id2, err := a.Verify(tok, testNow.Add(time.Minute))
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	if id1 != id2 {
		t.Fatalf("unexpected identity; got %p; want the cached %p", id2, id1)
	}
	if got := a.hits.Get(); got != hits+1 {
		t.Fatalf("unexpected cache hits; got %d; want %d", got, hits+1)
	}
	// A hit re-checks time: past exp+leeway and before nbf-leeway fail.
	if _, err := a.Verify(tok, testNow.Add(time.Hour+time.Minute)); !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("unexpected error after exp; got %v; want expired", err)
	}
	if _, err := a.Verify(tok, testNow.Add(-3*time.Minute)); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("unexpected error before nbf; got %v; want ErrInvalidToken", err)
	}
	if _, err := a.Verify(tok, testNow.Add(time.Hour+59*time.Second)); err != nil {
		t.Fatalf("unexpected error within leeway: %s", err)
	}
}

func TestTokenCache_Bounded(t *testing.T) {
	c := newTokenCache(32)
	e := cacheEntry{id: &Identity{}, expires: 100}
	for i := range 1000 {
		c.put(strings.Repeat("t", i+1), e, 0)
	}
	if n := c.len(); n > 32 {
		t.Fatalf("unexpected cache size; got %d; want at most 32", n)
	}
	// A full shard drops its expired entries first.
	c = newTokenCache(4 * cacheShards)
	live := "live"
	same := []string{}
	for i := 0; len(same) < 4; i++ {
		if k := strings.Repeat("k", i+1); c.shardString(k) == c.shardString(live) {
			same = append(same, k)
		}
	}
	c.put(live, cacheEntry{id: &Identity{}, expires: 1000}, 0)
	for _, k := range same[:3] {
		c.put(k, cacheEntry{id: &Identity{}, expires: 10}, 0)
	}
	c.put(same[3], cacheEntry{id: &Identity{}, expires: 1000}, 20)
	if c.get([]byte(live), 500) == nil || c.get([]byte(same[3]), 500) == nil {
		t.Fatalf("live entries evicted before expired ones")
	}
	if n := len(c.shardString(live).m); n != 2 {
		t.Fatalf("unexpected shard size; got %d; want 2", n)
	}
	if newTokenCache(-1).get([]byte("x"), 0) != nil {
		t.Fatalf("disabled cache returned an entry")
	}
}

func TestNewJWT_Failure(t *testing.T) {
	k := tk(t)
	f := func(name string, cfg *config.JWT, want string) {
		t.Helper()
		_, err := NewJWT(cfg, JWTOptions{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: unexpected error; got %v; want %q", name, err, want)
		}
	}
	f("nil", nil, "no jwt configuration")
	f("no algorithms", jwtConfig(), "no algorithms")
	f("none", func() *config.JWT { c := jwtConfig("none"); c.Secret = "s"; return c }(), "unsupported algorithm")
	f("HS without secret", jwtConfig("HS256"), "needs a secret")
	f("RS without key", jwtConfig("RS256"), "needs public_key")
	f("bad PEM", func() *config.JWT { c := jwtConfig("RS256"); c.PublicKey = "junk"; return c }(), "invalid public key")
	f("key fits no alg", func() *config.JWT { c := jwtConfig("RS256"); c.PublicKey = pkixPEM(t, &k.p256.PublicKey); return c }(), "fits none")
	f("missing key file", func() *config.JWT { c := jwtConfig("RS256"); c.PublicKeyFile = t.TempDir() + "/nope.pem"; return c }(), "public_key_file")
	f("bad token source", func() *config.JWT {
		c := jwtConfig("HS256")
		c.Secret = "s"
		c.TokenSources = []config.TokenSource{{Type: "form"}}
		return c
	}(), "invalid token source")
}
