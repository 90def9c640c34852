package policy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// minRSABits is the smallest RSA modulus accepted, as crypto/rsa enforces.
const minRSABits = 1024

// pubKey is one verification key: from a JWK set or the static PEM key.
type pubKey struct {
	kid string
	alg string           // "" = any algorithm of the key's family
	key crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// usable reports whether k may verify a token signed with alg.
func (k *pubKey) usable(alg string) bool {
	return (k.alg == "" || k.alg == alg) && keyFits(alg, k.key)
}

// keyFits reports whether key has the type (and curve) that alg needs. This
// is the guard against key confusion: an HS* token never gets a public key
// (HS* always uses the secret), and an RS256 key never verifies ES256.
func keyFits(alg string, key crypto.PublicKey) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return len(alg) == 5 && (alg[:2] == "RS" || alg[:2] == "PS")
	case *ecdsa.PublicKey:
		return alg == curveAlg(k.Curve)
	case ed25519.PublicKey:
		return alg == "EdDSA" && len(k) == ed25519.PublicKeySize
	}
	return false
}

// curveAlg is the only JWS algorithm a key on curve c may verify.
func curveAlg(c elliptic.Curve) string {
	switch c {
	case elliptic.P256():
		return "ES256"
	case elliptic.P384():
		return "ES384"
	case elliptic.P521():
		return "ES512"
	}
	return ""
}

func isHMAC(alg string) bool { return len(alg) == 5 && alg[:2] == "HS" }

// parsePublicKeyPEM parses the first PEM block of data: a PKIX "PUBLIC KEY",
// a PKCS #1 "RSA PUBLIC KEY" or an X.509 "CERTIFICATE" (its subject key).
func parsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE PEM block")
		}
		var key any
		var err error
		switch b.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(b.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(b.Bytes); err == nil {
				key = cert.PublicKey
			}
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cannot parse %s: %w", b.Type, err)
		}
		switch k := key.(type) {
		case *rsa.PublicKey:
			if k.N.BitLen() < minRSABits {
				return nil, fmt.Errorf("RSA key has %d bits; want at least %d", k.N.BitLen(), minRSABits)
			}
		case *ecdsa.PublicKey:
			if curveAlg(k.Curve) == "" {
				return nil, errors.New("unsupported elliptic curve")
			}
		case ed25519.PublicKey:
		default:
			return nil, fmt.Errorf("unsupported public key type %T", key)
		}
		return key, nil
	}
}
