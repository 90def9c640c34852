package sts

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/mizuchi-gw/mizuchi/policy/seal"
)

const (
	// Purpose is the seal purpose of session tokens (upload ids use
	// another, so neither opens as the other).
	Purpose = "sts-session"
	// AccessKeyIDLen is the length of an access key id: "ASIA" and 16
	// base32 characters (80 random bits), as long as AWS's.
	AccessKeyIDLen = 20
	// SecretKeyLen is the length of a secret access key: 40 characters of
	// standard base64 (240 random bits), as long as AWS's.
	SecretKeyLen = 40
	// MaxSessionTokenLen is the longest session token Assume makes and
	// Open accepts (base64 of at most maxPlaintext sealed bytes).
	MaxSessionTokenLen = (seal.Overhead + maxPlaintext + 2) / 3 * 4

	tokenFormat  = 1
	akidRawLen   = 10
	secretRawLen = 30
	fixedLen     = 1 + 8 + akidRawLen + secretRawLen // format, expiry, access key id, secret
	maxPlaintext = 8 << 10
	// inlineRoutes: sessions with at most this many routes need no
	// allocation for Routes.
	inlineRoutes = 4
)

var akidEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// sealed is the plaintext of a session token.
//
// Layout: format (1) || expiry, Unix seconds, big-endian (8) || access key
// id (10) || secret (30) || subject || role ARN || session name || key
// prefix || claims JSON, each a uvarint length and the bytes || route
// count (uvarint) and each route as length and bytes. Nothing may follow.
type sealed struct {
	expires     int64
	akid        [akidRawLen]byte
	secret      [secretRawLen]byte
	subject     string
	role        string
	sessionName string
	prefix      string
	claims      string
	routes      []string
}

var errTooLarge = errors.New("session larger than 8 KiB")

// seal returns the token of s.
func (iss *Issuer) seal(s *sealed) ([]byte, error) {
	b := make([]byte, fixedLen, 256)
	b[0] = tokenFormat
	binary.BigEndian.PutUint64(b[1:9], uint64(s.expires))
	copy(b[9:], s.akid[:])
	copy(b[9+akidRawLen:], s.secret[:])
	for _, f := range []string{s.subject, s.role, s.sessionName, s.prefix, s.claims} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.AppendUvarint(b, uint64(len(s.routes)))
	for _, r := range s.routes {
		b = binary.AppendUvarint(b, uint64(len(r)))
		b = append(b, r...)
	}
	if len(b) > maxPlaintext {
		return nil, errTooLarge
	}
	return iss.sealer.Seal(nil, Purpose, b, nil), nil
}

// view is a parsed plaintext: fields are offsets into it.
type view struct {
	expires  int64
	akid     []byte
	secret   []byte
	fields   [5][2]int // subject, role, session name, prefix, claims: [start, end)
	routes   [2]int    // the route list's [start, end), count and lengths included
	nRoutes  int
	plainLen int
}

const (
	fSubject = iota
	fRole
	fSessionName
	fPrefix
	fClaims
)

// parse checks the layout of p strictly.
func (v *view) parse(p []byte) bool {
	if len(p) < fixedLen || p[0] != tokenFormat {
		return false
	}
	v.expires = int64(binary.BigEndian.Uint64(p[1:9]))
	v.akid = p[9 : 9+akidRawLen]
	v.secret = p[9+akidRawLen : fixedLen]
	i := fixedLen
	for f := range v.fields {
		n, w := binary.Uvarint(p[i:])
		if w <= 0 || n > uint64(len(p)-i-w) {
			return false
		}
		i += w
		v.fields[f] = [2]int{i, i + int(n)}
		i += int(n)
	}
	v.routes[0] = i
	count, w := binary.Uvarint(p[i:])
	if w <= 0 || count > uint64(len(p)-i) {
		return false
	}
	i += w
	for range count {
		n, w := binary.Uvarint(p[i:])
		if w <= 0 || n > uint64(len(p)-i-w) {
			return false
		}
		i += w + int(n)
	}
	v.routes[1], v.nRoutes, v.plainLen = i, int(count), len(p)
	return i == len(p)
}

func (v *view) field(p []byte, f int) []byte { return p[v.fields[f][0]:v.fields[f][1]] }

// Session is an opened session token. Its fields are read-only.
type Session struct {
	AccessKeyID string
	Subject     string
	RoleARN     string
	SessionName string // the RoleSessionName it was issued for
	// KeyPrefix is what every key (as the client names it) must start
	// with; "" allows any key.
	KeyPrefix string
	// Routes are the sealed routes the role still has: a route removed from
	// the role since the session was issued is gone at once.
	Routes []string
	// Claims are the web identity token's claims, without exp, iat, nbf,
	// jti, nonce, at_hash and c_hash; nil when none are left. Numbers are
	// float64, as policy.JWT gives them. Open fills them; OpenNoClaims
	// leaves them nil until DecodeClaims.
	Claims map[string]any
	// ClaimsJSON is Claims as sealed: a JSON object with sorted keys, ""
	// when none. Always set.
	ClaimsJSON string
	Expires    time.Time

	secret [SecretKeyLen]byte
	routes [inlineRoutes]string
}

// Allows reports whether the session may upload key (as the client names
// it, before the route's key_template) to route: the route is one of
// Routes and the key starts with KeyPrefix.
func (s *Session) Allows(route string, key []byte) bool {
	for _, r := range s.Routes {
		if r == route {
			return len(key) >= len(s.KeyPrefix) && string(key[:len(s.KeyPrefix)]) == s.KeyPrefix
		}
	}
	return false
}

// scratch holds the plaintext of one Open; the pool bounds what it keeps.
var scratch = sync.Pool{New: func() any {
	b := make([]byte, 0, 4<<10)
	return &b
}}

// Open checks a SigV4 request's session credentials: sessionToken (the
// X-Amz-Security-Token value, decoded) must open with one of the secrets
// (else ErrInvalidToken), accessKeyID (the credential scope's) must be the
// one issued with it (else ErrAccessKeyMismatch), it must not have expired
// at now (else ErrExpiredToken), and its role must still be configured
// (else ErrInvalidToken). On success it returns the session, Claims
// decoded, and the secret access key to verify the request's signature
// with; secretKey lives in the Session and is valid as long as it (do not
// modify or log it).
//
// Open looks nothing up but the role map and keeps nothing: it costs one
// AES-GCM open per configured secret at most, and allocates the Session,
// one string for its text fields, Routes beyond four, and the decoded
// Claims, which cost most (see the package doc): use OpenNoClaims when the
// route needs no claims.
func (iss *Issuer) Open(accessKeyID, sessionToken []byte, now time.Time) (*Session, []byte, error) {
	s, secret, err := iss.OpenNoClaims(accessKeyID, sessionToken, now)
	if err == nil && s.DecodeClaims() != nil {
		return nil, nil, ErrInvalidToken
	}
	return s, secret, err
}

// OpenNoClaims is Open without decoding the claims: Claims is nil and
// ClaimsJSON holds them, for DecodeClaims or to be copied into an
// authorization input as they are. It allocates the Session and one
// string (plus Routes beyond four).
func (iss *Issuer) OpenNoClaims(accessKeyID, sessionToken []byte, now time.Time) (*Session, []byte, error) {
	if len(sessionToken) == 0 || len(sessionToken) > MaxSessionTokenLen {
		return nil, nil, ErrInvalidToken
	}
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	p, err := iss.sealer.Open((*bp)[:0], Purpose, sessionToken, nil)
	if cap(p) <= 2*MaxSessionTokenLen {
		*bp = p[:0] // keep a grown buffer, within bounds
	}
	var v view
	if err != nil || !v.parse(p) {
		return nil, nil, ErrInvalidToken
	}
	var ak [AccessKeyIDLen]byte
	appendAccessKeyID(ak[:0], (*[akidRawLen]byte)(v.akid))
	if subtle.ConstantTimeCompare(ak[:], accessKeyID) != 1 {
		return nil, nil, ErrAccessKeyMismatch
	}
	if now.Unix() >= v.expires {
		return nil, nil, ErrExpiredToken
	}
	r := iss.roles[string(v.field(p, fRole))]
	if r == nil {
		return nil, nil, ErrInvalidToken
	}
	// One string holds the access key id and every text field: the
	// access key id is appended after the plaintext, in scratch that
	// Open no longer needs, and the text is copied out once.
	text := append(append(p[len(p):], ak[:]...), p[fixedLen:]...)
	str := string(text)
	at := func(f [2]int) string { return str[AccessKeyIDLen+f[0]-fixedLen : AccessKeyIDLen+f[1]-fixedLen] }
	s := &Session{Expires: time.Unix(v.expires, 0).UTC()}
	s.AccessKeyID = str[:AccessKeyIDLen]
	s.Subject = at(v.fields[fSubject])
	s.RoleARN = at(v.fields[fRole])
	s.SessionName = at(v.fields[fSessionName])
	s.KeyPrefix = at(v.fields[fPrefix])
	s.ClaimsJSON = at(v.fields[fClaims])
	s.Routes = s.routes[:0]
	i := v.routes[0]
	_, w := binary.Uvarint(p[i:])
	i += w
	for range v.nRoutes {
		n, w := binary.Uvarint(p[i:])
		i += w
		if rt := at([2]int{i, i + int(n)}); r.hasRoute(rt) {
			s.Routes = append(s.Routes, rt)
		}
		i += int(n)
	}
	encodeSecret(&s.secret, (*[secretRawLen]byte)(v.secret))
	return s, s.secret[:], nil
}

// DecodeClaims sets Claims from ClaimsJSON (nil when empty). Call it
// before sharing the Session: it writes to it.
func (s *Session) DecodeClaims() error {
	if s.Claims != nil || s.ClaimsJSON == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s.ClaimsJSON), &m); err != nil || m == nil {
		return ErrInvalidToken
	}
	s.Claims = m
	return nil
}

func (r *role) hasRoute(route string) bool {
	for _, x := range r.routes {
		if x == route {
			return true
		}
	}
	return false
}

// appendAccessKeyID appends "ASIA" and the base32 of raw.
func appendAccessKeyID(dst []byte, raw *[akidRawLen]byte) []byte {
	dst = append(dst, "ASIA"...)
	return akidEncoding.AppendEncode(dst, raw[:])
}

// encodeSecret writes the secret access key of raw into dst.
func encodeSecret(dst *[SecretKeyLen]byte, raw *[secretRawLen]byte) []byte {
	base64.StdEncoding.Encode(dst[:], raw[:])
	return dst[:]
}

// IsSessionAccessKey reports whether an access key id has the shape of
// the ones Assume issues ("ASIA" and 16 base32 characters), so the gateway
// can tell session credentials from configured keys cheaply. It does not
// say the key is valid.
func IsSessionAccessKey(accessKeyID []byte) bool {
	if len(accessKeyID) != AccessKeyIDLen || !bytes.HasPrefix(accessKeyID, []byte("ASIA")) {
		return false
	}
	for _, c := range accessKeyID[4:] {
		if !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}
