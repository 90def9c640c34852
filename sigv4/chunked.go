package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"hash"
)

// Errors returned by ChunkDecoder. Once Decode has returned one, every
// later call returns it again until the next Init.
var (
	// ErrChunkMalformed reports bad aws-chunked framing: a bad or overlong
	// hex size, a missing ";chunk-signature=", a missing CRLF, a line longer
	// than 4 KiB, an unexpected trailer or bytes after the end of the body.
	ErrChunkMalformed = errors.New("sigv4: malformed aws-chunked body")
	// ErrChunkSignature reports a chunk or trailer signature that does not
	// match.
	ErrChunkSignature = errors.New("sigv4: chunk signature does not match")
	// ErrDecodedLength reports a decoded body whose length differs from
	// x-amz-decoded-content-length.
	ErrDecodedLength = errors.New("sigv4: decoded length does not match x-amz-decoded-content-length")
	// ErrChecksumMismatch reports a trailer checksum that does not match
	// the decoded bytes or is not the base64 of a digest.
	ErrChecksumMismatch = errors.New("sigv4: trailer checksum does not match")
	// ErrChunkedUnsupported reports a trailer checksum algorithm the
	// decoder cannot compute.
	ErrChunkedUnsupported = errors.New("sigv4: unsupported aws-chunked trailer checksum")
)

const (
	chunkPayloadAlgorithm = "AWS4-HMAC-SHA256-PAYLOAD"
	chunkTrailerAlgorithm = "AWS4-HMAC-SHA256-TRAILER"
	chunkSignatureExt     = ";chunk-signature="
	trailerSignatureName  = "x-amz-trailer-signature"
	emptySHA256Hex        = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// maxChunkLine bounds a chunk header or trailer line, CRLF included.
	maxChunkLine = 4 << 10
	// maxChunkSizeDigits bounds the hex chunk size (leading zeros count).
	maxChunkSizeDigits = 16
)

// Decoder states.
const (
	chunkHeader  uint8 = iota // reading "<hex>;chunk-signature=<sig>\r\n"
	chunkData                 // reading d.left bytes of chunk data
	chunkDataCR               // expecting the CRLF that ends chunk data
	chunkDataLF               //
	chunkTrailer              // reading trailer lines up to x-amz-trailer-signature
	chunkEndCR                // expecting the CRLF that ends the body
	chunkEndLF                //
	chunkDone                 // the body ended and everything was verified
)

// ChunkDecoder decodes and verifies an aws-chunked body signed with
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD or
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, incrementally: the body may
// arrive split at any byte. The zero value is ready for Init. A
// ChunkDecoder is NOT safe for concurrent use; it is reusable via Init and
// then allocates nothing.
//
// The body is a sequence of chunks
//
//	<hex size>;chunk-signature=<64 hex>\r\n<data>\r\n
//
// ending with a chunk of size 0. Each signature is the hex
// HMAC-SHA256(signing key, string to sign) of
//
//	AWS4-HMAC-SHA256-PAYLOAD\n<amzDate>\n<scope>\n<previous signature>\n<hex sha256("")>\n<hex sha256(data)>
//
// where the previous signature of the first chunk is the seed (the
// request's own signature). The plain variant ends with "\r\n" after the
// final chunk header. The -TRAILER variant follows it with the trailer
//
//	<checksum name>:<base64 value>\r\n
//	x-amz-trailer-signature:<64 hex>\r\n
//	\r\n
//
// signed as
//
//	AWS4-HMAC-SHA256-TRAILER\n<amzDate>\n<scope>\n<final chunk signature>\n<hex sha256("<checksum name>:<value>\n")>
//
// A trailer header line may also end in "\n\r\n" (minio-go's signer writes
// it so): empty lines before x-amz-trailer-signature are skipped. The
// header name is matched ASCII case-insensitively and hashed in lower
// case; spaces and tabs around the value are not part of it.
type ChunkDecoder struct {
	mac  mac
	body hash.Hash // SHA-256 of the current chunk's data or of the trailer
	ck   checksum  // trailer checksum of the decoded bytes

	key   [sha256.Size]byte
	ctx   []byte   // amzDate "\n" scope "\n"
	prev  [64]byte // previous signature, hex
	got   [64]byte // signature received for the current chunk, hex
	want  [64]byte // signature computed for the current chunk, hex
	tmp   [sha256.Size]byte
	sts   []byte // string to sign, canonical trailer line
	ckExp []byte // expected checksum value, base64

	ckName  []byte // announced checksum header name, lower case
	ckValue []byte // checksum value received in the trailer
	ckSeen  bool

	line    [maxChunkLine]byte // a line split across Decode calls
	lineLen int

	state         uint8
	trailer       bool
	left          uint64 // data bytes left in the current chunk
	decoded       int64
	decodedLength int64
	err           error
	noVerify      bool // InitUnverified: signatures are not checked
	unsigned      bool // InitUnsigned: chunks carry no signatures at all
}

// Init prepares d for one body. signingKey is the request's derived SigV4
// key, amzDate its "20060102T150405Z" time, scope its
// "date/region/service/aws4_request" credential scope and seed its 64-hex
// signature. decodedLength is x-amz-decoded-content-length: the decoded
// total must equal it (a negative value is rejected with
// ErrDecodedLength). trailer reports the -TRAILER variant; checksumName is
// the lower-case trailer header the client announced in x-amz-trailer (for
// example "x-amz-checksum-crc32"), nil when none; it is ignored without
// trailer. Init copies what it keeps. It returns ErrChunkedUnsupported for
// a checksum name it cannot compute (x-amz-checksum-crc32, -crc32c,
// -crc64nvme, -sha1 and -sha256 are supported) and ErrChunkSignature for a
// seed that is not 64 bytes long.
func (d *ChunkDecoder) Init(signingKey *[32]byte, amzDate, scope, seed []byte, decodedLength int64, trailer bool, checksumName []byte) error {
	if d.body == nil {
		d.mac = newMAC()
		d.body = sha256.New()
	}
	d.body.Reset()
	d.key = *signingKey
	d.ctx = append(append(append(append(d.ctx[:0], amzDate...), '\n'), scope...), '\n')
	d.sts = d.sts[:0]
	d.ckExp = d.ckExp[:0]
	d.ckName = d.ckName[:0]
	d.ckValue = d.ckValue[:0]
	d.ckSeen = false
	d.lineLen = 0
	d.state = chunkHeader
	d.trailer = trailer
	d.left = 0
	d.decoded = 0
	d.decodedLength = decodedLength
	d.err = nil
	d.noVerify = false
	d.unsigned = false
	d.ck.reset(checksumNone)

	if len(seed) != len(d.prev) {
		d.err = ErrChunkSignature
		return d.err
	}
	for i, c := range seed {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		d.prev[i] = c
	}
	if decodedLength < 0 {
		d.err = ErrDecodedLength
		return d.err
	}
	if trailer && checksumName != nil {
		kind := checksumKindOf(checksumName)
		if kind == checksumNone {
			d.err = ErrChunkedUnsupported
			return d.err
		}
		d.ck.reset(kind)
		d.ckName = append(d.ckName, checksumNames[kind]...)
	}
	return nil
}

// InitUnverified prepares d for a body whose chunk signatures cannot be
// checked because the client's secret is unknown (a route without SigV4
// authentication). Framing, the decoded length and the trailer checksum
// are still checked; chunk and trailer signatures are parsed but not
// verified (they must still be 64 lower-case hex, ErrChunkMalformed
// otherwise). Callers must label such bodies as unverified.
func (d *ChunkDecoder) InitUnverified(decodedLength int64, trailer bool, checksumName []byte) error {
	var key [32]byte
	var seed [64]byte
	for i := range seed {
		seed[i] = '0'
	}
	err := d.Init(&key, nil, nil, seed[:], decodedLength, trailer, checksumName)
	d.noVerify = true
	return err
}

// InitUnsigned prepares d for an aws-chunked body without chunk signatures
// (x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER): chunk lines
// are "<hex size>[;extensions]\r\n" (extensions without control
// characters other than HTAB) and the trailer, when present, ends
// with an empty line instead of x-amz-trailer-signature. The decoded
// length and the trailer checksum are checked.
func (d *ChunkDecoder) InitUnsigned(decodedLength int64, trailer bool, checksumName []byte) error {
	err := d.InitUnverified(decodedLength, trailer, checksumName)
	d.unsigned = true
	return err
}

// Decode consumes encoded bytes from src and appends the decoded payload
// bytes to dst, returning the extended slice and the number of bytes of
// src consumed. It consumes all of src unless it returns an error or the
// body ended; then n counts the bytes up to the error or the end, and the
// bytes after the end are the caller's (calling Decode again with more of
// them is ErrChunkMalformed). Input may be split at any byte boundary
// across calls.
//
// A chunk's data is appended as it arrives, before its signature can be
// checked at the chunk's end: callers that must not commit unverified data
// hold back bytes until Done. src is only read during the call.
func (d *ChunkDecoder) Decode(dst, src []byte) (out []byte, n int, err error) {
	if d.err != nil {
		return dst, 0, d.err
	}
	if d.body == nil {
		d.err = ErrChunkMalformed // Decode before Init
		return dst, 0, d.err
	}
	for n < len(src) {
		switch d.state {
		case chunkHeader, chunkTrailer:
			line, m, err := d.readLine(src[n:])
			n += m
			if err == nil && line != nil {
				if d.state == chunkHeader {
					err = d.chunkHeaderLine(line)
				} else {
					err = d.trailerLine(line)
				}
			}
			if err != nil {
				d.err = err
				return dst, n, err
			}
			if d.state == chunkDone {
				return dst, n, nil // an unsigned trailer ended
			}
		case chunkData:
			p := src[n:]
			if uint64(len(p)) > d.left {
				p = p[:d.left]
			}
			if !d.noVerify {
				d.body.Write(p)
			}
			if d.trailer {
				d.ck.write(p)
			}
			dst = append(dst, p...)
			n += len(p)
			d.left -= uint64(len(p))
			d.decoded += int64(len(p))
			if d.left == 0 {
				if err := d.verify(chunkPayloadAlgorithm); err != nil {
					d.err = err
					return dst, n, err
				}
				d.state = chunkDataCR
			}
		case chunkDataCR, chunkEndCR:
			if src[n] != '\r' {
				d.err = ErrChunkMalformed
				return dst, n, d.err
			}
			n++
			d.state++
		case chunkDataLF, chunkEndLF:
			if src[n] != '\n' {
				d.err = ErrChunkMalformed
				return dst, n, d.err
			}
			n++
			if d.state == chunkEndLF {
				d.state = chunkDone
				return dst, n, nil
			}
			d.state = chunkHeader
		default: // chunkDone
			d.err = ErrChunkMalformed
			return dst, n, d.err
		}
	}
	return dst, n, nil
}

// Done reports that the final chunk, the trailer (if any) and its
// signature were verified, the decoded length matched and the trailer
// checksum matched the decoded bytes.
func (d *ChunkDecoder) Done() bool { return d.state == chunkDone && d.err == nil }

// Checksum returns the trailer checksum header name (lower case) and its
// base64 value once Done, or nils without a trailer checksum or before
// Done. The views are valid until the next Init.
func (d *ChunkDecoder) Checksum() (name, value []byte) {
	if !d.Done() || !d.ckSeen {
		return nil, nil
	}
	return d.ckName, d.ckValue
}

// readLine returns the next line of p including its '\n', or nil when p
// ends before it (the bytes are then kept in d.line); m counts the bytes
// of p consumed. The line is a view into p or d.line, valid until the
// next call.
func (d *ChunkDecoder) readLine(p []byte) (line []byte, m int, err error) {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		if d.lineLen+len(p) >= maxChunkLine {
			return nil, len(p), ErrChunkMalformed
		}
		d.lineLen += copy(d.line[d.lineLen:], p)
		return nil, len(p), nil
	}
	m = i + 1
	if d.lineLen+m > maxChunkLine {
		return nil, m, ErrChunkMalformed
	}
	if d.lineLen == 0 {
		return p[:m], m, nil
	}
	n := d.lineLen + copy(d.line[d.lineLen:], p[:m])
	d.lineLen = 0
	return d.line[:n], m, nil
}

// chunkHeaderLine parses "<hex size>;chunk-signature=<64 hex>\r\n".
func (d *ChunkDecoder) chunkHeaderLine(line []byte) error {
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return ErrChunkMalformed
	}
	line = line[:len(line)-2]
	var size uint64
	i := 0
	for ; i < len(line) && line[i] != ';'; i++ {
		v, ok := unhex(line[i])
		if !ok || i == maxChunkSizeDigits {
			return ErrChunkMalformed
		}
		size = size<<4 | uint64(v)
	}
	ext := line[i:]
	switch {
	case i == 0:
		return ErrChunkMalformed
	case d.unsigned:
		// Chunk extensions, if any, carry nothing we check, but hold no
		// control characters (as httpparse's chunk lines).
		if !plainExtensions(ext) {
			return ErrChunkMalformed
		}
	case len(ext) != len(chunkSignatureExt)+len(d.got) || string(ext[:len(chunkSignatureExt)]) != chunkSignatureExt:
		return ErrChunkMalformed
	case d.noVerify && !lowerHex(ext[len(chunkSignatureExt):]):
		// Not compared, so judged by its form: what a signer writes.
		return ErrChunkMalformed
	default:
		copy(d.got[:], ext[len(chunkSignatureExt):])
	}
	if size > uint64(d.decodedLength-d.decoded) {
		return ErrDecodedLength
	}
	d.body.Reset()
	d.left = size
	if size > 0 {
		d.state = chunkData
		return nil
	}
	// The final chunk.
	if err := d.verify(chunkPayloadAlgorithm); err != nil {
		return err
	}
	if d.decoded != d.decodedLength {
		return ErrDecodedLength
	}
	if d.trailer {
		d.body.Reset()
		d.state = chunkTrailer
	} else {
		d.state = chunkEndCR
	}
	return nil
}

// trailerLine handles one line after the final chunk of the -TRAILER
// variant: the checksum header, x-amz-trailer-signature, or an empty line.
func (d *ChunkDecoder) trailerLine(line []byte) error {
	line = line[:len(line)-1]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) == 0 {
		if d.unsigned {
			// The empty line ends an unsigned trailer.
			if err := d.checkTrailerChecksum(); err != nil {
				return err
			}
			d.state = chunkDone
		}
		return nil
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return ErrChunkMalformed
	}
	name, value := line[:colon], trimSpaceTab(line[colon+1:])

	if bytes.EqualFold(name, []byte(trailerSignatureName)) {
		if len(value) != len(d.got) || d.noVerify && !lowerHex(value) {
			return ErrChunkMalformed
		}
		copy(d.got[:], value)
		if d.unsigned {
			return ErrChunkMalformed
		}
		if err := d.verify(chunkTrailerAlgorithm); err != nil {
			return err
		}
		if err := d.checkTrailerChecksum(); err != nil {
			return err
		}
		d.state = chunkEndCR
		return nil
	}

	if d.ck.kind == checksumNone || d.ckSeen || !bytes.EqualFold(name, d.ckName) {
		return ErrChunkMalformed // not announced, or repeated
	}
	d.ckSeen = true
	d.ckValue = append(d.ckValue[:0], value...)
	d.sts = append(append(append(append(d.sts[:0], d.ckName...), ':'), value...), '\n')
	d.body.Write(d.sts)
	return nil
}

// checkTrailerChecksum compares the announced trailer checksum with the
// decoded bytes.
func (d *ChunkDecoder) checkTrailerChecksum() error {
	if d.ck.kind == checksumNone {
		return nil
	}
	if !d.ckSeen {
		return ErrChunkMalformed // the announced trailer is missing
	}
	d.ckExp = d.ck.appendBase64(d.ckExp[:0])
	if !bytes.Equal(d.ckExp, d.ckValue) {
		return ErrChecksumMismatch
	}
	return nil
}

// verify computes the signature of the data hashed into d.body for
// algorithm (chunkPayloadAlgorithm or chunkTrailerAlgorithm), compares it
// with d.got and, on a match, chains it into d.prev.
func (d *ChunkDecoder) verify(algorithm string) error {
	if d.noVerify {
		return nil
	}
	d.sts = append(append(d.sts[:0], algorithm...), '\n')
	d.sts = append(d.sts, d.ctx...)
	d.sts = append(append(d.sts, d.prev[:]...), '\n')
	if algorithm == chunkPayloadAlgorithm {
		d.sts = append(d.sts, emptySHA256Hex+"\n"...)
	}
	d.sts = AppendHex(d.sts, d.body.Sum(d.tmp[:0]))
	AppendHex(d.want[:0], d.mac.sumSigning(d.tmp[:0], &d.key, d.sts))
	if !hmac.Equal(d.want[:], d.got[:]) {
		return ErrChunkSignature
	}
	d.prev = d.want
	return nil
}

// trimSpaceTab trims spaces and tabs from both ends of b.
func trimSpaceTab(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// DeriveSigningKey computes the SigV4 signing key
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")
// into key, for tests and callers without a Signer's key cache. date is
// YYYYMMDD. It allocates.
func DeriveSigningKey(key *[32]byte, secret string, date, region, service []byte) {
	m := newMAC()
	m.deriveKey(key, nil, secret, date, region, service)
}
