package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

const (
	// MinSecretLen is the shortest secret New accepts, in bytes.
	MinSecretLen = 32
	// Overhead is the number of bytes a sealed blob adds to the plaintext
	// before base64: version, nonce and tag.
	Overhead = 1 + nonceLen + tagLen
	// MaxTokenLen is the longest token Open looks at; longer ones are
	// ErrInvalid without decoding.
	MaxTokenLen = 16 << 10

	version  = 1
	nonceLen = 12
	tagLen   = 16
	keyInfo  = "mizuchi seal v1 "
	// maxPurposes bounds the per-purpose key cache. Purposes are constants
	// in code; more than this many means a caller passes data as purpose,
	// and then keys are derived per call rather than cached without bound.
	maxPurposes = 64
)

var (
	// ErrInvalid is every Open failure.
	ErrInvalid = errors.New("seal: invalid token")
	// ErrNoSecret: New was given no secret.
	ErrNoSecret = errors.New("seal: no secret")
	// ErrShortSecret: a secret is shorter than MinSecretLen.
	ErrShortSecret = errors.New("seal: secret shorter than 32 bytes")
)

var enc = base64.RawURLEncoding.Strict()

// Sealer seals and opens tokens. It is safe for concurrent use.
type Sealer struct {
	secrets [][]byte

	mu   sync.Mutex                               // serializes cache updates
	keys atomic.Pointer[map[string][]cipher.AEAD] // copy-on-write: purpose -> one AEAD per secret
}

// New returns a Sealer for the rotation list secrets: the first seals, all
// of them open. Each must be at least MinSecretLen bytes; they are copied.
func New(secrets [][]byte) (*Sealer, error) {
	if len(secrets) == 0 {
		return nil, ErrNoSecret
	}
	s := &Sealer{secrets: make([][]byte, len(secrets))}
	for i, sec := range secrets {
		if len(sec) < MinSecretLen {
			return nil, fmt.Errorf("%w: secret %d has %d bytes", ErrShortSecret, i, len(sec))
		}
		s.secrets[i] = bytes.Clone(sec)
	}
	return s, nil
}

// SealedLen returns the length of the token Seal makes of n plaintext bytes.
func SealedLen(n int) int { return enc.EncodedLen(Overhead + n) }

// Seal appends to dst the token of plaintext for purpose, authenticating ad
// as well (ad is not stored in the token; Open must be given the same).
// purpose should be a constant naming what the token is for. plaintext and
// ad must not overlap dst's spare capacity, which Seal uses as scratch.
func (s *Sealer) Seal(dst []byte, purpose string, plaintext, ad []byte) []byte {
	a := s.aeads(purpose)[0]
	rawLen := Overhead + len(plaintext)
	encLen := enc.EncodedLen(rawLen)
	base := len(dst)
	dst = slices.Grow(dst, encLen+rawLen)
	// Layout of dst's spare capacity: [token (encLen)][raw blob (rawLen)].
	raw := dst[base+encLen : base+encLen+rawLen]
	raw[0] = version
	a.Seal(raw[1:1:rawLen], nil, plaintext, ad)
	out := dst[base : base+encLen]
	enc.Encode(out, raw)
	return dst[:base+encLen]
}

// Open appends to dst the plaintext of token, sealed for purpose with ad,
// and returns ErrInvalid (and dst unchanged) for every failure. It uses up
// to 2*len(token) bytes of dst's spare capacity as scratch (allocating only
// when there is less); ad must not overlap that space.
func (s *Sealer) Open(dst []byte, purpose string, token, ad []byte) ([]byte, error) {
	n := enc.DecodedLen(len(token))
	if len(token) > MaxTokenLen || n < Overhead ||
		bytes.IndexByte(token, '\n') >= 0 || bytes.IndexByte(token, '\r') >= 0 {
		return dst, ErrInvalid
	}
	base := len(dst)
	dst = slices.Grow(dst, 2*n)
	// Layout of dst's spare capacity: [plaintext (< n)][raw blob (n)]. The
	// AEAD gets dst capped before the blob, so a failed Open (which may
	// clear its output) never touches the blob and the next secret can be
	// tried.
	raw := dst[base+n : base+2*n]
	m, err := enc.Decode(raw, token)
	if err != nil || m < Overhead || raw[0] != version {
		return dst[:base], ErrInvalid
	}
	raw = raw[1:m]
	for _, a := range s.aeads(purpose) {
		if out, err := a.Open(dst[:base:base+n], nil, raw, ad); err == nil {
			return dst[:len(out)], nil
		}
	}
	return dst[:base], ErrInvalid
}

// aeads returns the AEADs of purpose, one per secret, deriving and caching
// them on first use.
func (s *Sealer) aeads(purpose string) []cipher.AEAD {
	if m := s.keys.Load(); m != nil {
		if a, ok := (*m)[purpose]; ok {
			return a
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.keys.Load()
	if old != nil {
		if a, ok := (*old)[purpose]; ok {
			return a
		}
	}
	a := make([]cipher.AEAD, len(s.secrets))
	for i, sec := range s.secrets {
		a[i] = derive(sec, purpose)
	}
	if old == nil || len(*old) < maxPurposes {
		m := map[string][]cipher.AEAD{}
		if old != nil {
			m = maps.Clone(*old)
		}
		m[purpose] = a
		s.keys.Store(&m)
	}
	return a
}

func derive(secret []byte, purpose string) cipher.AEAD {
	key, err := hkdf.Key(sha256.New, secret, nil, keyInfo+purpose, 32)
	if err != nil {
		panic("seal: hkdf: " + err.Error()) // only in FIPS-only mode with a short key, which New refuses
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		panic("seal: " + err.Error())
	}
	a, err := cipher.NewGCMWithRandomNonce(b)
	if err != nil {
		panic("seal: " + err.Error())
	}
	return a
}
