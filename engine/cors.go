package engine

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// CORS is a route's cross-origin policy for browser uploads. Preflights
// (OPTIONS) are answered on the loop without authentication, as browsers
// send them without credentials; the actual request is authenticated as
// usual and its response, success or error, carries the CORS headers so
// the page can read it (ETag included, for browser multipart uploads).
type CORS struct {
	anyOrigin  bool
	origins    map[string]bool
	anyHeader  bool
	headers    map[string]bool // lower case
	exposeLine []byte          // "Access-Control-Expose-Headers: ...\r\n"
	maxAgeLine []byte          // "Access-Control-Max-Age: N\r\n" or empty
}

// NewCORS builds a policy. origins are exact origins or "*"; headers are
// allowed request header names or "*"; expose are response headers
// scripts may read beyond ETag and x-amz-request-id.
func NewCORS(origins, headers, expose []string, maxAge time.Duration) *CORS {
	c := &CORS{origins: map[string]bool{}, headers: map[string]bool{}}
	for _, o := range origins {
		if o == "*" {
			c.anyOrigin = true
		}
		c.origins[strings.TrimSuffix(o, "/")] = true
	}
	for _, h := range headers {
		if h == "*" {
			c.anyHeader = true
		}
		c.headers[strings.ToLower(h)] = true
	}
	exp := []string{"ETag", "x-amz-request-id", "x-amz-version-id"}
	for _, e := range expose {
		if !containsFold(exp, e) {
			exp = append(exp, e)
		}
	}
	c.exposeLine = []byte("Access-Control-Expose-Headers: " + strings.Join(exp, ", ") + "\r\n")
	if maxAge > 0 {
		c.maxAgeLine = []byte("Access-Control-Max-Age: " + strconv.Itoa(int(maxAge/time.Second)) + "\r\n")
	}
	return c
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// allowOrigin reports whether origin may use the route.
func (c *CORS) allowOrigin(origin []byte) bool {
	return len(origin) > 0 && (c.anyOrigin || c.origins[string(origin)])
}

// appendHeaders appends the response headers for an allowed origin (none
// for an absent or refused one). The origin is echoed, never "*", so
// credentialed requests work; Vary tells caches it depends on it.
func (c *CORS) appendHeaders(dst, origin []byte) []byte {
	if !c.allowOrigin(origin) {
		return dst
	}
	dst = append(dst, "Access-Control-Allow-Origin: "...)
	dst = append(dst, origin...)
	dst = append(dst, "\r\nVary: Origin\r\n"...)
	return append(dst, c.exposeLine...)
}

// allowHeaders reports whether every header in the comma-separated list
// may be sent.
func (c *CORS) allowHeaders(list []byte) bool {
	if c.anyHeader {
		return true
	}
	for len(list) > 0 {
		var h []byte
		if i := bytes.IndexByte(list, ','); i >= 0 {
			h, list = list[:i], list[i+1:]
		} else {
			h, list = list, nil
		}
		h = bytes.TrimSpace(h)
		if len(h) == 0 {
			continue
		}
		var lower [128]byte
		if len(h) > len(lower) {
			return false
		}
		for i, ch := range h {
			if 'A' <= ch && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			lower[i] = ch
		}
		if !c.headers[string(lower[:len(h)])] {
			return false
		}
	}
	return true
}

var errCORSForbidden = &s3Error{"AccessForbidden", 403, "CORSResponse: This CORS request is not allowed. The origin, the requested method or the requested headers are not allowed by the route's CORS configuration."}

// preflightMethod reports the methods of the upload surface.
func preflightMethod(m []byte) bool {
	switch string(m) {
	case "PUT", "POST", "DELETE", "GET", "HEAD":
		return true
	}
	return false
}

// preflight answers a CORS preflight (OPTIONS) on the loop.
func (s *Server) preflight(c gnet.Conn, st *connState, sc *loopScratch, headLen int, rt *Route) gnet.Action {
	req := &sc.req
	var ok bool
	if rt.CORS != nil && preflightMethod(req.Header("access-control-request-method")) {
		sc.out, ok = appendPreflight(sc.out[:0], rt.CORS, req)
	}
	if !ok {
		return s.refuse(c, st, sc, headLen, rt.m, opPreflight, errCORSForbidden)
	}
	rt.m.count(opPreflight, 200)
	s.logPreflight(c, sc, rt.Name)
	_, _ = c.Write(sc.out)
	if req.Close {
		return gnet.Close
	}
	return s.answeredOnLoop(c, st, headLen)
}

// appendPreflight appends the answer to the preflight req under cors and
// reports whether cors allows it (origin, requested headers; the caller
// checks the requested method). A preflight with a body is refused.
func appendPreflight(out []byte, cors *CORS, req *httpparse.Request) ([]byte, bool) {
	origin := req.Header("origin")
	method := req.Header("access-control-request-method")
	reqHeaders := req.Header("access-control-request-headers")
	if !cors.allowOrigin(origin) || !cors.allowHeaders(reqHeaders) || req.ContentLength > 0 || req.Chunked {
		return out, false
	}
	out = appendStatusLine(out, 200)
	out = append(out, "x-amz-request-id: "...)
	out = appendRequestID(out)
	out = append(out, "\r\nAccess-Control-Allow-Origin: "...)
	out = append(out, origin...)
	out = append(out, "\r\nAccess-Control-Allow-Methods: "...)
	out = append(out, method...)
	if len(reqHeaders) > 0 {
		out = append(out, "\r\nAccess-Control-Allow-Headers: "...)
		out = append(out, reqHeaders...)
	}
	out = append(out, "\r\nVary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers\r\n"...)
	out = append(out, cors.exposeLine...)
	out = append(out, cors.maxAgeLine...)
	out = appendDate(out)
	out = append(out, "Content-Length: 0\r\n"...)
	if req.Close {
		out = append(out, "Connection: close\r\n"...)
	}
	return append(out, "\r\n"...), true
}
