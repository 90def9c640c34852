package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// MaxResponseBody bounds a backend response body the gateway reads (error
// XML, multipart XML). Larger bodies fail the exchange.
const MaxResponseBody = 1 << 20

var (
	// ErrResponseTooLarge is returned for a backend body over MaxResponseBody.
	ErrResponseTooLarge = errors.New("upstream: response body too large")
	// ErrBadChunk is returned for malformed chunked encoding from the backend.
	ErrBadChunk = errors.New("upstream: malformed chunked response body")
)

// ReadResponse reads one response from c into resp and returns its body.
// resp's views and the body stay valid until the next call on c or until c
// is returned to the pool. A 100 Continue interim response is skipped.
// The deadline bounds the whole exchange.
func (c *Conn) ReadResponse(resp *httpparse.Response, deadline time.Time) (body []byte, err error) {
	return c.readResponse(resp, deadline, true)
}

// Replied reports whether any reply byte arrived on c since it was dialed
// or last pooled: a request that failed without one was never answered.
func (c *Conn) Replied() bool { return c.rn > 0 }

// ReadResponseHead reads the response to a HEAD request: a head only, whose
// Content-Length describes the object, not a body that follows.
func (c *Conn) ReadResponseHead(resp *httpparse.Response, deadline time.Time) error {
	_, err := c.readResponse(resp, deadline, false)
	return err
}

func (c *Conn) readResponse(resp *httpparse.Response, deadline time.Time, withBody bool) (body []byte, err error) {
	_ = c.Conn.SetReadDeadline(deadline)
	for {
		n, perr := resp.Parse(c.rbuf[:c.rn])
		if perr == nil {
			if resp.Status == 100 {
				copy(c.rbuf, c.rbuf[n:c.rn])
				c.rn -= n
				continue
			}
			if !withBody {
				return nil, nil
			}
			body, err = c.readBody(resp, n)
			return body, err
		}
		if !errors.Is(perr, httpparse.ErrNeedMore) {
			return nil, fmt.Errorf("cannot parse backend response: %w", perr)
		}
		if c.rn == len(c.rbuf) {
			if len(c.rbuf) >= httpparse.DefaultMaxHeadSize {
				return nil, httpparse.ErrHeadTooLarge
			}
			nb := make([]byte, 2*len(c.rbuf))
			copy(nb, c.rbuf[:c.rn])
			c.rbuf = nb
			// resp views pointed into the old buffer; they are re-parsed next round.
		}
		m, rerr := c.Conn.Read(c.rbuf[c.rn:])
		c.rn += m
		if rerr != nil && m == 0 {
			if rerr == io.EOF {
				rerr = io.ErrUnexpectedEOF
			}
			return nil, rerr
		}
	}
}

// readBody reads the body following a head of length headLen. The head views
// in resp stay valid: the body goes into a separate buffer.
func (c *Conn) readBody(resp *httpparse.Response, headLen int) ([]byte, error) {
	extra := c.rbuf[headLen:c.rn]
	c.bodyBuf = c.bodyBuf[:0]
	switch {
	case resp.Chunked:
		return c.readChunked(extra)
	case resp.ContentLength > 0:
		if resp.ContentLength > MaxResponseBody {
			return nil, ErrResponseTooLarge
		}
		need := int(resp.ContentLength)
		if len(extra) >= need {
			c.bodyBuf = append(c.bodyBuf, extra[:need]...)
			return c.bodyBuf, nil
		}
		c.bodyBuf = append(c.bodyBuf, extra...)
		for len(c.bodyBuf) < need {
			if cap(c.bodyBuf) < need {
				nb := make([]byte, len(c.bodyBuf), need)
				copy(nb, c.bodyBuf)
				c.bodyBuf = nb
			}
			m, err := c.Conn.Read(c.bodyBuf[len(c.bodyBuf):need])
			c.bodyBuf = c.bodyBuf[:len(c.bodyBuf)+m]
			if err != nil && len(c.bodyBuf) < need {
				return nil, err
			}
		}
		return c.bodyBuf, nil
	case resp.ContentLength < 0 && resp.Status != 204 && resp.Status != 304:
		// Body delimited by close: read to EOF, never reuse.
		resp.Close = true
		c.bodyBuf = append(c.bodyBuf, extra...)
		for {
			if len(c.bodyBuf) > MaxResponseBody {
				return nil, ErrResponseTooLarge
			}
			var tmp [4096]byte
			m, err := c.Conn.Read(tmp[:])
			c.bodyBuf = append(c.bodyBuf, tmp[:m]...)
			if err == io.EOF {
				return c.bodyBuf, nil
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return nil, nil
}

// readChunked decodes a chunked body; pre holds bytes already read.
func (c *Conn) readChunked(pre []byte) ([]byte, error) {
	raw := append([]byte(nil), pre...)
	off := 0
	fill := func() error {
		if len(raw) > MaxResponseBody+64<<10 {
			return ErrResponseTooLarge
		}
		var tmp [4096]byte
		m, err := c.Conn.Read(tmp[:])
		raw = append(raw, tmp[:m]...)
		if m > 0 {
			return nil
		}
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	for {
		i := bytes.Index(raw[off:], crlf)
		if i < 0 {
			if err := fill(); err != nil {
				return nil, err
			}
			continue
		}
		line := raw[off : off+i]
		if j := bytes.IndexByte(line, ';'); j >= 0 {
			line = line[:j]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 || size > MaxResponseBody {
			return nil, ErrBadChunk
		}
		start := off + i + 2
		if size == 0 {
			// Trailers until an empty line.
			for {
				k := bytes.Index(raw[start:], crlf)
				if k < 0 {
					if err := fill(); err != nil {
						return nil, err
					}
					continue
				}
				if k == 0 {
					return c.bodyBuf, nil
				}
				start += k + 2
			}
		}
		for len(raw) < start+int(size)+2 {
			if err := fill(); err != nil {
				return nil, err
			}
		}
		c.bodyBuf = append(c.bodyBuf, raw[start:start+int(size)]...)
		if len(c.bodyBuf) > MaxResponseBody {
			return nil, ErrResponseTooLarge
		}
		off = start + int(size) + 2
	}
}

var crlf = []byte("\r\n")

// ErrorCode extracts <Code> and <Message> from an S3 XML error body.
func ErrorCode(body []byte) (code, msg []byte) {
	return xmlElem(body, "Code"), xmlElem(body, "Message")
}

func xmlElem(b []byte, name string) []byte {
	open := []byte("<" + name + ">")
	i := bytes.Index(b, open)
	if i < 0 {
		return nil
	}
	rest := b[i+len(open):]
	j := bytes.Index(rest, []byte("</"+name+">"))
	if j < 0 {
		return nil
	}
	return rest[:j]
}
