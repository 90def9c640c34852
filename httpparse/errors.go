package httpparse

import "errors"

// Sentinel errors returned by the parsers. The comment on each names the
// HTTP status a server should answer with.
var (
	// ErrNeedMore means the head is incomplete; wait for more bytes and call
	// Parse again with the longer buffer.
	ErrNeedMore = errors.New("httpparse: need more data")
	// ErrHeadTooLarge means the head exceeds MaxHeadSize (431).
	ErrHeadTooLarge = errors.New("httpparse: head too large")
	// ErrTooManyHeaders means the head has more than MaxHeaders fields (431).
	ErrTooManyHeaders = errors.New("httpparse: too many headers")
	// ErrMalformed means a bad start line or field syntax (400).
	ErrMalformed = errors.New("httpparse: malformed head")
	// ErrObsFold means a field line starts with SP or HT (400).
	ErrObsFold = errors.New("httpparse: obsolete line folding")
	// ErrBadContentLength means a non-numeric, signed, overflowing or
	// repeated Content-Length (400).
	ErrBadContentLength = errors.New("httpparse: invalid or duplicate Content-Length")
	// ErrAmbiguousLength means both Content-Length and Transfer-Encoding (400).
	ErrAmbiguousLength = errors.New("httpparse: both Content-Length and Transfer-Encoding")
	// ErrChunkedNotLast means a Transfer-Encoding list naming "chunked"
	// but not as its final coding, so the body length is unknown (400,
	// RFC 9112 6.3).
	ErrChunkedNotLast = errors.New("httpparse: chunked is not the final transfer coding")
	// ErrURITooLong means the request line alone exceeds MaxHeadSize (414).
	ErrURITooLong = errors.New("httpparse: request line too long")
	// ErrUnsupportedTransferEncoding means a Transfer-Encoding other than a
	// single "chunked" (501).
	ErrUnsupportedTransferEncoding = errors.New("httpparse: unsupported Transfer-Encoding")
	// ErrUnsupportedVersion means a well-formed version other than HTTP/1.0
	// and HTTP/1.1 (505).
	ErrUnsupportedVersion = errors.New("httpparse: unsupported HTTP version")
)
