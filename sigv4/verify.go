package sigv4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Verification failures. Verify returns one of these, either directly or
// wrapped with a detail ("%w: detail") that may be shown to the client: a
// detail never contains a secret or the signature the client sent. Use
// errors.Is to classify.
var (
	// ErrNoAuth: neither an Authorization header nor presigned query
	// parameters (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature); the
	// request is anonymous.
	ErrNoAuth = errors.New("sigv4: request is not signed")
	// ErrMalformed: the Authorization header cannot be used (algorithm,
	// components, credential scope, region, signed headers, signature form).
	ErrMalformed = errors.New("sigv4: authorization header is malformed")
	// ErrQueryMalformed: the presigned query parameters cannot be used
	// (S3 AuthorizationQueryParametersError).
	ErrQueryMalformed = errors.New("sigv4: authorization query parameters are malformed")
	// ErrMissingSecurityHeader: a header-signed request lacks a valid
	// X-Amz-Date (or Date) or x-amz-content-sha256 header.
	ErrMissingSecurityHeader = errors.New("sigv4: missing or invalid security header")
	// ErrUnknownAccessKey: the access key is not in VerifyConfig.Keys.
	ErrUnknownAccessKey = errors.New("sigv4: unknown access key")
	// ErrSignatureMismatch: the signature does not match the request.
	ErrSignatureMismatch = errors.New("sigv4: signature does not match")
	// ErrSkewed: the request time is too far from the server's (or a
	// presigned URL is dated in the future).
	ErrSkewed = errors.New("sigv4: request time too skewed")
	// ErrExpired: a presigned URL is past X-Amz-Date + X-Amz-Expires.
	ErrExpired = errors.New("sigv4: request has expired")
	// ErrSecurityToken: on a VerifyConfig with a Resolve, the request's
	// security token was refused: Resolve failed (its error is wrapped too,
	// so errors.Is finds both), or the token came with an access key of
	// Keys (long-term keys take no token).
	ErrSecurityToken = errors.New("sigv4: security token refused")
	// ErrHeadersNotSigned: the request carries an x-amz-* header that is
	// not among its SignedHeaders (S3 AccessDenied with a HeadersNotSigned
	// element). Verifier.UnsignedHeader names the first one. Exceptions:
	// x-amz-content-sha256 whose value is the payload hash the signature
	// covers anyway (the header form's, or a presigned URL's
	// X-Amz-Content-Sha256 / UNSIGNED-PAYLOAD), and x-amz-security-token
	// (a credential checked by the Resolver; AWS's own test suite adds it
	// after signing, post-sts-header-after).
	ErrHeadersNotSigned = errors.New("sigv4: there were headers present in the request which were not signed")
)

const (
	defaultMaxSkew = 5 * time.Minute
	// maxPresignExpires is S3's limit on X-Amz-Expires: 7 days.
	maxPresignExpires = 604800
	unsignedPayload   = "UNSIGNED-PAYLOAD"
	scopeTerminator   = "aws4_request"
)

// Key is one client credential.
type Key struct {
	// AccessKey is the key's id, as the Keys map names it (for
	// authorization input and logs; callers set it).
	AccessKey string
	Secret    string
	// Subject is the identity used for authorization and logs; callers
	// default it to the access key.
	Subject string
	// Session is what a Resolver attaches to the temporary credential it
	// returns (sigv4 never reads it); nil for the keys of Keys.
	Session any
}

// Resolver returns the Key of temporary credentials: accessKey is the
// credential scope's access key id and securityToken the request's
// X-Amz-Security-Token (header, or query parameter of a presigned URL,
// decoded). Both are views valid only during the call. It runs inside
// Verify, before the signature is checked: the Key it returns is trusted
// only once Verify succeeds. Its errors reach the caller wrapped in
// ErrSecurityToken and must not contain a secret. It must be safe for
// concurrent use.
type Resolver func(accessKey, securityToken []byte, now time.Time) (*Key, error)

// Keys maps an access key id to its Key. Verify looks keys up without
// allocating and never modifies the map; it may be shared (read-only) by
// any number of Verifiers.
type Keys map[string]*Key

// VerifyConfig says what Verify accepts. It is only read.
type VerifyConfig struct {
	// Region is the credential-scope region requests must be signed for.
	Region string
	// Service is the credential-scope service; "" means "s3".
	Service string
	// MaxSkew bounds the request time; 0 means 5 minutes. Header form:
	// |X-Amz-Date - Now| <= MaxSkew. Presigned: X-Amz-Date <= Now+MaxSkew
	// and Now <= X-Amz-Date+X-Amz-Expires.
	MaxSkew time.Duration
	Keys    Keys
	// Resolve, when set, verifies requests that carry a security token
	// (temporary credentials): the token and the access key id go to
	// Resolve instead of a lookup in Keys, and a token presented with an
	// access key of Keys is refused (ErrSecurityToken). Signing keys
	// derived from its secrets bypass the KeyCache (each session has its
	// own secret: caching them would only evict the long-term keys). nil:
	// security tokens are not looked at (a request is verified with Keys
	// whether it carries one or not).
	Resolve Resolver
}

func (c *VerifyConfig) service() string {
	if c.Service == "" {
		return "s3"
	}
	return c.Service
}

func (c *VerifyConfig) maxSkew() time.Duration {
	if c.MaxSkew <= 0 {
		return defaultMaxSkew
	}
	return c.MaxSkew
}

// Input is a received request. Verify only reads it and retains nothing
// beyond the views it puts into Verified.
type Input struct {
	Method []byte
	// Path is the request path as on the wire (percent-encoded), without
	// the query. Empty means "/".
	Path []byte
	// Query is the raw query string without '?'; may be empty.
	Query []byte
	// Headers are ALL request headers as received: any case, any order,
	// repeats allowed (repeats of a signed header are joined with ',' in
	// arrival order).
	Headers []Header
	Now     time.Time
}

// scopeCap bounds the credential scope Verified can hold; a longer scope
// cannot match any sane VerifyConfig and is rejected as malformed.
const scopeCap = 128

// Verified is the result of a successful Verify. Its slices are views into
// the Input (valid as long as the Input's bytes are) except where noted.
// After a failed Verify its contents are unspecified.
type Verified struct {
	// AccessKey is the access key id (view into the Authorization header
	// or the raw query; for a presigned credential whose access key part
	// is percent-encoded, into the Verifier's scratch, valid until the
	// next Verify).
	AccessKey []byte
	Key       *Key
	Presigned bool
	// PayloadHash is, for the header form, the x-amz-content-sha256
	// header value (view, trimmed): a hex digest, UNSIGNED-PAYLOAD or one
	// of the STREAMING-* values. Presigned: the X-Amz-Content-Sha256 query
	// value if present (view into the query, or decoded into the
	// Verifier's scratch and valid until the next Verify if it was
	// percent-encoded), else the literal "UNSIGNED-PAYLOAD" (shared,
	// read-only).
	PayloadHash []byte
	// SigningKey is the derived signing key, needed to verify aws-chunked
	// chunk signatures. It is secret: do not log it.
	SigningKey [32]byte
	// AmzDate is the request time as signed, "20060102T150405Z".
	AmzDate [16]byte
	// Signature is the request (seed) signature, lower-case hex. Do not
	// log it.
	Signature [64]byte

	scope    [scopeCap]byte
	scopeLen uint8
}

// Scope returns the credential scope "date/region/service/aws4_request" as
// signed. The bytes live in v: valid while v is, and not to be modified.
func (v *Verified) Scope() []byte { return v.scope[:v.scopeLen] }

var unsignedPayloadBytes = []byte(unsignedPayload)

// Verifier verifies request signatures. It holds reusable scratch buffers
// and is NOT safe for concurrent use: keep one per event loop or pool
// them. Verifiers (and Signers) may share one *KeyCache.
type Verifier struct {
	s *Signer // canonical query, HMAC, SHA-256 and key cache plumbing

	canon  []byte // canonical request (S3-normalized path)
	sts    []byte // string to sign for canon
	alt    []byte // canonical request with the raw wire path
	altSts []byte
	pbuf   []byte // decoded path
	qdec   []byte // decoded presigned query values
	qv     [qCount]qvalue
	crHex  [64]byte
	sig    [64]byte
	// unsigned is the name of the x-amz-* header that was not signed
	// (view into the Input), after ErrHeadersNotSigned.
	unsigned []byte

	dates amzDateMemo // the last X-Amz-Date parsed
}

// NewVerifier returns a Verifier that looks signing keys up in cache. A nil
// cache gives the Verifier a private cache of DefaultKeyCacheSize entries.
func NewVerifier(cache *KeyCache) *Verifier {
	return &Verifier{
		s:      NewSigner(cache),
		canon:  make([]byte, 0, 1024),
		sts:    make([]byte, 0, 256),
		alt:    make([]byte, 0, 1024),
		altSts: make([]byte, 0, 256),
		pbuf:   make([]byte, 0, 256),
		qdec:   make([]byte, 0, 256),
	}
}

// CanonicalRequest returns the canonical request the last Verify computed
// (with the S3-normalized path), for the S3 SignatureDoesNotMatch error
// body. It is meaningful after ErrSignatureMismatch, empty when Verify
// failed before signing, and valid until the next Verify.
func (v *Verifier) CanonicalRequest() []byte { return v.canon }

// UnsignedHeader returns the name of the x-amz-* header, as received, that
// made the last Verify fail with ErrHeadersNotSigned; nil otherwise. It is
// a view into that Verify's Input: valid as long as the Input's bytes are
// and until the next Verify.
func (v *Verifier) UnsignedHeader() []byte { return v.unsigned }

// StringToSign returns the string to sign matching CanonicalRequest. Valid
// until the next Verify.
func (v *Verifier) StringToSign() []byte { return v.sts }

// authz is what Verify parsed from the Authorization header or the
// presigned query. Slices are views into the Input or v.qdec.
type authz struct {
	presigned     bool
	accessKey     []byte
	scope         []byte // date/region/service/aws4_request
	date          []byte // scope date
	region        []byte
	service       []byte
	signedHeaders []byte
	signature     []byte
	payloadHash   []byte
	amzDate       [16]byte
	t             time.Time
	expires       time.Duration // presigned only
}

// Verify checks the SigV4 signature of in against cfg and, on success,
// fills out and returns nil. On failure it returns one of the Err*
// sentinels (possibly wrapped with a client-safe detail) and out is
// unspecified. It allocates nothing on success once the signing key is
// cached and the Verifier's buffers have grown to the request's size.
//
// Checks, in order: which form (header or presigned, not both); the form's
// syntax and credential scope (algorithm, access key/date/region/service/
// aws4_request, SignedHeaders including host, 64-hex signature, date, and
// for presigned requests X-Amz-Expires <= 7 days); the access key; every
// x-amz-* header signed (ErrHeadersNotSigned); the time window; the
// signature (constant-time compare).
func (v *Verifier) Verify(cfg *VerifyConfig, in *Input, out *Verified) error {
	v.canon = v.canon[:0]
	v.sts = v.sts[:0]
	v.unsigned = nil

	var hdr authHeaders
	hdr.scan(in.Headers)
	nAuth := hdr.n[hAuthorization]
	presigned := v.scanQuery(in.Query)
	switch {
	case nAuth == 0 && !presigned:
		return ErrNoAuth
	case nAuth > 0 && presigned:
		return fmt.Errorf("%w: only one auth mechanism allowed; use either the Authorization header or the X-Amz-* query parameters", ErrMalformed)
	case nAuth > 1:
		return fmt.Errorf("%w: more than one Authorization header", ErrMalformed)
	}

	var a authz
	var err error
	if presigned {
		err = v.parsePresigned(cfg, in, &a)
	} else {
		err = parseHeaderAuth(cfg, &hdr, &a, &v.dates)
	}
	if err != nil {
		return err
	}
	if len(a.scope) > scopeCap {
		return fmt.Errorf("%w: credential scope too long", formErr(a.presigned))
	}

	key, session, err := v.lookupKey(cfg, in, &hdr, &a)
	if err != nil {
		return err
	}
	if name := unsignedAmzHeader(in.Headers, &a); name != nil {
		v.unsigned = name
		return ErrHeadersNotSigned
	}

	skew := cfg.maxSkew()
	if a.presigned {
		if a.t.Sub(in.Now) > skew {
			return fmt.Errorf("%w: X-Amz-Date %s is in the future", ErrSkewed, string(a.amzDate[:]))
		}
		if in.Now.After(a.t.Add(a.expires)) {
			return fmt.Errorf("%w: request has expired", ErrExpired)
		}
	} else if d := a.t.Sub(in.Now); d > skew || d < -skew {
		return fmt.Errorf("%w: the difference between the request time %s and the server's time is larger than %s", ErrSkewed, string(a.amzDate[:]), skew)
	}

	if session {
		v.s.signingKeyUncached(key.Secret, a.date, a.region, a.service)
	} else {
		v.s.signingKey(key.Secret, a.date, a.region, a.service)
	}

	var pathStart, pathEnd int
	v.canon, pathStart, pathEnd = v.appendCanonicalRequest(v.canon[:0], in, &a)
	v.sts = v.appendStringToSign(v.sts[:0], v.canon, &a)
	ok := v.matches(v.sts, a.signature)
	if !ok {
		// Clients that sign the path exactly as they sent it (with escapes
		// S3 would normalize, such as %2F) still verify.
		raw := in.Path
		if len(raw) == 0 {
			raw = slash
		}
		if !bytes.Equal(raw, v.canon[pathStart:pathEnd]) {
			v.alt = append(v.alt[:0], v.canon[:pathStart]...)
			v.alt = append(v.alt, raw...)
			v.alt = append(v.alt, v.canon[pathEnd:]...)
			v.altSts = v.appendStringToSign(v.altSts[:0], v.alt, &a)
			ok = v.matches(v.altSts, a.signature)
		}
	}
	if !ok {
		return ErrSignatureMismatch
	}

	*out = Verified{
		AccessKey:   a.accessKey,
		Key:         key,
		Presigned:   a.presigned,
		PayloadHash: a.payloadHash,
		SigningKey:  v.s.key,
		AmzDate:     a.amzDate,
		Signature:   v.sig,
	}
	out.scopeLen = uint8(copy(out.scope[:], a.scope))
	return nil
}

var slash = []byte("/")

// unsignedAmzHeader returns the name of the first x-amz-* header of hs
// that a's SignedHeaders do not name, or nil. An unsigned
// x-amz-content-sha256 passes when its value is a's payload hash (which
// the canonical request carries): the header form takes the hash from it,
// and a presigned request may repeat UNSIGNED-PAYLOAD or its
// X-Amz-Content-Sha256; x-amz-security-token is a credential (checked by
// lookupKey, dropped before the backend). Any other unsigned x-amz-* header could carry
// what the signer never approved (metadata, tagging, object-lock
// retention, a different payload mode) and is refused, as S3 does.
func unsignedAmzHeader(hs []Header, a *authz) []byte {
	for i := range hs {
		name := hs[i].Name
		if len(name) < len(amzPrefix) || !equalFoldLower(name[:len(amzPrefix)], amzPrefix) {
			continue
		}
		if signedHeader(a.signedHeaders, name) {
			continue
		}
		if equalFoldLower(name, "x-amz-content-sha256") && bytes.Equal(trimOWS(hs[i].Value), a.payloadHash) {
			continue
		}
		if equalFoldLower(name, "x-amz-security-token") {
			continue // a credential, not a request parameter: never forwarded
		}
		return name
	}
	return nil
}

const amzPrefix = "x-amz-"

// signedHeader reports whether the SignedHeaders list sh names name.
// It compares each entry in place (an entry is name when it starts with
// name and ends there), so the list is only cut past entries that differ.
func signedHeader(sh, name []byte) bool {
	for len(sh) >= len(name) {
		if (len(sh) == len(name) || sh[len(name)] == ';') && equalFoldASCII(sh[:len(name)], name) {
			return true
		}
		_, sh, _ = cutByte(sh, ';')
	}
	return false
}

// lookupKey finds the key of the request's access key: through
// cfg.Resolve when the request carries a security token and cfg has a
// resolver (session reports it), else in cfg.Keys.
func (v *Verifier) lookupKey(cfg *VerifyConfig, in *Input, hdr *authHeaders, a *authz) (key *Key, session bool, err error) {
	if cfg.Resolve != nil {
		tok, n := hdr.first[hSecurityToken], hdr.n[hSecurityToken]
		if q := &v.qv[qSecurityToken]; q.n > 0 {
			if n > 0 || q.n > 1 {
				return nil, false, fmt.Errorf("%w: more than one security token", formErr(a.presigned))
			}
			tok, n = v.qparam(qSecurityToken), 1
		}
		switch {
		case n > 1:
			return nil, false, fmt.Errorf("%w: more than one x-amz-security-token header", ErrMalformed)
		case n == 1:
			if cfg.Keys[string(a.accessKey)] != nil {
				return nil, false, fmt.Errorf("%w: a long-term access key takes no security token", ErrSecurityToken)
			}
			key, err := cfg.Resolve(a.accessKey, tok, in.Now)
			if err != nil {
				return nil, false, fmt.Errorf("%w: %w", ErrSecurityToken, err)
			}
			if key == nil {
				return nil, false, ErrSecurityToken
			}
			return key, true, nil
		}
	}
	key = cfg.Keys[string(a.accessKey)]
	if key == nil {
		return nil, false, fmt.Errorf("%w: the access key id %s does not exist", ErrUnknownAccessKey, quoteSafe(a.accessKey))
	}
	return key, false, nil
}

// appendCanonicalRequest appends the canonical request the client should
// have signed and returns where the canonical URI sits in it.
func (v *Verifier) appendCanonicalRequest(dst []byte, in *Input, a *authz) (out []byte, pathStart, pathEnd int) {
	dst = append(dst, in.Method...)
	dst = append(dst, '\n')
	pathStart = len(dst)
	if len(in.Path) == 0 {
		dst = append(dst, '/')
	} else {
		v.pbuf = appendPathUnescape(v.pbuf[:0], in.Path)
		dst = AppendURIEncode(dst, v.pbuf, false)
	}
	pathEnd = len(dst)
	dst = append(dst, '\n')
	skip := ""
	if a.presigned {
		skip = "X-Amz-Signature"
	}
	dst = v.s.appendCanonicalQuery(dst, in.Query, skip)
	dst = append(dst, '\n')

	for sh := a.signedHeaders; len(sh) > 0; {
		var name []byte
		name, sh, _ = cutByte(sh, ';')
		dst = append(dst, name...)
		dst = append(dst, ':')
		first := true
		for i := range in.Headers {
			if !equalFoldASCII(in.Headers[i].Name, name) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendHeaderValue(dst, in.Headers[i].Value)
		}
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	dst = append(dst, a.signedHeaders...)
	dst = append(dst, '\n')
	dst = append(dst, a.payloadHash...)
	return dst, pathStart, pathEnd
}

// appendStringToSign appends the string to sign for the canonical request
// canon.
func (v *Verifier) appendStringToSign(dst, canon []byte, a *authz) []byte {
	s := v.s
	s.crh.Reset()
	s.crh.Write(canon)
	AppendHex(v.crHex[:0], s.crh.Sum(s.sum[:0]))
	dst = append(dst, Algorithm+"\n"...)
	dst = append(dst, a.amzDate[:]...)
	dst = append(dst, '\n')
	dst = append(dst, a.scope...)
	dst = append(dst, '\n')
	return append(dst, v.crHex[:]...)
}

// matches signs sts with the signing key in v.s.key into v.sig and
// compares it with the client's signature in constant time.
func (v *Verifier) matches(sts, signature []byte) bool {
	s := v.s
	AppendHex(v.sig[:0], s.mac.sumSigning(s.sum[:0], &s.key, sts))
	return equalSignature(&v.sig, signature)
}

func formErr(presigned bool) error {
	if presigned {
		return ErrQueryMalformed
	}
	return ErrMalformed
}

// equalSignature compares a 64-byte hex signature with sig in constant
// time, eight bytes at a time (crypto/subtle.ConstantTimeCompare goes byte
// by byte).
func equalSignature(want *[64]byte, sig []byte) bool {
	if len(sig) != len(want) {
		return false
	}
	sig = sig[:len(want)]
	var diff uint64
	for i := 0; i < len(want); i += 8 {
		diff |= binary.LittleEndian.Uint64(want[i:]) ^ binary.LittleEndian.Uint64(sig[i:])
	}
	return diff == 0
}
