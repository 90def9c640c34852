package sigv4

import (
	"bytes"
	"crypto/sha256"
	"hash"
)

// Algorithm is the SigV4 algorithm name that starts the string to sign and
// the Authorization header value.
const Algorithm = "AWS4-HMAC-SHA256"

// Credentials are the keys a request is signed with.
//
// SessionToken is not added to the request by the signer: when it is set,
// the caller puts an x-amz-security-token header with it into
// Request.Headers (and onto the wire), exactly as it does for x-amz-date.
type Credentials struct{ AccessKey, SecretKey, SessionToken string }

// Header is one header to sign. Name should be lower-case (the signer
// lower-cases ASCII letters in its output and sorts case-insensitively, so
// other casings still sign correctly). Value is used as it will appear on
// the wire; the canonical form trims leading and trailing white space and
// collapses inner runs of spaces to one, as the AWS SDKs do.
type Header struct{ Name, Value []byte }

// Request is what gets signed. All slices are borrowed for the duration of
// a call only; nothing is retained and nothing is modified.
type Request struct {
	Method []byte
	// Path is the canonical URI, already URI-encoded exactly as it will
	// appear on the wire, and used verbatim (S3 signs without path
	// normalization and without a second round of encoding). Empty means "/".
	// Build it with AppendURIEncode(dst, key, false).
	Path []byte
	// Query is the raw query string as it appears on the wire, without '?'.
	// The signer canonicalizes it: it splits on '&' (dropping empty
	// segments), decodes each name and value as net/url does ('+' is a
	// space, %XX a byte; a '%' without two hex digits is literal),
	// re-encodes them with AppendURIEncode(encodeSlash=true) and sorts by
	// name, then value. "a" without '=' has the empty value.
	Query []byte
	// Headers are the headers to sign, in any order: host, x-amz-date,
	// x-amz-content-sha256 and, with a session token, x-amz-security-token
	// must be among them. Repeated names are joined with ',' in the order
	// given. The caller's slice is not reordered.
	Headers []Header
	// PayloadHash is the hex SHA-256 of the body or one of S3's special
	// values ("UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", ...).
	PayloadHash []byte
	// AmzDate is the signing time, "20060102T150405Z" (see AppendAmzDate).
	// Its first 8 bytes are the credential scope date.
	AmzDate []byte
	Region  string
	// Service is the signing service name; "" means "s3".
	Service string
}

func (r *Request) service() string {
	if r.Service == "" {
		return "s3"
	}
	return r.Service
}

func (r *Request) scopeDate() []byte {
	if len(r.AmzDate) < 8 {
		return r.AmzDate
	}
	return r.AmzDate[:8]
}

// Signer signs requests. It holds reusable scratch buffers and is NOT safe
// for concurrent use: keep one per goroutine or pool them. Signers may share
// one *KeyCache, which is safe for concurrent use.
type Signer struct {
	cache *KeyCache

	mac mac
	crh hash.Hash // canonical request hash

	canon  []byte   // canonical request
	sts    []byte   // string to sign
	qbuf   []byte   // encoded query names and values
	qp     []qparam // views into qbuf
	hidx   []int    // sort order of Request.Headers
	hname  []int    // canonical names in the canonical request: offset, length
	ckey   []byte   // cache lookup key
	secret []byte   // "AWS4"+secret during key derivation
	key    [32]byte // signing key
	sum    [32]byte // digest scratch
	sig    [64]byte // hex signature
	crHex  [64]byte // hex canonical request hash

	// last is the tuple s.key was last loaded for by signingKey, so that
	// a run of requests with one credential skips the KeyCache (its lock
	// is shared by every Signer). lastSecret refers to the caller's secret
	// string; it makes no copy of it.
	lastOK      bool
	lastSecret  string
	lastDate    []byte
	lastRegion  []byte
	lastService []byte
}

// NewSigner returns a Signer that looks signing keys up in cache. A nil
// cache gives the Signer a private cache of DefaultKeyCacheSize entries.
func NewSigner(cache *KeyCache) *Signer {
	if cache == nil {
		cache = NewKeyCache(0)
	}
	return &Signer{
		cache: cache,
		mac:   newMAC(),
		crh:   sha256.New(),
		canon: make([]byte, 0, 1024),
		sts:   make([]byte, 0, 256),
		qbuf:  make([]byte, 0, 256),
		qp:    make([]qparam, 0, 16),
		hidx:  make([]int, 0, 32),
		hname: make([]int, 0, 64),
		ckey:  make([]byte, 0, 128),
	}
}

// AppendAuthorization signs r with c and appends the value of the
// Authorization header to dst:
//
//	AWS4-HMAC-SHA256 Credential=AK/20060102/region/s3/aws4_request, SignedHeaders=a;b;c, Signature=hex
//
// It allocates nothing once the Signer's buffers have grown to the request
// size and the signing key is cached.
func (s *Signer) AppendAuthorization(dst []byte, c *Credentials, r *Request) []byte {
	signedHeaders, scope := s.sign(c, r)
	dst = append(dst, Algorithm+" Credential="...)
	dst = append(dst, c.AccessKey...)
	dst = append(dst, '/')
	dst = append(dst, scope...)
	dst = append(dst, ", SignedHeaders="...)
	dst = append(dst, signedHeaders...)
	dst = append(dst, ", Signature="...)
	return append(dst, s.sig[:]...)
}

// AppendSignature signs r with c and appends the 64-byte lower-case hex
// signature to dst.
func (s *Signer) AppendSignature(dst []byte, c *Credentials, r *Request) []byte {
	s.sign(c, r)
	return append(dst, s.sig[:]...)
}

// AppendStringToSign appends the SigV4 string to sign for r to dst:
// algorithm, AmzDate, credential scope and canonicalRequestHash (hex), one
// per line, without a trailing newline.
func (s *Signer) AppendStringToSign(dst []byte, r *Request, canonicalRequestHash []byte) []byte {
	dst = append(dst, Algorithm+"\n"...)
	dst = append(dst, r.AmzDate...)
	dst = append(dst, '\n')
	dst = AppendCredentialScope(dst, r.scopeDate(), r.Region, r.service())
	dst = append(dst, '\n')
	return append(dst, canonicalRequestHash...)
}

// AppendCredentialScope appends "date/region/service/aws4_request" to dst.
func AppendCredentialScope(dst, date []byte, region, service string) []byte {
	dst = append(dst, date...)
	dst = append(dst, '/')
	dst = append(dst, region...)
	dst = append(dst, '/')
	dst = append(dst, service...)
	return append(dst, "/aws4_request"...)
}

// sign computes the signature of r into s.sig. The returned signed headers
// list and credential scope point into the Signer's buffers and stay valid
// until the next call on s.
func (s *Signer) sign(c *Credentials, r *Request) (signedHeaders, scope []byte) {
	var shStart, shEnd int
	s.canon, shStart, shEnd = s.appendCanonicalRequest(s.canon[:0], r)

	s.crh.Reset()
	s.crh.Write(s.canon)
	AppendHex(s.crHex[:0], s.crh.Sum(s.sum[:0]))

	s.sts = s.AppendStringToSign(s.sts[:0], r, s.crHex[:])
	scopeStart := len(Algorithm) + 1 + len(r.AmzDate) + 1
	scopeEnd := len(s.sts) - len(s.crHex) - 1
	scope = s.sts[scopeStart:scopeEnd]

	date := scope[:len(r.scopeDate())]
	region := scope[len(date)+1 : len(date)+1+len(r.Region)]
	svc := scope[len(date)+1+len(region)+1 : len(scope)-len("/aws4_request")]
	s.signingKey(c.SecretKey, date, region, svc)

	AppendHex(s.sig[:0], s.mac.sumSigning(s.sum[:0], &s.key, s.sts))
	return s.canon[shStart:shEnd], scope
}

// signingKey loads the signing key for the tuple into s.key, deriving and
// caching it on a miss.
func (s *Signer) signingKey(secret string, date, region, service []byte) {
	if s.lastOK && secret == s.lastSecret && bytes.Equal(date, s.lastDate) &&
		bytes.Equal(region, s.lastRegion) && bytes.Equal(service, s.lastService) {
		return // s.key holds it
	}
	s.lastOK = true
	s.lastSecret = secret
	s.lastDate = append(s.lastDate[:0], date...)
	s.lastRegion = append(s.lastRegion[:0], region...)
	s.lastService = append(s.lastService[:0], service...)
	s.ckey = appendCacheKey(s.ckey[:0], secret, date, region, service)
	if !s.cache.get(s.ckey, &s.key) {
		s.secret = s.mac.deriveKey(&s.key, s.secret, secret, date, region, service)
		s.cache.put(s.ckey, &s.key)
	}
	clear(s.ckey) // it holds the secret
}

// signingKeyUncached derives the signing key into s.key without the
// KeyCache: for temporary credentials, whose secrets would only churn it.
func (s *Signer) signingKeyUncached(secret string, date, region, service []byte) {
	s.lastOK = false // s.key no longer holds the last cached tuple's key
	s.secret = s.mac.deriveKey(&s.key, s.secret, secret, date, region, service)
}
