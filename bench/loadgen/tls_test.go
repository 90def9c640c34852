package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/bench/internal/s3sink"
)

// startTLSSink serves the sink behind crypto/tls with a certificate from
// genCert, and returns it with the certificate's file.
func startTLSSink(t *testing.T) (*s3sink.Server, string) {
	t.Helper()
	dir := t.TempDir()
	if err := genCert(dir); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := s3sink.NewServer(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}), nil)
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return s, filepath.Join(dir, "cert.pem")
}

// tlsTestConfig is testConfig for an https:// URL to s with the options o.
func tlsTestConfig(t *testing.T, s *s3sink.Server, o tlsOptions) *config {
	t.Helper()
	cfg := testConfig(t, s)
	if err := configFromURL(cfg, "https://"+s.Addr().String()+"/sink/bench", false); err != nil {
		t.Fatal(err)
	}
	if !cfg.https {
		t.Fatalf("configFromURL did not mark an https:// URL")
	}
	var err error
	if cfg.tls, cfg.tlsCipher, err = clientTLS(o, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRun_TLS: an https:// run verifies the generated certificate, does one
// TLS 1.3 handshake per connection before the clock starts (none inside the
// run), negotiates the pinned suite and key exchange, and keeps every
// connection alive.
func TestRun_TLS(t *testing.T) {
	s, certFile := startTLSSink(t)
	cfg := tlsTestConfig(t, s, tlsOptions{caFile: certFile, cipherName: "TLS_AES_128_GCM_SHA256"})
	cfg.requests = 200
	cfg.duration = 10 * time.Second
	// When the clock starts every connection has done its handshake, which
	// the sink's side finished after accepting it; no request went out yet.
	started := false
	cfg.onStart = func() {
		started = true
		if st := s.Stats(); st.Conns != uint64(cfg.conns) || st.Requests != 0 {
			t.Errorf("at the start the sink has %d connections, %d requests; want %d and 0", st.Conns, st.Requests, cfg.conns)
		}
	}
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, s)
	if !started {
		t.Fatalf("onStart was not called")
	}
	if res.ok != cfg.requests {
		t.Fatalf("unexpected request count; got %d; want %d", res.ok, cfg.requests)
	}
	if res.dials != int64(cfg.conns) || res.handshakes != int64(cfg.conns) {
		t.Fatalf("unexpected dials %d, handshakes %d; want %d each (keep-alive)", res.dials, res.handshakes, cfg.conns)
	}
	if res.handshakesInRun != 0 || res.handshakeTime <= 0 {
		t.Fatalf("unexpected handshakes in the run %d, time before %s; want 0 and > 0", res.handshakesInRun, res.handshakeTime)
	}
	want := tlsState{version: tls.VersionTLS13, cipher: tls.TLS_AES_128_GCM_SHA256, curve: tls.X25519}
	if res.tlsState != want {
		t.Fatalf("unexpected negotiated state %+v; want %+v", res.tlsState, want)
	}
	r := newTLSReport("cacert "+certFile, res)
	if r.Version != "TLS 1.3" || r.Cipher != "TLS_AES_128_GCM_SHA256" || r.Curve != "X25519" || r.Handshakes != int64(cfg.conns) || r.HandshakeMeanUS <= 0 {
		t.Fatalf("unexpected report %+v", r)
	}
}

// TestRun_TLSLargeBody: bodies larger than a record and than the body
// buffer arrive whole.
func TestRun_TLSLargeBody(t *testing.T) {
	s, certFile := startTLSSink(t)
	cfg := tlsTestConfig(t, s, tlsOptions{caFile: certFile})
	cfg.size = 3<<20 + 17
	cfg.conns = 2
	cfg.requests = 6
	cfg.duration = 10 * time.Second
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, s)
	if res.ok != cfg.requests {
		t.Fatalf("unexpected request count; got %d; want %d", res.ok, cfg.requests)
	}
}

// TestRun_TLSFailures: an unverifiable certificate or another cipher suite
// than the pinned one fails every handshake; nothing is sent.
func TestRun_TLSFailures(t *testing.T) {
	f := func(o tlsOptions, wantErr string) {
		t.Helper()
		s, certFile := startTLSSink(t)
		if o.caFile == "cert" {
			o.caFile = certFile
		}
		cfg := tlsTestConfig(t, s, o)
		cfg.duration = 300 * time.Millisecond
		res, err := run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.ok != 0 || res.errs[errTLS] == 0 || res.errTotal() != res.errs[errTLS] {
			t.Fatalf("unexpected result: ok=%d errs=%v; want only %s errors", res.ok, res.errs, errTLS)
		}
		if e := res.firstErr[errTLS]; !strings.Contains(e, wantErr) {
			t.Fatalf("unexpected error example %q; want it to contain %q", e, wantErr)
		}
		if st := s.Stats(); st.Requests != 0 || st.BodyBytes != 0 {
			t.Fatalf("the sink saw %d requests, %d body bytes; want none", st.Requests, st.BodyBytes)
		}
	}
	// Verified against the system roots, which do not hold the fresh cert.
	f(tlsOptions{}, "certificate")
	// Go's server picks AES-128-GCM when the client prefers it.
	f(tlsOptions{caFile: "cert", cipherName: "TLS_AES_256_GCM_SHA384"}, "negotiated TLS_AES_128_GCM_SHA256, want TLS_AES_256_GCM_SHA384")
}

func TestClientTLS_Failure(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := func(o tlsOptions) {
		t.Helper()
		if _, _, err := clientTLS(o, "127.0.0.1"); err == nil {
			t.Fatalf("expecting error for %+v", o)
		}
	}
	f(tlsOptions{insecure: true, caFile: notPEM})
	f(tlsOptions{caFile: filepath.Join(dir, "missing.pem")})
	f(tlsOptions{caFile: notPEM})
	f(tlsOptions{cipherName: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}) // TLS 1.2 only
	f(tlsOptions{cipherName: "AES128"})
}

func TestClientTLS_Success(t *testing.T) {
	cfg, id, err := clientTLS(tlsOptions{insecure: true, cipherName: "TLS_AES_128_GCM_SHA256"}, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if id != tls.TLS_AES_128_GCM_SHA256 || !cfg.InsecureSkipVerify || cfg.MinVersion != tls.VersionTLS13 || cfg.MaxVersion != tls.VersionTLS13 ||
		len(cfg.CurvePreferences) != 1 || cfg.CurvePreferences[0] != tls.X25519 || cfg.ServerName != "localhost" {
		t.Fatalf("unexpected config %+v, suite %#x", cfg, id)
	}
	if o := (tlsOptions{insecure: true}); o.verify() != "none" {
		t.Fatalf("unexpected verify %q", o.verify())
	}
}

// TestGenCert: an ECDSA P-256 certificate valid for the loopback names, its
// key private to the owner.
func TestGenCert(t *testing.T) {
	dir := t.TempDir()
	if err := genCert(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("cert.pem holds no PEM block")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Fatalf("unexpected public key %T; want ECDSA P-256", c.PublicKey)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c)
	for _, name := range []string{"127.0.0.1", "::1", "localhost"} {
		if _, err := c.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err != nil {
			t.Fatalf("cannot verify for %s: %s", name, err)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "key.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("unexpected key.pem: %v, %v", st, err)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")); err != nil {
		t.Fatal(err)
	}
}
