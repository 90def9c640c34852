// Package httpparse parses HTTP/1.0 and HTTP/1.1 request and response heads
// in place, for an event loop (gnet) that hands over whatever bytes have
// arrived.
//
// # Contract
//
// Parse(buf) returns the length of the head (final CRLFCRLF included) or
// ErrNeedMore when buf holds only a valid prefix of a head; it keeps no
// state between calls, so the caller simply calls again with more bytes.
// A buffer longer than MaxHeadSize without a complete head fails with
// ErrHeadTooLarge at once.
//
// # Lifetime of views
//
// Method, URI, Path, Query, Host, Reason and every Header Name and Value are
// sub-slices of the buffer given to Parse. They are valid only while that
// buffer is unchanged: with gnet, until OnTraffic returns or the inbound
// buffer is discarded. Keep offsets or copy before then.
//
// # Allocation
//
// Parse, Header, NextParam and AppendUnescape (with a large enough dst) do
// not allocate. The Headers slice is allocated on the first Parse and its
// backing array is reused by Reset and later Parse calls; allocation_test.go
// enforces this.
//
// # Strictness
//
// The parser is strict wherever leniency enables request smuggling or
// desynchronisation with another HTTP implementation in front of or behind
// Mizuchi. It rejects, with the error named:
//
//   - Content-Length together with Transfer-Encoding (ErrAmbiguousLength);
//   - a repeated Content-Length, even with equal values, and any value that
//     is not 1*DIGIT fitting in int64: signs, spaces inside, lists
//     (ErrBadContentLength);
//   - a Transfer-Encoding list (all its fields together) that names
//     "chunked" but not as the final coding, as in "chunked, identity"
//     (ErrChunkedNotLast: the length is unknown, RFC 9112 6.3 asks for 400);
//   - any other Transfer-Encoding except exactly one field "chunked"
//     ("xchunked", "identity, chunked", "gzip", chunked twice:
//     ErrUnsupportedTransferEncoding, S3's NotImplemented; reported once the whole head parsed,
//     so that a syntax error anywhere in it, such as an obs-folded
//     "Transfer-Encoding:\r\n chunked", is ErrObsFold/ErrMalformed: 400,
//     not 501), and Transfer-Encoding in an HTTP/1.0 message (ErrMalformed,
//     RFC 9112 6.1);
//   - obs-fold, a field line starting with SP or HT (ErrObsFold);
//   - field names that are not tokens, empty names, whitespace between the
//     name and the colon (ErrMalformed);
//   - NUL, DEL and other control characters in names and values (HT is
//     allowed in values; obs-text bytes 0x80-0xFF are allowed in values
//     and passed on as sent: S3 itself accepts non-ASCII x-amz-meta-*
//     values, and the backend's signature check covers them);
//   - bare CR anywhere, and bare LF: every line must end in CRLF
//     (ErrMalformed). RFC 9112 2.2 lets a recipient accept a bare LF and
//     net/http does, but every S3 client we have captured sends CRLF and a
//     proxy in front of us might split lines differently, so we do not;
//   - leading empty lines before the request line (ErrMalformed);
//   - a request-target that is not origin-form, i.e. does not start with
//     '/': absolute-form (http://host/path), authority-form and "*" are
//     rejected (ErrMalformed). Mizuchi is an origin server, not a proxy;
//     RFC 9112 3.2.2 asks servers to accept absolute-form, but no S3
//     client sends it and a second notion of the target's host is what
//     request smuggling feeds on. "*" with a version other than 1.0/1.1
//     (the HTTP/2 preface "PRI * HTTP/2.0") is ErrUnsupportedVersion;
//   - request-target bytes outside visible ASCII 0x21-0x7E, and '%' not
//     followed by two hex digits (ErrMalformed);
//   - a request method that is not a token, or any deviation from
//     "METHOD SP target SP HTTP/x.y CRLF" (ErrMalformed);
//   - versions other than HTTP/1.0 and HTTP/1.1 (ErrUnsupportedVersion when
//     well-formed, ErrMalformed otherwise; an HTTP/0.9 line has no version
//     and is ErrMalformed);
//   - a request line longer than MaxHeadSize (ErrURITooLong, 414), and a
//     longer head (ErrHeadTooLarge) or more than MaxHeaders fields
//     (ErrTooManyHeaders), both 431;
//   - more than one Host field, and an HTTP/1.1 request without Host
//     (ErrMalformed, RFC 9112 3.2);
//   - response status codes outside 100..599 (ErrMalformed);
//   - in a chunked body (Chunked), a chunk-size line other than
//     1*HEXDIG *(SP/HTAB) [";" chunk-ext] with no control characters but
//     HTAB in the extensions, a bare LF, or data not followed by CRLF
//     (ErrBadChunk).
//
// Accepted on purpose, as RFC 9112 allows: transfer-coding names in any
// case ("Chunked"), OWS (SP or HTAB) before a field value, chunk
// extensions ("5;ext=1", ignored), and HTTP/1.0 requests (which close the
// connection unless they ask for keep-alive).
//
// Field values keep their bytes as sent apart from leading and trailing
// SP/HT; names are not canonicalised and repeated fields are not joined.
// Header lookups compare ASCII case-insensitively without allocating.
package httpparse
