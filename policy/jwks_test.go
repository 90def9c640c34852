package policy

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/golang-jwt/jwt/v5"
)

// jwksServer serves a JWK set that tests can change.
type jwksServer struct {
	*httptest.Server
	mu     sync.Mutex
	body   []byte
	status int
	gate   chan struct{} // when set, requests wait for it to close
	hits   atomic.Int64
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	s := &jwksServer{body: body, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body, status, gate := s.body, s.status, s.gate
		s.mu.Unlock()
		if gate != nil {
			<-gate
		}
		s.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(status int, body []byte) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// refresh calls RefreshUnknownKey and waits for done.
// testMinRefresh is the refresh rate limit in these tests (real time: the
// deferred refresh runs on a timer).
const testMinRefresh = 300 * time.Millisecond

func refresh(t *testing.T, a *JWT) {
	t.Helper()
	ch := make(chan struct{})
	a.RefreshUnknownKey(func() { close(ch) })
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timeout waiting for RefreshUnknownKey's done")
	}
}

// startJWKS builds an authenticator for route on srv and waits until ready.
func startJWKS(t *testing.T, route string, srv *jwksServer, clock *fakeClock, algs ...string) *JWT {
	t.Helper()
	cfg := jwtConfig(algs...)
	cfg.JWKSURL, cfg.JWKSAllowHTTP = srv.URL+"/jwks.json", true
	a := newTestJWT(t, cfg, JWTOptions{Route: route, Now: clock.Now, HTTPClient: srv.Client(), MinRefreshInterval: testMinRefresh})
	if a.Ready() {
		t.Fatalf("Ready before Start")
	}
	a.Start(t.Context())
	waitFor(t, "JWKS ready", a.Ready)
	return a
}

func gauge(name string) float64  { return metrics.GetOrCreateGauge(name, nil).Get() }
func counter(name string) uint64 { return metrics.GetOrCreateCounter(name).Get() }
func newClock() *fakeClock       { return &fakeClock{t: testNow} }
func verifyOK(t *testing.T, a *JWT, tok string) {
	t.Helper()
	if _, err := a.Verify([]byte(tok), testNow); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
}

func TestJWKS_Success(t *testing.T) {
	k := tk(t)
	srv := newJWKSServer(t, jwks(
		jwkOf(&k.rsa.PublicKey, "rsa", ""),
		jwkOf(&k.rsa2.PublicKey, "rs384", "RS384"),
		jwkOf(&k.p256.PublicKey, "ec", "ES256"),
		jwkOf(k.ed.Public(), "ed", ""),
		map[string]any{"kty": "oct", "kid": "hmac", "k": b64u([]byte(testSecret))},
		func() map[string]any { m := jwkOf(&k.p384.PublicKey, "enc", ""); m["use"] = "enc"; return m }(),
	))
	oks := counter(`mizuchi_jwks_refresh_total{route="jwks-ok",result="ok"}`)
	a := startJWKS(t, "jwks-ok", srv, newClock(), "RS256", "RS384", "PS256", "ES256", "EdDSA")
	if got := gauge(`mizuchi_jwks_keys{route="jwks-ok"}`); got != 4 {
		t.Fatalf("unexpected mizuchi_jwks_keys; got %v; want 4", got)
	}
	if got := counter(`mizuchi_jwks_refresh_total{route="jwks-ok",result="ok"}`); got != oks+1 {
		t.Fatalf("unexpected refresh ok count; got %d; want %d", got, oks+1)
	}

	f := func(method jwt.SigningMethod, key any, kid string) {
		t.Helper()
		verifyOK(t, a, sign(t, method, key, kid, claims(nil)))
	}
	f(jwt.SigningMethodRS256, k.rsa, "rsa")
	f(jwt.SigningMethodPS256, k.rsa, "rsa")
	f(jwt.SigningMethodRS384, k.rsa2, "rs384")
	f(jwt.SigningMethodES256, k.p256, "ec")
	f(jwt.SigningMethodEdDSA, k.ed, "ed")
	// No kid: the only key usable for the algorithm.
	f(jwt.SigningMethodES256, k.p256, "")
	f(jwt.SigningMethodRS256, k.rsa, "") // "rs384" is RS384-only
	f(jwt.SigningMethodEdDSA, k.ed, "")

	fail := func(method jwt.SigningMethod, key any, kid string, want error, detail string) {
		t.Helper()
		_, err := a.Verify([]byte(sign(t, method, key, kid, claims(nil))), testNow)
		if !errors.Is(err, want) || !strings.Contains(err.Error(), detail) {
			t.Fatalf("unexpected error for kid %q; got %v; want %v (%s)", kid, err, want, detail)
		}
	}
	fail(jwt.SigningMethodRS256, k.rsa2, "rs384", ErrInvalidToken, "does not fit RS256")
	fail(jwt.SigningMethodRS256, k.rsa, "nope", ErrUnknownKey, "kid not in the key set")
	fail(jwt.SigningMethodES384, k.p384, "enc", ErrInvalidToken, "not allowed")
	fail(jwt.SigningMethodES256, k.p256, "enc", ErrUnknownKey, "kid not in the key set")
	fail(jwt.SigningMethodEdDSA, k.ed, "ec", ErrInvalidToken, "does not fit EdDSA")
	fail(jwt.SigningMethodRS256, k.rsa2, "rsa", ErrInvalidToken, "signature is invalid")
	fail(jwt.SigningMethodPS256, k.rsa, "hmac", ErrUnknownKey, "kid not in the key set")
}

func TestJWKS_NoKidAmbiguous(t *testing.T) {
	k := tk(t)
	srv := newJWKSServer(t, jwks(jwkOf(&k.rsa.PublicKey, "a", ""), jwkOf(&k.rsa2.PublicKey, "b", "")))
	a := startJWKS(t, "jwks-ambiguous", srv, newClock(), "RS256")
	_, err := a.Verify([]byte(sign(t, jwt.SigningMethodRS256, k.rsa, "", claims(nil))), testNow)
	if !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "no kid") {
		t.Fatalf("unexpected error; got %v; want ErrInvalidToken (no kid)", err)
	}

	// With a static key as well, a kid-less token falls back to it.
	cfg := jwtConfig("RS256")
	cfg.JWKSURL, cfg.JWKSAllowHTTP = srv.URL, true
	cfg.PublicKey = pkixPEM(t, &k.rsa2.PublicKey)
	b := newTestJWT(t, cfg, JWTOptions{Route: "jwks-ambiguous-static", HTTPClient: srv.Client()})
	b.Start(t.Context())
	waitFor(t, "JWKS ready", b.Ready)
	verifyOK(t, b, sign(t, jwt.SigningMethodRS256, k.rsa2, "", claims(nil)))
	// A kid not in the set is unknown even though a static key exists.
	if _, err := b.Verify([]byte(sign(t, jwt.SigningMethodRS256, k.rsa2, "zzz", claims(nil))), testNow); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unexpected error; got %v; want ErrUnknownKey", err)
	}
}

func TestJWKS_NotLoaded(t *testing.T) {
	k := tk(t)
	srv := newJWKSServer(t, nil)
	srv.set(http.StatusServiceUnavailable, nil)
	cfg := jwtConfig("RS256")
	cfg.JWKSURL, cfg.JWKSAllowHTTP = srv.URL, true
	a := newTestJWT(t, cfg, JWTOptions{Route: "jwks-notloaded", HTTPClient: srv.Client(), MinRefreshInterval: testMinRefresh})
	for _, kid := range []string{"k1", ""} {
		_, err := a.Verify([]byte(sign(t, jwt.SigningMethodRS256, k.rsa, kid, claims(nil))), testNow)
		if !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("unexpected error for kid %q; got %v; want ErrUnknownKey", kid, err)
		}
	}
	// RefreshUnknownKey before Start calls done at once.
	refresh(t, a)
	a.Start(t.Context())
	waitFor(t, "failed fetch", func() bool { return gauge(`mizuchi_jwks_stale{route="jwks-notloaded"}`) == 1 })
	if a.Ready() {
		t.Fatalf("Ready after a failed first fetch")
	}
	// The rate-limited refresh is deferred, not dropped: once it ran the
	// keys are loaded. A refresh asked for while the loop's own retry is
	// fetching joins that fetch, which may have reached the server before
	// the keys were published; the next one then loads them.
	srv.set(http.StatusOK, jwks(jwkOf(&k.rsa.PublicKey, "k1", "RS256")))
	for i := 0; ; i++ {
		refresh(t, a)
		if a.Ready() {
			break
		}
		if i == 3 {
			t.Fatalf("%d refreshes after the keys were published did not load them", i+1)
		}
	}
}

func TestJWKS_Rotation(t *testing.T) {
	k := tk(t)
	srv := newJWKSServer(t, jwks(jwkOf(&k.rsa.PublicKey, "k1", "RS256")))
	clock := newClock()
	a := startJWKS(t, "jwks-rotation", srv, clock, "RS256")
	tok1 := sign(t, jwt.SigningMethodRS256, k.rsa, "k1", claims(nil))
	tok2 := sign(t, jwt.SigningMethodRS256, k.rsa2, "k2", claims(nil))
	verifyOK(t, a, tok1)
	verifyOK(t, a, tok1) // cached

	srv.set(http.StatusOK, jwks(jwkOf(&k.rsa2.PublicKey, "k2", "RS256")))
	if _, err := a.Verify([]byte(tok2), testNow); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unexpected error before refresh; got %v; want ErrUnknownKey", err)
	}

	// Rate limited: the first fetch was just now, so the refresh is
	// deferred until MinRefreshInterval has passed; done waits for it.
	hits := srv.hits.Load()
	ch := make(chan struct{})
	a.RefreshUnknownKey(func() { close(ch) })
	// Deferred by testMinRefresh: neither done nor a fetch can have
	// happened yet (checked at once, so a slow machine cannot break it).
	select {
	case <-ch:
		t.Fatalf("rate-limited refresh finished at once; want it deferred")
	default:
	}
	if got := srv.hits.Load(); got != hits {
		t.Fatalf("rate-limited refresh fetched early; got %d fetches; want %d", got, hits)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timeout waiting for the deferred refresh")
	}
	if got := srv.hits.Load(); got != hits+1 {
		t.Fatalf("unexpected fetch count; got %d; want %d", got, hits+1)
	}
	verifyOK(t, a, tok2)
	// k1 left the set: its cached token is dropped and now unknown.
	if _, err := a.Verify([]byte(tok1), testNow); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unexpected error for a removed key; got %v; want ErrUnknownKey", err)
	}

	// Again within MinRefreshInterval of the last fetch: deferred, then
	// one fetch.
	refresh(t, a)
	if got := srv.hits.Load(); got != hits+2 {
		t.Fatalf("unexpected fetch count; got %d; want %d", got, hits+2)
	}
}

func TestJWKS_RefreshCoalesced(t *testing.T) {
	k := tk(t)
	srv := newJWKSServer(t, jwks(jwkOf(&k.rsa.PublicKey, "k1", "")))
	clock := newClock()
	a := startJWKS(t, "jwks-coalesce", srv, clock, "RS256")
	hits := srv.hits.Load()
	gate := make(chan struct{})
	srv.mu.Lock()
	srv.gate = gate
	srv.mu.Unlock()
	clock.Advance(time.Minute)

	var done atomic.Int32
	var wg sync.WaitGroup
	wg.Add(3)
	for range 3 {
		a.RefreshUnknownKey(func() { done.Add(1); wg.Done() })
	}
	time.Sleep(20 * time.Millisecond)
	if n := done.Load(); n != 0 {
		t.Fatalf("done called before the fetch finished; got %d calls", n)
	}
	close(gate)
	wg.Wait()
	if got := srv.hits.Load(); got != hits+1 {
		t.Fatalf("unexpected fetch count; got %d; want %d", got, hits+1)
	}
}

func TestJWKS_FailureKeepsKeys(t *testing.T) {
	k := tk(t)
	good := jwks(jwkOf(&k.p256.PublicKey, "e1", "ES256"))
	srv := newJWKSServer(t, good)
	clock := newClock()
	const route = "jwks-failure"
	a := startJWKS(t, route, srv, clock, "ES256")
	stale := `mizuchi_jwks_stale{route="` + route + `"}`
	errs := `mizuchi_jwks_refresh_total{route="` + route + `",result="error"}`

	// After a failure the refresh goroutine retries on the real clock
	// (MinRefreshInterval, doubling), so a retry may run beside a test
	// step: each step waits for its outcome instead of counting exactly.
	f := func(name string, status int, body []byte) {
		t.Helper()
		n := counter(errs)
		srv.set(status, body)
		clock.Advance(time.Minute)
		refresh(t, a)
		waitFor(t, name+": a failed refresh counted", func() bool { return counter(errs) > n })
		if got := gauge(stale); got != 1 {
			t.Fatalf("%s: unexpected %s; got %v; want 1", name, stale, got)
		}
		if !a.Ready() {
			t.Fatalf("%s: not Ready after a failed refresh", name)
		}
		// The old key still verifies new (uncached) tokens.
		verifyOK(t, a, sign(t, jwt.SigningMethodES256, k.p256, "e1", claims(map[string]any{"jti": name})))
	}
	f("status 500", http.StatusInternalServerError, good)
	f("status 404", http.StatusNotFound, nil)
	f("not JSON", http.StatusOK, []byte("<html>"))
	f("no usable key", http.StatusOK, jwks(map[string]any{"kty": "oct", "k": "c2VjcmV0"}))
	f("empty set", http.StatusOK, []byte(`{"keys":[]}`))
	f("too large", http.StatusOK, append(append([]byte(`{"keys":[],"pad":"`), strings.Repeat("x", maxJWKSSize)...), `"}`...))

	srv.set(http.StatusOK, good)
	clock.Advance(time.Minute)
	refresh(t, a)
	waitFor(t, "recovery", func() bool { return gauge(stale) == 0 })
}

func TestJWKS_PeriodicRefresh(t *testing.T) {
	k := tk(t)
	srv := newJWKSServer(t, jwks(jwkOf(&k.rsa.PublicKey, "k1", "")))
	cfg := jwtConfig("RS256")
	cfg.JWKSURL, cfg.JWKSAllowHTTP = srv.URL, true
	cfg.CacheTTL = 10 * time.Millisecond
	a := newTestJWT(t, cfg, JWTOptions{Route: "jwks-periodic", HTTPClient: srv.Client()})
	a.Start(t.Context())
	waitFor(t, "JWKS ready", a.Ready)
	srv.set(http.StatusOK, jwks(jwkOf(&k.rsa2.PublicKey, "k2", "")))
	tok := []byte(sign(t, jwt.SigningMethodRS256, k.rsa2, "k2", claims(nil)))
	waitFor(t, "rotated key", func() bool { _, err := a.Verify(tok, testNow); return err == nil })
	a.Close()
	hits := srv.hits.Load()
	time.Sleep(30 * time.Millisecond)
	if got := srv.hits.Load(); got != hits {
		t.Fatalf("fetches after Close; got %d; want %d", got, hits)
	}
	refresh(t, a) // closed: done at once
	a.Start(t.Context())
	if got := srv.hits.Load(); got != hits {
		t.Fatalf("Start after Close fetched")
	}
}

func TestRefreshUnknownKey_NoJWKS(t *testing.T) {
	cfg := jwtConfig("HS256")
	cfg.Secret = testSecret
	a := newTestJWT(t, cfg, JWTOptions{Route: "nojwks"})
	if !a.Ready() {
		t.Fatalf("not Ready without jwks_url")
	}
	a.Start(t.Context())
	refresh(t, a)
	// A kid is ignored without a JWK set.
	verifyOK(t, a, sign(t, jwt.SigningMethodHS256, []byte(testSecret), "any", claims(nil)))
}

func TestParseJWKS_Failure(t *testing.T) {
	k := tk(t)
	f := func(name string, key map[string]any, algs ...string) {
		t.Helper()
		skipped := 0
		_, err := parseJWKS(jwks(key), algs, func(kid, reason string) { skipped++ })
		if err == nil {
			t.Fatalf("%s: unexpected success", name)
		}
		if skipped != 1 {
			t.Fatalf("%s: unexpected skip count; got %d; want 1", name, skipped)
		}
	}
	with := func(m map[string]any, k string, v any) map[string]any { m[k] = v; return m }
	f("RSA bad n", with(jwkOf(&k.rsa.PublicKey, "a", ""), "n", "!!"), "RS256")
	f("RSA e even", with(jwkOf(&k.rsa.PublicKey, "a", ""), "e", b64u([]byte{2})), "RS256")
	f("RSA small", with(jwkOf(&k.rsa.PublicKey, "a", ""), "n", b64u(make([]byte, 64))), "RS256")
	f("EC wrong size", with(jwkOf(&k.p256.PublicKey, "a", ""), "x", b64u([]byte{1, 2, 3})), "ES256")
	f("EC off curve", with(jwkOf(&k.p256.PublicKey, "a", ""), "y", b64u(make([]byte, 32))), "ES256")
	f("EC unknown curve", with(jwkOf(&k.p256.PublicKey, "a", ""), "crv", "secp256k1"), "ES256")
	f("OKP X25519", with(jwkOf(k.ed.Public(), "a", ""), "crv", "X25519"), "EdDSA")
	f("alg mismatch", jwkOf(&k.p256.PublicKey, "a", "RS256"), "ES256", "RS256")
	f("fits no route alg", jwkOf(&k.p384.PublicKey, "a", ""), "ES256")
	f("unknown kty", map[string]any{"kty": "XYZ"}, "RS256")
	f("not an object", map[string]any{"kty": 5}, "RS256")
	if _, err := parseJWKS([]byte(`{"keys":`), []string{"RS256"}, nil); err == nil {
		t.Fatalf("unexpected success for truncated JSON")
	}
}

// TestJWKS_Transport: an http:// JWK set URL needs jwks_allow_http, and a
// redirect from https to http is never followed, allowed or not.
func TestJWKS_Transport(t *testing.T) {
	cfg := jwtConfig("RS256")
	cfg.JWKSURL = "http://127.0.0.1:1/jwks.json"
	if _, err := NewJWT(cfg, JWTOptions{Route: "jwks-http"}); err == nil || !strings.Contains(err.Error(), "not https://") {
		t.Fatalf("http:// JWK set URL without jwks_allow_http: got %v; want a refusal", err)
	}

	k := tk(t)
	plain := newJWKSServer(t, jwks(jwkOf(&k.rsa.PublicKey, "k1", "")))
	tlsSrv := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/jwks.json", http.StatusFound))
	t.Cleanup(tlsSrv.Close)
	for _, allow := range []bool{false, true} {
		cfg := jwtConfig("RS256")
		cfg.JWKSURL, cfg.JWKSAllowHTTP = tlsSrv.URL+"/jwks.json", allow
		a := newTestJWT(t, cfg, JWTOptions{Route: "jwks-downgrade", HTTPClient: tlsSrv.Client()})
		if _, err := a.fetchJWKS(t.Context()); err == nil || !strings.Contains(err.Error(), "refusing a redirect") {
			t.Fatalf("allow=%v: https to http redirect: got %v; want a refusal", allow, err)
		}
	}
	if got := plain.hits.Load(); got != 0 {
		t.Fatalf("the http server was fetched %d times after a downgrade redirect", got)
	}
}
