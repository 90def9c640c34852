package main

// HTTPS targets: an https:// -url makes every connection a TLS 1.3 client
// with X25519 key exchange. Each connection does one full handshake (no
// session resumption) when it is opened, before the run's clock and CPU
// readings start (see run); a reconnect during the run handshakes inside it
// and is counted apart (tlsReport.HandshakesInRun).

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// errTLS counts failed handshakes, and handshakes that negotiated another
// cipher suite than -tls-cipher.
const errTLS = "tls"

// tlsOptions are the flags of an https:// -url.
type tlsOptions struct {
	caFile     string // PEM roots to verify the server with; "" means the system's
	insecure   bool   // skip verification
	cipherName string // "": any suite; else the suite every handshake must pick
}

// clientTLS builds the client config for serverName (the -url host).
// Versions and key exchange are fixed (TLS 1.3, X25519); Go does not let a
// client restrict its TLS 1.3 cipher suites, so the one asked for is checked
// after each handshake instead (it returns it as cipher, 0 for any).
func clientTLS(o tlsOptions, serverName string) (cfg *tls.Config, cipher uint16, err error) {
	cfg = &tls.Config{
		ServerName:       serverName,
		MinVersion:       tls.VersionTLS13,
		MaxVersion:       tls.VersionTLS13,
		CurvePreferences: []tls.CurveID{tls.X25519},
		// Full-size records from the first byte, as after Go's slow start
		// of 1 KiB records (which would split every 1 KiB request in two).
		DynamicRecordSizingDisabled: true,
	}
	switch {
	case o.insecure && o.caFile != "":
		return nil, 0, errors.New("-insecure and -cacert are exclusive")
	case o.insecure:
		cfg.InsecureSkipVerify = true
	case o.caFile != "":
		b, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, 0, fmt.Errorf("cannot read -cacert: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(b) {
			return nil, 0, fmt.Errorf("-cacert %s holds no PEM certificate", o.caFile)
		}
	}
	if o.cipherName != "" {
		for _, s := range tls.CipherSuites() {
			if s.Name == o.cipherName && len(s.SupportedVersions) > 0 && s.SupportedVersions[0] == tls.VersionTLS13 {
				return cfg, s.ID, nil
			}
		}
		return nil, 0, fmt.Errorf("-tls-cipher %q is not a TLS 1.3 cipher suite (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256)", o.cipherName)
	}
	return cfg, 0, nil
}

// tlsState is what a handshake negotiated.
type tlsState struct {
	version uint16
	cipher  uint16
	curve   tls.CurveID
}

// dial opens the worker's connection, and on an https:// target does the
// TLS handshake and checks its cipher suite. It returns the error kind, or "".
func (w *worker) dial() string {
	cfg := w.cfg
	c, err := net.DialTimeout("tcp", cfg.addr, cfg.timeout)
	if err != nil {
		if _, ok := w.first[errDial]; !ok {
			w.first[errDial] = err.Error()
		}
		return errDial
	}
	w.dials++
	if cfg.tls != nil {
		t0 := time.Now()
		tc := tls.Client(c, cfg.tls)
		tc.SetDeadline(t0.Add(cfg.timeout))
		err := tc.Handshake()
		if err == nil {
			st := tc.ConnectionState()
			w.tlsState = tlsState{version: st.Version, cipher: st.CipherSuite, curve: st.CurveID}
			if cfg.tlsCipher != 0 && st.CipherSuite != cfg.tlsCipher {
				err = fmt.Errorf("negotiated %s, want %s", tls.CipherSuiteName(st.CipherSuite), tls.CipherSuiteName(cfg.tlsCipher))
			}
		}
		if err != nil {
			tc.Close()
			if _, ok := w.first[errTLS]; !ok {
				w.first[errTLS] = "handshake: " + err.Error()
			}
			return errTLS
		}
		w.handshakes++
		if w.running {
			w.handshakesInRun++
		} else {
			w.handshakeTime += time.Since(t0)
		}
		c = tc
	}
	w.conn = c
	w.br.Reset(c)
	return ""
}

// writeHeadAndFirst sends the head and the first body slice. On TCP that is
// one writev. A tls.Conn would make each buffer its own record, so a small
// request is copied into one buffer first: one record, as a client with a
// buffered writer sends it.
func (w *worker) writeHeadAndFirst(first []byte) error {
	if w.cfg.tls != nil && len(w.head)+len(first) <= maxRecord {
		w.rec = append(append(w.rec[:0], w.head...), first...)
		_, err := w.conn.Write(w.rec)
		return err
	}
	// w.bufs lives in the worker: a local net.Buffers would escape to the
	// heap through WriteTo's pointer receiver, once per request.
	w.bufArr = [2][]byte{w.head, first}
	w.bufs = w.bufArr[:]
	_, err := w.bufs.WriteTo(w.conn)
	return err
}

// maxRecord is TLS's largest record payload.
const maxRecord = 16 << 10

// tlsReport is the JSON "tls" object of an https:// run.
type tlsReport struct {
	Version         string  `json:"version"` // negotiated, e.g. "TLS 1.3"
	Cipher          string  `json:"cipher"`
	Curve           string  `json:"key_exchange"`
	Verify          string  `json:"verify"` // "cacert FILE", "system roots" or "none"
	Handshakes      int64   `json:"handshakes"`
	HandshakesInRun int64   `json:"handshakes_in_run"`        // reconnects: inside the measured time and CPU
	HandshakeMeanUS float64 `json:"handshake_mean_us_before"` // the handshakes before the run, wall clock
}

// verify says how the server's certificate is checked.
func (o tlsOptions) verify() string {
	switch {
	case o.insecure:
		return "none"
	case o.caFile != "":
		return "cacert " + o.caFile
	}
	return "system roots"
}

func newTLSReport(verify string, res *result) *tlsReport {
	r := &tlsReport{
		Handshakes:      res.handshakes,
		HandshakesInRun: res.handshakesInRun,
		Verify:          verify,
	}
	if st := res.tlsState; st.version != 0 {
		r.Version = tls.VersionName(st.version)
		r.Cipher = tls.CipherSuiteName(st.cipher)
		r.Curve = st.curve.String()
	}
	if n := res.handshakes - res.handshakesInRun; n > 0 {
		r.HandshakeMeanUS = float64(res.handshakeTime.Microseconds()) / float64(n)
	}
	return r
}

// genCert writes a fresh self-signed ECDSA P-256 certificate for 127.0.0.1,
// ::1 and localhost, valid for a day, to dir/cert.pem and its PKCS#8 key to
// dir/key.pem (mode 0600), for bench/run.sh's HTTPS targets.
func genCert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "mizuchi-bench"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}
