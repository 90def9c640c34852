package sigv4

import (
	"crypto/sha256"
	"hash"
)

// mac computes HMAC-SHA256 (RFC 2104) with two reused SHA-256 digests, so
// that no call allocates; crypto/hmac.New allocates a fresh pair of digests
// per key, and a SigV4 signature needs five keys. A mac is not safe for
// concurrent use.
type mac struct {
	inner, outer hash.Hash
	opad         [sha256.BlockSize]byte
	pad          [sha256.BlockSize]byte // scratch for the ipad block
	tmp          [sha256.Size]byte
	// fromOpad: the outer digest already holds opad (restored by
	// resetSigning), so sum does not hash it again.
	fromOpad bool

	memo macMemo
}

func newMAC() mac {
	m := mac{inner: sha256.New(), outer: sha256.New()}
	m.memo.usable = digestsSaveState
	return m
}

// reset starts a new HMAC with key. key may alias m.tmp or a previous sum.
func (m *mac) reset(key []byte) {
	m.fromOpad = false
	if len(key) > sha256.BlockSize {
		m.inner.Reset()
		m.inner.Write(key)
		key = m.inner.Sum(m.tmp[:0])
	}
	m.pad = [sha256.BlockSize]byte{}
	copy(m.pad[:], key)
	m.opad = m.pad
	for i := range m.pad {
		m.pad[i] ^= 0x36
		m.opad[i] ^= 0x5c
	}
	m.inner.Reset()
	m.inner.Write(m.pad[:])
}

func (m *mac) write(p []byte) { m.inner.Write(p) }

// sum appends the 32-byte MAC of everything written since reset to dst.
func (m *mac) sum(dst []byte) []byte {
	in := m.inner.Sum(m.tmp[:0])
	if !m.fromOpad {
		m.outer.Reset()
		m.outer.Write(m.opad[:])
	}
	m.fromOpad = false
	m.outer.Write(in)
	return m.outer.Sum(dst)
}

// deriveKey computes the SigV4 signing key
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")
// into key. scratch is a reusable buffer for "AWS4"+secret; the (possibly
// grown) buffer is returned.
func (m *mac) deriveKey(key *[sha256.Size]byte, scratch []byte, secret string, date, region, service []byte) []byte {
	scratch = append(append(scratch[:0], "AWS4"...), secret...)
	m.reset(scratch)
	m.write(date)
	k := m.sum(key[:0])
	m.reset(k)
	m.write(region)
	k = m.sum(key[:0])
	m.reset(k)
	m.write(service)
	k = m.sum(key[:0])
	m.reset(k)
	m.write(aws4Request)
	m.sum(key[:0])
	clear(scratch) // do not leave the secret in a long-lived buffer
	return scratch
}

var aws4Request = []byte("aws4_request")
