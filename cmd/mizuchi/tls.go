package main

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"

	"github.com/mizuchi-gw/mizuchi/config"
)

// certStore serves the S3 listener's certificate and swaps it on reload:
// handshakes read it through tls.Config.GetCertificate, so a new
// certificate applies to the next handshake without a restart.
type certStore struct {
	cur atomic.Pointer[tls.Certificate]
}

// load reads the certificate and key named by t and, if both are valid,
// makes them the served certificate.
func (cs *certStore) load(t *config.TLS) error {
	c, err := loadCert(t)
	if err != nil {
		return err
	}
	cs.cur.Store(c)
	return nil
}

func loadCert(t *config.TLS) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("cannot load server.tls certificate %q and key %q: %w", t.CertFile, t.KeyFile, err)
	}
	return &c, nil
}

// serverConfig returns the listener's TLS settings (the engine enforces
// HTTP/1.1 and TLS 1.2+ on top).
func (cs *certStore) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return cs.cur.Load(), nil
		},
	}
}
