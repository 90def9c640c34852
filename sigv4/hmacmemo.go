package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
)

// stateHash is a digest whose state can be saved and restored without
// allocating: crypto/sha256's digest is one (AppendBinary into a buffer
// with room, UnmarshalBinary from it).
type stateHash interface {
	hash.Hash
	encoding.BinaryAppender
	encoding.BinaryUnmarshaler
}

// sha256StateLen is the size of a marshaled SHA-256 state: magic (4), the
// eight words (32), a block (64) and the length (8).
const sha256StateLen = 4 + 32 + sha256.BlockSize + 8

// macMemo remembers, for the last signing key a mac signed with, the
// SHA-256 states after the key's ipad block and after its opad block, and
// the inner state after the ipad block and the first 64 bytes of the last
// message. SigV4 signs many messages under one key (one signing key per
// credential and day; the string to sign opens with the algorithm, the
// request time and the credential scope, 64 bytes that repeat for every
// request of a second; chunk strings to sign repeat theirs for a whole
// stream), so restoring a state replaces hashing two or three of the
// HMAC's five or six blocks with a copy of 108 bytes.
//
// The states are as secret as the key itself (they let anyone compute
// HMACs under it): they live, like the key, in the Signer or chunk
// decoder that owns the mac.
type macMemo struct {
	usable bool // the digests can save and restore their state
	valid  bool // key, ipad and opad below belong together
	key    [sha256.Size]byte
	ipad   [sha256StateLen]byte
	opad   [sha256StateLen]byte
	// blockValid: block is the first 64 bytes of a message signed with
	// key, and first the inner state after ipad and block.
	blockValid bool
	block      [sha256.BlockSize]byte
	first      [sha256StateLen]byte
}

// sumSigning appends HMAC-SHA256(key, msg) to dst, for a signing key: it
// computes the same MAC as reset(key), write(msg), sum(dst), reusing the
// memoized states when key is the last key seen (see macMemo).
func (m *mac) sumSigning(dst []byte, key *[sha256.Size]byte, msg []byte) []byte {
	if !m.memo.usable {
		m.reset(key[:])
		m.write(msg)
		return m.sum(dst)
	}
	m.resetSigning(key)
	if len(msg) < sha256.BlockSize {
		m.inner.Write(msg)
		return m.sum(dst)
	}
	inner := m.inner.(stateHash)
	if m.memo.blockValid && bytes.Equal(msg[:sha256.BlockSize], m.memo.block[:]) {
		if inner.UnmarshalBinary(m.memo.first[:]) != nil {
			panic("sigv4: cannot restore a SHA-256 state") // cannot happen: saved by the same digest
		}
	} else {
		m.inner.Write(msg[:sha256.BlockSize])
		m.saveState(inner, &m.memo.first)
		copy(m.memo.block[:], msg)
		m.memo.blockValid = true
	}
	m.inner.Write(msg[sha256.BlockSize:])
	return m.sum(dst)
}

// resetSigning starts an HMAC with the 32-byte key, restoring the inner
// (ipad) and outer (opad) states when key is the memoized key and
// memoizing them otherwise.
func (m *mac) resetSigning(key *[sha256.Size]byte) {
	inner, outer := m.inner.(stateHash), m.outer.(stateHash)
	if m.memo.valid && equalKey(key, &m.memo.key) {
		if inner.UnmarshalBinary(m.memo.ipad[:]) != nil || outer.UnmarshalBinary(m.memo.opad[:]) != nil {
			panic("sigv4: cannot restore a SHA-256 state") // cannot happen: saved by the same digest
		}
		m.fromOpad = true
		return
	}
	m.memo.key = *key
	m.memo.blockValid = false
	m.reset(key[:])
	m.saveState(inner, &m.memo.ipad)
	m.outer.Reset()
	m.outer.Write(m.opad[:])
	m.saveState(outer, &m.memo.opad)
	m.fromOpad = true
	m.memo.valid = true
}

// digestsSaveState: crypto/sha256's digests save and restore their state
// as the memo needs (checked once; every mac's digests are of that type).
var digestsSaveState = savesState(sha256.New())

// savesState reports whether h can save and restore its state in
// sha256StateLen bytes.
func savesState(h hash.Hash) bool {
	sh, ok := h.(stateHash)
	if !ok {
		return false
	}
	b, err := sh.AppendBinary(nil)
	return err == nil && len(b) == sha256StateLen && sh.UnmarshalBinary(b) == nil
}

// saveState marshals h's state into st (newMAC checked its size).
func (m *mac) saveState(h stateHash, st *[sha256StateLen]byte) {
	b, err := h.AppendBinary(st[:0])
	if err != nil || len(b) != sha256StateLen || &b[0] != &st[0] {
		panic("sigv4: unexpected SHA-256 state encoding")
	}
}

// equalKey compares two signing keys in constant time, eight bytes at a
// time.
func equalKey(a, b *[sha256.Size]byte) bool {
	var diff uint64
	for i := 0; i < sha256.Size; i += 8 {
		diff |= binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:])
	}
	return diff == 0
}
