package policy

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxJWKSSize caps a JWK set document.
const maxJWKSSize = 1 << 20

// keySet is an immutable JWK set: the usable keys, in document order.
// Lookups are linear; sets hold a handful of keys.
type keySet struct {
	keys []pubKey
}

// byKid returns the first key named kid usable for alg; found reports
// whether any key is named kid.
func (s *keySet) byKid(kid, alg string) (k *pubKey, found bool) {
	for i := range s.keys {
		if s.keys[i].kid == kid {
			found = true
			if s.keys[i].usable(alg) {
				return &s.keys[i], true
			}
		}
	}
	return nil, found
}

// only returns the key usable for alg if there is exactly one.
func (s *keySet) only(alg string) *pubKey {
	var k *pubKey
	for i := range s.keys {
		if s.keys[i].usable(alg) {
			if k != nil {
				return nil
			}
			k = &s.keys[i]
		}
	}
	return k
}

// contains reports whether s holds a key equal to k (same kid, alg and key).
func (s *keySet) contains(k *pubKey) bool {
	type equaler interface{ Equal(x crypto.PublicKey) bool }
	for i := range s.keys {
		o := &s.keys[i]
		if o.kid == k.kid && o.alg == k.alg && o.key.(equaler).Equal(k.key) {
			return true
		}
	}
	return false
}

// jwk is the part of RFC 7517/7518/8037 a verifier needs.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS parses a JWK set document, keeping the keys usable for at least
// one of algs. Keys with kty "oct", "use":"enc", an unknown type or curve,
// or bad parameters are skipped (each reported through skip); a document
// without any usable key is an error, so a broken set never replaces a
// good one.
func parseJWKS(data []byte, algs []string, skip func(kid, reason string)) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("cannot parse JWK set: %w", err)
	}
	s := &keySet{}
	for _, raw := range doc.Keys {
		var j jwk
		if err := json.Unmarshal(raw, &j); err != nil {
			skip("", "malformed JWK")
			continue
		}
		k, err := j.publicKey()
		if err != nil {
			skip(j.Kid, err.Error())
			continue
		}
		if k == nil { // oct or use=enc: not for us, silently ignored
			continue
		}
		if !slices.ContainsFunc(algs, k.usable) {
			skip(j.Kid, "fits none of the route's algorithms")
			continue
		}
		s.keys = append(s.keys, *k)
	}
	if len(s.keys) == 0 {
		return nil, fmt.Errorf("JWK set has no usable key (%d keys)", len(doc.Keys))
	}
	return s, nil
}

// publicKey converts j; nil, nil for keys that are not signature
// verification keys (kty oct, use enc).
func (j *jwk) publicKey() (*pubKey, error) {
	if j.Use == "enc" || j.Kty == "oct" {
		return nil, nil
	}
	k := &pubKey{kid: j.Kid, alg: j.Alg}
	switch j.Kty {
	case "RSA":
		n, err1 := b64(j.N)
		e, err2 := b64(j.E)
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("bad RSA parameters")
		}
		var ev int
		for _, c := range e {
			ev = ev<<8 | int(c)
		}
		pk := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ev}
		if ev < 3 || ev&1 == 0 || pk.N.BitLen() < minRSABits {
			return nil, errors.New("weak or invalid RSA key")
		}
		k.key = pk
	case "EC":
		var c elliptic.Curve
		switch j.Crv {
		case "P-256":
			c = elliptic.P256()
		case "P-384":
			c = elliptic.P384()
		case "P-521":
			c = elliptic.P521()
		default:
			return nil, errors.New("unsupported EC curve")
		}
		size := (c.Params().BitSize + 7) / 8
		x, err1 := b64(j.X)
		y, err2 := b64(j.Y)
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return nil, errors.New("bad EC parameters")
		}
		pt := make([]byte, 0, 1+2*size)
		pt = append(append(append(pt, 4), x...), y...)
		pk, err := ecdsa.ParseUncompressedPublicKey(c, pt)
		if err != nil {
			return nil, errors.New("EC point not on curve")
		}
		k.key = pk
	case "OKP":
		x, err := b64(j.X)
		if j.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("unsupported or bad OKP key")
		}
		k.key = ed25519.PublicKey(x)
	default:
		return nil, errors.New("unsupported kty")
	}
	if k.alg != "" && !keyFits(k.alg, k.key) {
		return nil, errors.New("alg does not fit the key")
	}
	return k, nil
}

// b64 decodes base64url, with or without padding.
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// fetchJWKS downloads and parses the JWK set.
func (a *JWT) fetchJWKS(ctx context.Context) (*keySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.jwksURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		// url.Error quotes the URL, which may carry credentials.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("cannot fetch JWK set: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("cannot fetch JWK set: status %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read JWK set: %w", err)
	}
	if len(data) > maxJWKSSize {
		return nil, fmt.Errorf("JWK set larger than %d bytes", maxJWKSSize)
	}
	return parseJWKS(data, a.algs, func(kid, reason string) {
		a.log.Debug("skipping JWK", "kid", kid, "reason", reason)
	})
}

// refresh fetches the JWK set once and swaps it in. A failure keeps the
// previous set and marks it stale. When a key disappeared, the token cache
// is cleared so tokens signed with it stop being served from the cache.
func (a *JWT) refresh() error {
	ks, err := a.fetchJWKS(a.ctx)
	if err != nil {
		if a.ctx.Err() != nil {
			return err // stopping: not a failure of the JWKS server
		}
		a.refreshErr.Inc()
		a.staleGauge.Set(1)
		a.log.Warn("JWKS refresh failed; keeping the previous keys", "host", urlHost(a.jwksURL), "err", err)
		return err
	}
	old := a.keys.Swap(ks)
	a.refreshOK.Inc()
	a.staleGauge.Set(0)
	a.keysGauge.Set(float64(len(ks.keys)))
	removed, added := old == nil, old == nil
	if old != nil {
		removed = !subset(old, ks)
		added = !subset(ks, old)
	}
	if removed && old != nil {
		a.cache.clear()
	}
	if removed || added {
		a.log.Info("JWKS loaded", "keys", len(ks.keys))
	}
	return nil
}

// subset reports whether every key of s is in t.
func subset(s, t *keySet) bool {
	for i := range s.keys {
		if !t.contains(&s.keys[i]) {
			return false
		}
	}
	return true
}

func urlHost(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Host
	}
	return ""
}
