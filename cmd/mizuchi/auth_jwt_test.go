package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	jwtIssuer   = "https://idp.mizuchi.test"
	jwtAudience = "mizuchi"
	jwtSecret   = "hs256-secret-for-the-e2e-suite-0123456789"
)

// jwkKey is a signing key the test IdP publishes.
type jwkKey struct {
	kid    string
	alg    string
	signer crypto.Signer
}

func (k *jwkKey) jwk() map[string]any {
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	m := map[string]any{"kid": k.kid, "alg": k.alg, "use": "sig"}
	switch pub := k.signer.Public().(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		raw, err := pub.Bytes() // 0x04 || X || Y, each the curve's size
		if err != nil {
			panic(err)
		}
		size := (len(raw) - 1) / 2
		m["kty"], m["crv"], m["x"], m["y"] = "EC", pub.Curve.Params().Name, b64(raw[1:1+size]), b64(raw[1+size:])
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64(pub)
	}
	return m
}

// idp serves a JWK set that the test can rotate.
type idp struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    []*jwkKey
	fetches atomic.Int64
}

func startIdP(t testing.TB, keys ...*jwkKey) *idp {
	p := &idp{keys: keys}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		set := []any{}
		for _, k := range p.keys {
			set = append(set, k.jwk())
		}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": set})
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) publish(keys ...*jwkKey) {
	p.mu.Lock()
	p.keys = keys
	p.mu.Unlock()
}

func newRSAKey(t testing.TB, kid string) *jwkKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &jwkKey{kid: kid, alg: "RS256", signer: k}
}

// claims returns valid claims for subject, adjusted by mod.
func claims(subject string, mod func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"sub": subject, "iss": jwtIssuer, "aud": []string{"other", jwtAudience},
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func sign(t testing.TB, m jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (k *jwkKey) token(t testing.TB, c jwt.MapClaims) string {
	var m jwt.SigningMethod
	switch k.alg {
	case "RS256":
		m = jwt.SigningMethodRS256
	case "ES256":
		m = jwt.SigningMethodES256
	case "EdDSA":
		m = jwt.SigningMethodEdDSA
	}
	return sign(t, m, k.kid, k.signer, c)
}

// TestE2EJWT uploads with bearer tokens verified against a secret and a
// JWKS served by a local IdP, and checks every way a token must fail.
func TestE2EJWT(t *testing.T) {
	rsa1 := newRSAKey(t, "rsa-1")
	rsa2 := newRSAKey(t, "rsa-2")
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec1 := &jwkKey{kid: "ec-1", alg: "ES256", signer: ecKey}
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed1 := &jwkKey{kid: "ed-1", alg: "EdDSA", signer: edPriv}
	p := startIdP(t, rsa1, ec1, ed1)
	jwks := p.srv.URL + "/jwks.json"

	b := startBackend(t, authBucket)
	g := startGateway(t, b,
		route{name: "jwt", pathPrefix: "/jwt", bucket: authBucket, keyPrefix: "jwt/", extra: "" +
			"    auth:\n      enabled: true\n      jwt:\n" +
			"        algorithms: [HS256, RS256, ES256, EdDSA]\n" +
			"        secret: " + jwtSecret + "\n" +
			"        jwks_url: " + jwks + "\n        jwks_allow_http: true\n" +
			"        cache_ttl_seconds: 3600\n        jwks_min_refresh_seconds: 1\n" +
			"        issuer: " + jwtIssuer + "\n        audience: " + jwtAudience + "\n        leeway_seconds: 5\n" +
			"        token_sources: [{type: bearer}, {type: query, name: token}, {type: cookie, name: session}]\n"},
		route{name: "jwtrs", pathPrefix: "/jwtrs", bucket: authBucket, keyPrefix: "jwtrs/", extra: "" +
			"    auth:\n      enabled: true\n      jwt:\n        algorithm: RS256\n        jwks_url: " + jwks + "\n        jwks_allow_http: true\n"},
	)
	bearer := func(tok string) putOpts {
		return putOpts{header: http.Header{"Authorization": {"Bearer " + tok}}}
	}
	var tokens []string

	t.Run("Accepted", func(t *testing.T) {
		f := func(name, tok string, n int64) {
			t.Helper()
			tokens = append(tokens, tok)
			seed := nextSeed()
			key := "ok/" + name + ".bin"
			g.mustPut(t, "/jwt/"+key, seed, n, bearer(tok))
			b.checkObject(t, authBucket, "jwt/"+key, seed, n)
		}
		f("hs256", sign(t, jwt.SigningMethodHS256, "", []byte(jwtSecret), claims("hs-user", nil)), kib)
		f("rs256", rsa1.token(t, claims("rs-user", nil)), kib)
		f("rs256-large", rsa1.token(t, claims("rs-user", nil)), 3*mib)
		f("es256", ec1.token(t, claims("ec-user", nil)), kib)
		f("eddsa", ed1.token(t, claims("ed-user", nil)), 300*kib)
		f("aud-string", rsa1.token(t, claims("rs-user", func(c jwt.MapClaims) { c["aud"] = jwtAudience })), kib)

		// Other token sources.
		tok := ec1.token(t, claims("query-user", nil))
		seed := nextSeed()
		g.mustPut(t, "/jwt/ok/query.bin?token="+tok, seed, kib, putOpts{})
		b.checkObject(t, authBucket, "jwt/ok/query.bin", seed, kib)
		tok = ed1.token(t, claims("cookie-user", nil))
		seed = nextSeed()
		g.mustPut(t, "/jwt/ok/cookie.bin", seed, kib, putOpts{header: http.Header{"Cookie": {"theme=dark; session=" + tok}}})
		b.checkObject(t, authBucket, "jwt/ok/cookie.bin", seed, kib)
	})

	t.Run("Rejected", func(t *testing.T) {
		f := func(name, path string, o putOpts) {
			t.Helper()
			r := g.put(t, path, nextSeed(), 2*kib, o)
			code := checkS3Error(t, name, r, false)
			if r.status != http.StatusUnauthorized || (code != "InvalidToken" && code != "AccessDenied") {
				t.Fatalf("%s: got %d %s; want 401 InvalidToken/AccessDenied (%s)", name, r.status, code, r)
			}
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") {
				t.Fatalf("%s: WWW-Authenticate %q; want a Bearer challenge", name, r.header.Get("WWW-Authenticate"))
			}
			key := strings.TrimPrefix(strings.TrimPrefix(path, "/jwt/"), "/jwtrs/")
			b.checkAbsent(t, authBucket, "jwt/"+key)
			b.checkAbsent(t, authBucket, "jwtrs/"+key)
		}
		bad := func(name string, tok string) {
			t.Helper()
			tokens = append(tokens, tok)
			f(name, "/jwt/bad/"+name+".bin", bearer(tok))
			if !strings.Contains(g.put(t, "/jwt/bad/x.bin", 1, 0, bearer(tok)).header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("%s: WWW-Authenticate lacks error=\"invalid_token\"", name)
			}
		}
		f("no token", "/jwt/bad/none.bin", putOpts{})
		bad("expired", rsa1.token(t, claims("u", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() })))
		bad("no-exp", rsa1.token(t, claims("u", func(c jwt.MapClaims) { delete(c, "exp") })))
		bad("not-yet-valid", rsa1.token(t, claims("u", func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() })))
		bad("wrong-issuer", rsa1.token(t, claims("u", func(c jwt.MapClaims) { c["iss"] = "https://evil.test" })))
		bad("wrong-audience", rsa1.token(t, claims("u", func(c jwt.MapClaims) { c["aud"] = []string{"someone-else"} })))
		bad("alg-none", sign(t, jwt.SigningMethodNone, "", jwt.UnsafeAllowNoneSignatureType, claims("u", nil)))
		bad("wrong-secret", sign(t, jwt.SigningMethodHS256, "", []byte("not-the-secret"), claims("u", nil)))
		bad("unknown-kid", (&jwkKey{kid: "rsa-unpublished", alg: "RS256", signer: rsa2.signer}).token(t, claims("u", nil)))
		good := rsa1.token(t, claims("u", nil))
		parts := strings.Split(good, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		tampered := strings.Replace(string(payload), `"sub":"u"`, `"sub":"admin"`, 1)
		bad("tampered", parts[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(tampered))+"."+parts[2])
		bad("oversized", rsa1.token(t, claims("u", func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", 9000) })))
		// Key confusion: an HS256 token whose HMAC key is the route's RSA
		// public key in PEM form, on a route that accepts only RS256.
		der, err := x509.MarshalPKIXPublicKey(rsa1.signer.Public())
		if err != nil {
			t.Fatal(err)
		}
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		conf := sign(t, jwt.SigningMethodHS256, "rsa-1", pemKey, claims("u", nil))
		tokens = append(tokens, conf)
		f("key-confusion", "/jwtrs/bad/confusion.bin", bearer(conf))
		// The RS256 route itself works with the right token.
		seed := nextSeed()
		g.mustPut(t, "/jwtrs/ok.bin", seed, kib, bearer(rsa1.token(t, claims("u", nil))))
		b.checkObject(t, authBucket, "jwtrs/ok.bin", seed, kib)
	})

	t.Run("Rotation", func(t *testing.T) {
		// Uploads run without pause while the IdP rotates from rsa-1 to
		// rsa-2; clients switch to the new key as soon as it is published.
		var current atomic.Pointer[jwkKey]
		current.Store(rsa1)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var uploads, failures atomic.Int64
		var firstFailure atomic.Value
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					k := current.Load()
					r := g.put(t, fmt.Sprintf("/jwt/rot/%d-%d.bin", w, i), nextSeed(), kib, bearer(k.token(t, claims("rot", nil))))
					uploads.Add(1)
					if r.status != 200 {
						failures.Add(1)
						firstFailure.CompareAndSwap(nil, k.kid+": "+r.String())
					}
				}
			}()
		}
		time.Sleep(500 * time.Millisecond)
		fetches := p.fetches.Load()
		p.publish(rsa1, rsa2, ec1, ed1)
		current.Store(rsa2)
		time.Sleep(time.Second)
		p.publish(rsa2, ec1, ed1)
		time.Sleep(500 * time.Millisecond)
		close(stop)
		wg.Wait()
		if failures.Load() != 0 {
			t.Fatalf("%d of %d uploads failed during key rotation; first: %v", failures.Load(), uploads.Load(), firstFailure.Load())
		}
		if p.fetches.Load() <= fetches {
			t.Fatalf("the gateway did not refetch the JWKS after an unknown kid")
		}
		seed := nextSeed()
		g.mustPut(t, "/jwt/rot/after.bin", seed, kib, bearer(rsa2.token(t, claims("rot", nil))))
		b.checkObject(t, authBucket, "jwt/rot/after.bin", seed, kib)
	})

	// No token, whole or in part, may reach the logs.
	logs := g.proc.stderr.String() + g.proc.stdout.String()
	for _, tok := range tokens {
		if sig := tok[strings.LastIndexByte(tok, '.')+1:]; len(sig) > 16 && strings.Contains(logs, sig) {
			t.Fatalf("a token signature appears in the gateway's logs")
		}
	}
}
