package s3sink

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/mizuchi-gw/mizuchi/bench/internal/h1"
)

var errBadRequest = errors.New("s3sink: bad request")

const maxHeaders = 128

// request is one parsed request head. Its byte slices are owned copies, reused
// across requests on the same connection.
type request struct {
	method []byte
	path   []byte // without the query
	query  []byte

	contentLength  int64 // -1 when absent
	chunked        bool
	expectContinue bool
	close          bool
	empty          bool // no byte of the head was read (clean EOF)

	hasUploads, hasUploadID, hasPartNumber bool
}

func (r *request) reset() {
	r.method = r.method[:0]
	r.path = r.path[:0]
	r.query = r.query[:0]
	r.contentLength = -1
	r.chunked, r.expectContinue, r.close, r.empty = false, false, false, false
	r.hasUploads, r.hasUploadID, r.hasPartNumber = false, false, false
}

func (r *request) readHead(br *bufio.Reader) error {
	line, err := h1.ReadLine(br)
	for err == nil && len(line) == 0 {
		line, err = h1.ReadLine(br) // tolerate stray CRLF between requests (RFC 9112 §2.2)
	}
	if err != nil {
		if err == io.EOF && br.Buffered() == 0 {
			r.empty = true
		}
		return err
	}
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 <= sp1+1 {
		return fmt.Errorf("%w: request line", errBadRequest)
	}
	r.method = append(r.method, line[:sp1]...)
	target := line[sp1+1 : sp2]
	proto := line[sp2+1:]
	if string(proto) == "HTTP/1.0" {
		r.close = true
	} else if string(proto) != "HTTP/1.1" {
		return fmt.Errorf("%w: protocol %q", errBadRequest, proto)
	}
	if q := bytes.IndexByte(target, '?'); q >= 0 {
		r.query = append(r.query, target[q+1:]...)
		target = target[:q]
	}
	r.path = append(r.path, target...)
	r.parseQuery()

	for i := 0; ; i++ {
		if i == maxHeaders {
			return fmt.Errorf("%w: too many headers", errBadRequest)
		}
		line, err := h1.ReadLine(br)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := h1.SplitHeader(line)
		if !ok {
			return fmt.Errorf("%w: header line", errBadRequest)
		}
		switch {
		case bytes.EqualFold(name, hContentLength):
			if r.contentLength = h1.ParseUint(value); r.contentLength < 0 {
				return fmt.Errorf("%w: Content-Length", errBadRequest)
			}
		case bytes.EqualFold(name, hTransferEncoding):
			r.chunked = h1.ContainsFold(value, tokChunked)
		case bytes.EqualFold(name, hExpect):
			r.expectContinue = bytes.EqualFold(value, tok100Continue)
		case bytes.EqualFold(name, hConnection):
			if h1.ContainsFold(value, tokClose) {
				r.close = true
			} else if h1.ContainsFold(value, tokKeepAlive) {
				r.close = false
			}
		}
	}
	return nil
}

// parseQuery notes which S3 sub-resources are present; values are ignored.
func (r *request) parseQuery() {
	q := r.query
	for len(q) > 0 {
		var kv []byte
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			kv, q = q[:i], q[i+1:]
		} else {
			kv, q = q, nil
		}
		if i := bytes.IndexByte(kv, '='); i >= 0 {
			kv = kv[:i]
		}
		switch string(kv) {
		case "uploads":
			r.hasUploads = true
		case "uploadId":
			r.hasUploadID = true
		case "partNumber":
			r.hasPartNumber = true
		}
	}
}

// discardBody reads and drops the body. A chunked body wins over
// Content-Length, as RFC 9112 §6.3 says.
func (r *request) discardBody(br *bufio.Reader) (int64, error) {
	if r.chunked {
		return h1.DiscardChunked(br)
	}
	if r.contentLength <= 0 {
		return 0, nil
	}
	n, err := br.Discard(int(r.contentLength))
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return int64(n), err
}

// bucketKey splits "/bucket/key..." (path-style).
func (r *request) bucketKey() (bucket, key []byte) {
	p := bytes.TrimPrefix(r.path, []byte("/"))
	if i := bytes.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return p, nil
}

var (
	hContentLength    = []byte("Content-Length")
	hTransferEncoding = []byte("Transfer-Encoding")
	hExpect           = []byte("Expect")
	hConnection       = []byte("Connection")
	tokChunked        = []byte("chunked")
	tok100Continue    = []byte("100-continue")
	tokClose          = []byte("close")
	tokKeepAlive      = []byte("keep-alive")
)
