package policy

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// benchAuthenticator returns an authenticator for alg with a static key (or
// secret) and a valid token for it.
func benchAuthenticator(tb testing.TB, alg string, cacheSize int) (*JWT, string) {
	tb.Helper()
	k := tk(tb)
	cfg := jwtConfig(alg)
	var key any
	switch alg {
	case "HS256":
		cfg.Secret = testSecret
		key = []byte(testSecret)
	case "RS256":
		cfg.PublicKey = pkixPEM(tb, &k.rsa.PublicKey)
		key = k.rsa
	case "ES256":
		cfg.PublicKey = pkixPEM(tb, &k.p256.PublicKey)
		key = k.p256
	}
	a := newTestJWT(tb, cfg, JWTOptions{Route: "bench", CacheSize: cacheSize})
	extra := map[string]any{"iss": "https://idp.example", "aud": "uploads", "email": "alice@example.com"}
	return a, sign(tb, jwt.GetSigningMethod(alg), key, "", claims(extra))
}

func BenchmarkJWTVerifyCached(b *testing.B) {
	for _, alg := range []string{"HS256", "RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			a, tok := benchAuthenticator(b, alg, 0)
			t := []byte(tok)
			if _, err := a.Verify(t, testNow); err != nil {
				b.Fatalf("unexpected error: %s", err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(t)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := a.Verify(t, testNow); err != nil {
						b.Fatalf("unexpected error: %s", err)
					}
				}
			})
		})
	}
}

func BenchmarkJWTVerifyUncached(b *testing.B) {
	for _, alg := range []string{"HS256", "RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			a, tok := benchAuthenticator(b, alg, -1) // cache disabled
			t := []byte(tok)
			b.ReportAllocs()
			b.SetBytes(int64(len(t)))
			for b.Loop() {
				if _, err := a.Verify(t, testNow); err != nil {
					b.Fatalf("unexpected error: %s", err)
				}
			}
		})
	}
}

// BenchmarkJWTLibraryParse is the baseline: golang-jwt alone, the work of
// an uncached Verify without our key selection and identity.
func BenchmarkJWTLibraryParse(b *testing.B) {
	for _, alg := range []string{"HS256", "RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			a, tok := benchAuthenticator(b, alg, -1)
			var key any = a.secret
			if a.static != nil {
				key = a.static
			}
			p := jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithTimeFunc(func() time.Time { return testNow }))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Parse(tok, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
					b.Fatalf("unexpected error: %s", err)
				}
			}
		})
	}
}

func BenchmarkToken(b *testing.B) {
	a := tokenJWT(b, srcCookieCfg, srcQueryCfg, srcBearerCfg)
	_, tok := benchAuthenticator(b, "HS256", 0)
	req := parseRequest(b, "/b/k?partNumber=1&uploadId=abc", "Cookie: session=x; theme=dark", "Authorization: Bearer "+tok)
	scratch := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		var t []byte
		if t, scratch = a.Token(req, scratch); t == nil {
			b.Fatalf("no token")
		}
	}
}

// BenchmarkAppendJSON: the decision input's JSON, built per request on
// authorization routes (the decision-cache key).
func BenchmarkAppendJSON(b *testing.B) {
	in := Input{Subject: "benchak", Auth: AuthSigV4, AccessKey: "benchak", Action: "s3:PutObject", Bucket: "opa",
		Key: "benchak/bench/k1", ContentLength: 1024, ContentType: "application/octet-stream", SourceIP: "127.0.0.1",
		Method: "PUT", Path: "/opa/benchak/bench/k1", Headers: map[string]string{"content-type": "application/octet-stream"}}
	b.ReportAllocs()
	var dst []byte
	for b.Loop() {
		dst = in.AppendJSON(dst[:0])
	}
}
