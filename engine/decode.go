package engine

import (
	"errors"
	"time"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/pipes"
	"github.com/mizuchi-gw/mizuchi/sigv4"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// aws-chunked bodies the gateway decodes go through user space: signed ones
// (x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) have
// every chunk signature (made with the client's secret) verified here, or
// only their framing on an anonymous route; unsigned ones with a trailer
// arrive with Transfer-Encoding: chunked, whose layer is removed first.
// The decoded payload is sent to the backend as UNSIGNED-PAYLOAD with
// Content-Length = x-amz-decoded-content-length, and any trailer checksum is
// checked here. The bytes count as the copy path in
// mizuchi_body_bytes_total.

var (
	errChunkSignature = &s3Error{"SignatureDoesNotMatch", 403, "The chunk signature we calculated does not match the signature you provided."}
	errChunkMalformed = &s3Error{"IncompleteBody", 400, "The aws-chunked body is malformed or incomplete."}
	errDecodedLength  = &s3Error{"IncompleteBody", 400, "The decoded body length does not match x-amz-decoded-content-length."}
	errTrailerDigest  = &s3Error{"BadDigest", 400, "The checksum in the trailer did not match the uploaded data."}
	errTrailerKind    = &s3Error{"InvalidRequest", 400, "The x-amz-trailer checksum algorithm is not supported."}
)

// initDecoder prepares ex.dec from the verified request.
func (ex *exchange) initDecoder() error {
	ex.te.Reset()
	ex.ckName = ex.ckName[:0]
	if ex.trailer {
		for _, c := range ex.req.Header("x-amz-trailer") {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != ' ' && c != '\t' {
				ex.ckName = append(ex.ckName, c)
			}
		}
	}
	var name []byte
	if len(ex.ckName) > 0 {
		name = ex.ckName
	}
	if ex.unsigned {
		return ex.dec.InitUnsigned(ex.decodedLen, ex.trailer, name)
	}
	if ex.unverified {
		return ex.dec.InitUnverified(ex.decodedLen, ex.trailer, name)
	}
	v := &ex.verified
	return ex.dec.Init(&v.SigningKey, v.AmzDate[:], v.Scope(), v.Signature[:], ex.decodedLen, ex.trailer, name)
}

func isDecodeError(err error) bool {
	return errors.Is(err, httpparse.ErrBadChunk) || errors.Is(err, sigv4.ErrChunkSignature) || errors.Is(err, sigv4.ErrChunkMalformed) ||
		errors.Is(err, sigv4.ErrDecodedLength) || errors.Is(err, sigv4.ErrChecksumMismatch) ||
		errors.Is(err, sigv4.ErrChunkedUnsupported)
}

// failDecode answers a body that failed decoding or verification.
func (ex *exchange) failDecode(err error) int {
	e := errChunkMalformed
	switch {
	case errors.Is(err, sigv4.ErrChunkSignature):
		e = errChunkSignature
		chunkFailures.Inc()
	case errors.Is(err, sigv4.ErrDecodedLength):
		e = errDecodedLength
	case errors.Is(err, sigv4.ErrChecksumMismatch):
		e = errTrailerDigest
	case errors.Is(err, sigv4.ErrChunkedUnsupported):
		e = errTrailerKind
	}
	return ex.fail(e, "aws-chunked body refused", err)
}

// decodeAll decodes a complete buffered aws-chunked body into ex.decBuf.
func (ex *exchange) decodeAll(body []byte) ([]byte, error) {
	out, n, err := ex.dec.Decode(ex.decBuf[:0], body)
	ex.decBuf = out
	if err != nil {
		return nil, err
	}
	if n != len(body) || !ex.dec.Done() {
		return nil, sigv4.ErrChunkMalformed
	}
	return out, nil
}

// pumpDecoded decodes and verifies the aws-chunked body (pre, the bytes
// already read, then remaining bytes from tcp) and writes the payload to
// up.
//
// Invariant: the last decoded byte is held back until the decoder is Done
// (every chunk and the trailer verified, lengths and checksum matched), so
// the backend never receives a complete body that failed verification; on
// failure the caller resets the backend request.
//
// bufp is the copy buffer from takeBodyBuf.
//
// Errors: a decode error (see isDecodeError), or *pipes.SideError for the
// client (Src) or the backend failing.
func (ex *exchange) pumpDecoded(tcp clientConn, up *upstream.Conn, pre []byte, remaining int64, bufp *[]byte) error {
	s := ex.s
	in := *bufp
	var held [1]byte
	hasHeld := false

	write := func(dec []byte) error {
		if len(dec) == 0 {
			return nil
		}
		if ex.rechunk {
			// The trailer is held back instead of the last byte.
			ex.rcBuf = ex.rc.frame(ex.rcBuf[:0], dec)
			_ = up.SetWriteDeadline(time.Now().Add(s.tun().BodyTimeout))
			n, err := up.Write(ex.rcBuf)
			bytesCopied.Add(n)
			if err != nil {
				return &pipes.SideError{Src: false, Err: err}
			}
			return nil
		}
		ex.iov = ex.iov[:0]
		if hasHeld {
			ex.iov = append(ex.iov, held[:])
		}
		ex.iov = append(ex.iov, dec[:len(dec)-1])
		iov := ex.iov
		_ = up.SetWriteDeadline(time.Now().Add(s.tun().BodyTimeout))
		n, err := iov.WriteTo(up)
		bytesCopied.Add(int(n))
		held[0], hasHeld = dec[len(dec)-1], true
		if err != nil {
			return &pipes.SideError{Src: false, Err: err}
		}
		return nil
	}
	feedAWS := func(src []byte) error {
		for len(src) > 0 {
			if ex.dec.Done() {
				return sigv4.ErrChunkMalformed // bytes after the final chunk
			}
			out, n, err := ex.dec.Decode(ex.decBuf[:0], src)
			ex.decBuf = out
			if err != nil {
				return err
			}
			if werr := write(out); werr != nil {
				return werr
			}
			src = src[n:]
		}
		return nil
	}
	feed := feedAWS
	if ex.teChunked {
		// Transfer-Encoding: chunked around the aws-chunked body. Bytes
		// after its end belong to a pipelined request, which cannot be
		// handed back to gnet: the connection closes after the reply.
		feed = func(src []byte) error {
			if ex.te.Done() {
				if len(src) > 0 {
					ex.close = true
				}
				return nil
			}
			out, n, err := ex.te.Decode(ex.teBuf[:0], src)
			ex.teBuf = out
			if err != nil {
				return err
			}
			if n < len(src) {
				ex.close = true
			}
			return feedAWS(out)
		}
	}
	done := func() bool {
		if ex.teChunked {
			return ex.te.Done()
		}
		return remaining <= 0
	}

	if err := feed(pre); err != nil {
		return err
	}
	for !done() {
		want := int64(len(in))
		if !ex.teChunked {
			want = min(want, remaining)
		}
		_ = tcp.SetReadDeadline(time.Now().Add(s.tun().BodyTimeout))
		m, err := tcp.Read(in[:want])
		if !ex.teChunked {
			remaining -= int64(m)
		}
		if m > 0 {
			if ferr := feed(in[:m]); ferr != nil {
				return ferr
			}
		}
		if err != nil && !done() {
			return &pipes.SideError{Src: true, Err: err}
		}
	}
	if !ex.dec.Done() {
		return sigv4.ErrChunkMalformed
	}
	if ex.rechunk {
		name, value := ex.dec.Checksum()
		ex.rcBuf = ex.rc.finish(ex.rcBuf[:0], name, value)
		_ = up.SetWriteDeadline(time.Now().Add(s.tun().BodyTimeout))
		if _, err := up.Write(ex.rcBuf); err != nil {
			return &pipes.SideError{Src: false, Err: err}
		}
	}
	if hasHeld {
		_ = up.SetWriteDeadline(time.Now().Add(s.tun().BodyTimeout))
		if _, err := up.Write(held[:]); err != nil {
			return &pipes.SideError{Src: false, Err: err}
		}
		bytesCopied.Add(1)
	}
	return nil
}
