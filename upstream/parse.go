package upstream

import (
	"errors"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// ParseResponse parses one whole response from the bytes in buf, for a
// caller that reads without blocking (the event loop's in-loop relay): it
// returns httpparse.ErrNeedMore until the response is complete, and the
// caller calls it again with more bytes. On success n is the number of
// bytes of buf the response used, interim 100 Continue responses included,
// and body is the decoded body, appended to bodyBuf.
//
// headOnly is for a HEAD request: the head alone is the response. eof says
// the backend closed the connection after buf; a body delimited by the
// close (no Content-Length, not chunked) completes only then, and resp.Close
// is set. te is scratch for a chunked body and is reset here.
//
// resp's views point into buf. Bodies over MaxResponseBody fail with
// ErrResponseTooLarge; malformed chunking with ErrBadChunk.
func ParseResponse(buf []byte, resp *httpparse.Response, headOnly, eof bool, te *httpparse.Chunked, bodyBuf []byte) (n int, body []byte, err error) {
	off := 0
	var hn int
	for {
		hn, err = resp.Parse(buf[off:])
		if err != nil {
			if errors.Is(err, httpparse.ErrNeedMore) && eof {
				err = errors.Join(ErrTruncated, err)
			}
			return 0, bodyBuf, err
		}
		if resp.Status != 100 {
			break
		}
		off += hn
	}
	start := off + hn
	rest := buf[start:]
	switch {
	case headOnly || resp.Status == 204 || resp.Status == 304:
		return start, bodyBuf[:0], nil
	case resp.Chunked:
		te.Reset()
		out, m, derr := te.Decode(bodyBuf[:0], rest)
		if derr != nil {
			return 0, bodyBuf, errors.Join(ErrBadChunk, derr)
		}
		if len(out) > MaxResponseBody {
			return 0, out, ErrResponseTooLarge
		}
		if !te.Done() {
			if eof {
				return 0, out, ErrTruncated
			}
			if len(rest) > MaxResponseBody+64<<10 {
				return 0, out, ErrResponseTooLarge
			}
			return 0, out, httpparse.ErrNeedMore
		}
		return start + m, out, nil
	case resp.ContentLength >= 0:
		if resp.ContentLength > MaxResponseBody {
			return 0, bodyBuf, ErrResponseTooLarge
		}
		need := int(resp.ContentLength)
		if len(rest) < need {
			if eof {
				return 0, bodyBuf, ErrTruncated
			}
			return 0, bodyBuf, httpparse.ErrNeedMore
		}
		return start + need, append(bodyBuf[:0], rest[:need]...), nil
	default:
		// Delimited by the close: complete only at EOF, never reused.
		if len(rest) > MaxResponseBody {
			return 0, bodyBuf, ErrResponseTooLarge
		}
		if !eof {
			return 0, bodyBuf, httpparse.ErrNeedMore
		}
		resp.Close = true
		return len(buf), append(bodyBuf[:0], rest...), nil
	}
}

// ErrTruncated is returned by ParseResponse when the backend closed the
// connection before the response was complete.
var ErrTruncated = errors.New("upstream: response truncated by the backend")
