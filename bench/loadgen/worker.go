package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/mizuchi-gw/mizuchi/bench/internal/h1"
	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// Error kinds counted in the report, besides "status_NNN".
const (
	errDial     = "dial"       // could not connect (errTLS: could not handshake)
	errConnW    = "conn_write" // reset or EPIPE while sending the head or body
	errConnR    = "conn_read"  // reset or EOF while reading the response
	errTimeout  = "timeout"    // -timeout passed while writing or reading
	errProtocol = "protocol"   // response we could not parse; in multipart mode also a 2xx without <UploadId> or ETag, or a CompleteMultipartUpload 200 whose body holds <Error>
)

// reqKind is the kind of one HTTP request a worker sends.
type reqKind uint8

const (
	reqPut      reqKind = iota // PUT <key>, body of -size bytes
	reqCreate                  // POST <key>?uploads, no body
	reqPart                    // PUT <key>?partNumber=N&uploadId=ID, body of -size bytes
	reqComplete                // POST <key>?uploadId=ID, CompleteMultipartUpload XML body
)

// maxCapture bounds the response body bytes kept for inspection (the
// CreateMultipartUpload and CompleteMultipartUpload replies); the rest of a
// longer body is discarded.
const maxCapture = 64 << 10

// worker runs requests over one keep-alive connection, reconnecting after an
// error. Everything it touches per request is preallocated: the head buffer,
// the response reader and the latency slice; in multipart mode also the
// upload id, ETag, CompleteMultipartUpload and response body buffers, which
// grow once and are then reused.
type worker struct {
	id   int
	cfg  *config
	body []byte // shared, read-only
	sign signer

	conn   net.Conn
	br     *bufio.Reader
	head   []byte
	bufArr [2][]byte
	bufs   net.Buffers // over bufArr; consumed by each write
	info   reqInfo
	seq    int64

	// multipart state of the current upload
	part     int    // part number being sent, from 1
	uploadID []byte // URI-encoded, as it goes in the query
	idBuf    []byte // scratch: the XML-unescaped upload id
	etags    []byte // ETag values of the parts sent so far, back to back
	etagEnd  []int  // part i's ETag ends at etags[etagEnd[i-1]]
	xml      []byte // CompleteMultipartUpload body
	resp     respCapture

	ok       int64 // 2xx requests
	bytes    int64 // body bytes of 2xx PUTs (parts in multipart mode)
	xmlBytes int64 // CompleteMultipartUpload body bytes of 2xx completions
	uploads  int64 // completed multipart uploads
	errs     map[string]int64
	first    map[string]string // first error message per kind, for the report
	lat      []time.Duration   // reservoir of at most cap(lat) request samples
	seen     int64             // samples offered to the reservoir
	ulat     []time.Duration   // reservoir of whole-upload latencies
	useen    int64
	rng      *rand.Rand
	dials    int64
	status   int

	// TLS (https:// targets)
	rec             []byte        // head and a small body, sent as one record
	running         bool          // the measured run has started
	handshakes      int64         // successful
	handshakesInRun int64         // of which after the run started
	handshakeTime   time.Duration // wall clock of those before
	tlsState        tlsState      // of the last handshake
}

func newWorker(id int, cfg *config, body []byte, sign signer, maxSamples int) *worker {
	w := &worker{
		id:    id,
		cfg:   cfg,
		body:  body,
		sign:  sign,
		br:    bufio.NewReaderSize(nil, 16<<10),
		head:  make([]byte, 0, 1024),
		errs:  make(map[string]int64),
		first: make(map[string]string),
		lat:   make([]time.Duration, 0, maxSamples),
		rng:   rand.New(rand.NewPCG(uint64(id), 0x6d697a75636869)),
		info:  reqInfo{method: "PUT", host: cfg.host, contentLength: cfg.size},
	}
	if cfg.parts > 0 {
		w.uploadID = make([]byte, 0, 256)
		w.idBuf = make([]byte, 0, 256)
		w.etags = make([]byte, 0, 64*cfg.parts)
		w.etagEnd = make([]int, 0, cfg.parts)
		w.xml = make([]byte, 0, 128+100*cfg.parts)
		w.resp.body = make([]byte, 0, 4<<10)
		w.resp.etag = make([]byte, 0, 128)
	}
	return w
}

// record keeps a uniform sample of all request latencies.
func (w *worker) record(d time.Duration) { w.lat, w.seen = sample(w.rng, w.lat, w.seen, d) }

// recordUpload keeps a uniform sample of whole-upload latencies.
func (w *worker) recordUpload(d time.Duration) { w.ulat, w.useen = sample(w.rng, w.ulat, w.useen, d) }

// sample adds d to the reservoir lat of at most cap(lat) samples (Algorithm
// R), so a long run is not summarized by its first few seconds only. seen
// counts the samples offered so far.
func sample(rng *rand.Rand, lat []time.Duration, seen int64, d time.Duration) ([]time.Duration, int64) {
	seen++
	if len(lat) < cap(lat) {
		return append(lat, d), seen
	}
	if j := rng.Int64N(seen); j < int64(len(lat)) {
		lat[j] = d
	}
	return lat, seen
}

func (w *worker) closeConn() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// request sends one request of kind k and, on success, counts it: ok, body
// bytes and its latency (a reconnect's dial and handshake included). It
// returns the error kind, or "".
func (w *worker) request(k reqKind) string {
	t0 := time.Now()
	if kind := w.exchange(k); kind != "" {
		return kind
	}
	d := time.Since(t0)
	w.ok++
	switch k {
	case reqPut, reqPart:
		w.bytes += w.cfg.size
	case reqComplete:
		w.xmlBytes += int64(len(w.xml))
	}
	w.record(d)
	return ""
}

// upload runs one whole multipart upload of cfg.parts parts to a fresh key:
// CreateMultipartUpload, the parts, CompleteMultipartUpload, each counted as
// a request. It returns "" once the completion succeeded, else the kind of
// the first failed step, which ends the upload (it is not aborted).
func (w *worker) upload() string {
	w.seq++
	if kind := w.request(reqCreate); kind != "" {
		return kind
	}
	w.etags = w.etags[:0]
	w.etagEnd = w.etagEnd[:0]
	for w.part = 1; w.part <= w.cfg.parts; w.part++ {
		if kind := w.request(reqPart); kind != "" {
			return kind
		}
		w.etags = append(w.etags, w.resp.etag...)
		w.etagEnd = append(w.etagEnd, len(w.etags))
	}
	w.buildComplete()
	return w.request(reqComplete)
}

// exchange sends one request of kind k and reads its response. It returns
// the error kind, or "" on a 2xx answer that passes the checks of its kind.
func (w *worker) exchange(k reqKind) string {
	cfg := w.cfg
	if w.conn == nil {
		if kind := w.dial(); kind != "" {
			return kind
		}
	}
	w.conn.SetDeadline(time.Now().Add(cfg.timeout))

	var first []byte // written with the head; bulk bodies repeat w.body
	var total int64
	switch k {
	case reqPut, reqPart:
		total = cfg.size
		first = w.body[:min(total, int64(len(w.body)))]
	case reqComplete:
		first = w.xml
		total = int64(len(first))
	}
	expect := cfg.expect100 && (k == reqPut || k == reqPart)
	w.buildRequest(k, total, expect)
	capt := &w.resp
	capt.wantETag = k == reqPart
	capt.wantBody = k == reqCreate || k == reqComplete

	if expect {
		if _, err := w.conn.Write(w.head); err != nil {
			return w.fail(err, errConnW)
		}
		status, _, err := readResponseCapture(w.br, capt)
		if err != nil {
			return w.fail(err, errConnR)
		}
		if status != 100 {
			// A final answer before the body: the server refused it. The
			// connection is in an unknown state, so drop it.
			w.closeConn()
			return w.check(k, status)
		}
		if _, err := w.conn.Write(first); err != nil {
			return w.fail(err, errConnW)
		}
	} else {
		if err := w.writeHeadAndFirst(first); err != nil {
			return w.fail(err, errConnW)
		}
	}
	for rem := total - int64(len(first)); rem > 0; {
		n := min(rem, int64(len(w.body)))
		if _, err := w.conn.Write(w.body[:n]); err != nil {
			return w.fail(err, errConnW)
		}
		rem -= n
	}

	status, closeConn, err := readResponseCapture(w.br, capt)
	for err == nil && status >= 100 && status < 200 {
		status, closeConn, err = readResponseCapture(w.br, capt) // skip a late or unasked 100
	}
	if err != nil {
		return w.fail(err, errConnR)
	}
	w.status = status
	if closeConn {
		w.closeConn()
	}
	return w.check(k, status)
}

var (
	tagUploadID    = []byte("<UploadId>")
	tagUploadIDEnd = []byte("</UploadId>")
	tagError       = []byte("<Error>")
)

// check classifies a complete response of kind k: a non-2xx status, or a 2xx
// that lacks what the next step of a multipart upload needs.
func (w *worker) check(k reqKind, status int) string {
	if kind := statusKind(status); kind != "" {
		return kind
	}
	switch k {
	case reqCreate:
		if !w.takeUploadID() {
			return w.protocolError("CreateMultipartUpload answered without <UploadId>: ", w.resp.body)
		}
	case reqPart:
		if len(w.resp.etag) == 0 {
			return w.protocolError("UploadPart answered without ETag", nil)
		}
	case reqComplete:
		// S3 may fail a completion after it has sent 200.
		if bytes.Contains(w.resp.body, tagError) {
			return w.protocolError("CompleteMultipartUpload answered 200 with an error: ", w.resp.body)
		}
	}
	return ""
}

// protocolError counts nothing itself: it keeps the first example message
// (msg and up to 200 bytes of body) and returns errProtocol.
func (w *worker) protocolError(msg string, body []byte) string {
	if _, ok := w.first[errProtocol]; !ok {
		w.first[errProtocol] = msg + string(body[:min(len(body), 200)])
	}
	return errProtocol
}

// takeUploadID finds <UploadId> in the captured CreateMultipartUpload reply
// and keeps it, URI-encoded, for the query of the next requests.
func (w *worker) takeUploadID() bool {
	b := w.resp.body
	i := bytes.Index(b, tagUploadID)
	if i < 0 {
		return false
	}
	b = b[i+len(tagUploadID):]
	j := bytes.Index(b, tagUploadIDEnd)
	if j <= 0 {
		return false
	}
	w.idBuf = appendXMLUnescape(w.idBuf[:0], b[:j])
	w.uploadID = sigv4.AppendURIEncode(w.uploadID[:0], w.idBuf, true)
	return true
}

// buildComplete writes the CompleteMultipartUpload body for the parts sent.
func (w *worker) buildComplete() {
	b := append(w.xml[:0], `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`...)
	start := 0
	for i, end := range w.etagEnd {
		b = append(b, "<Part><PartNumber>"...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, "</PartNumber><ETag>"...)
		b = appendXMLEscape(b, w.etags[start:end])
		b = append(b, "</ETag></Part>"...)
		start = end
	}
	w.xml = append(b, "</CompleteMultipartUpload>"...)
}

func statusKind(status int) string {
	if status >= 200 && status < 300 {
		return ""
	}
	return "status_" + strconv.Itoa(status)
}

// fail closes the connection and classifies err; connKind says which side
// of the exchange it happened on.
func (w *worker) fail(err error, connKind string) string {
	w.closeConn()
	kind := connKind
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		kind = errTimeout
	case errors.Is(err, h1.ErrMalformed), errors.Is(err, bufio.ErrBufferFull):
		kind = errProtocol
	}
	if _, ok := w.first[kind]; !ok {
		w.first[kind] = err.Error()
	}
	return kind
}

// buildHead writes the head of a plain PUT of key <path>/<worker>-<seq>
// into w.head.
func (w *worker) buildHead() { w.buildRequest(reqPut, w.cfg.size, w.cfg.expect100) }

// buildRequest writes the head of a request of kind k for key
// <path>/<worker>-<seq> (with -keys N, a plain PUT's key is <path>/k<seq
// mod N>) into w.head, with its query in multipart mode.
func (w *worker) buildRequest(k reqKind, contentLength int64, expect bool) {
	cfg := w.cfg
	b := w.head[:0]
	w.info.method = "PUT"
	if k == reqCreate || k == reqComplete {
		w.info.method = "POST"
	}
	b = append(b, w.info.method...)
	b = append(b, ' ')
	pathStart := len(b)
	b = append(b, cfg.path...)
	b = append(b, '/')
	if k == reqPut && cfg.keys > 0 {
		b = append(b, 'k')
		b = strconv.AppendInt(b, w.seq%cfg.keys, 10)
	} else {
		b = strconv.AppendInt(b, int64(w.id), 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, w.seq, 10)
	}
	pathEnd := len(b)
	qStart := pathEnd + 1 // after the '?'
	switch k {
	case reqCreate:
		b = append(b, "?uploads"...)
	case reqPart:
		b = append(b, "?partNumber="...)
		b = strconv.AppendInt(b, int64(w.part), 10)
		b = append(b, "&uploadId="...)
		b = append(b, w.uploadID...)
	case reqComplete:
		b = append(b, "?uploadId="...)
		b = append(b, w.uploadID...)
	default:
		qStart = pathEnd
	}
	qEnd := len(b)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, cfg.host...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, contentLength, 10)
	if k == reqComplete {
		b = append(b, "\r\nContent-Type: application/xml\r\n"...)
	} else {
		b = append(b, "\r\nContent-Type: application/octet-stream\r\n"...)
	}
	if expect {
		b = append(b, "Expect: 100-continue\r\n"...)
	}
	w.info.path = b[pathStart:pathEnd]
	w.info.query = b[qStart:qEnd]
	w.info.contentLength = contentLength
	w.info.now = time.Now()
	b = w.sign.appendAuth(b, &w.info)
	w.head = append(b, "\r\n"...)
}

// respCapture is what readResponseCapture keeps of a response besides its
// status: the ETag header value and up to maxCapture bytes of the body, each
// only when asked. The buffers are reused.
type respCapture struct {
	wantETag, wantBody bool
	etag, body         []byte
}

// readResponseCapture reads one response head and drains its body, filling
// c (if not nil). closeConn reports that the server will close (or has
// closed) the connection.
func readResponseCapture(br *bufio.Reader, c *respCapture) (status int, closeConn bool, err error) {
	wantBody := false
	if c != nil {
		c.etag = c.etag[:0]
		c.body = c.body[:0]
		wantBody = c.wantBody
	}
	line, err := h1.ReadLine(br)
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, h1.ErrMalformed
	}
	status = int(h1.ParseUint(line[9:12]))
	if status < 100 {
		return 0, false, h1.ErrMalformed
	}
	closeConn = line[7] == '0'
	contentLength := int64(-1)
	chunked := false
	for i := 0; ; i++ {
		if i == 256 {
			return 0, false, h1.ErrMalformed
		}
		line, err := h1.ReadLine(br)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, false, err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := h1.SplitHeader(line)
		if !ok {
			return 0, false, h1.ErrMalformed
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if contentLength = h1.ParseUint(value); contentLength < 0 {
				return 0, false, h1.ErrMalformed
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = h1.ContainsFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				closeConn = true
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				closeConn = false
			}
		case c != nil && c.wantETag && bytes.EqualFold(name, []byte("ETag")):
			c.etag = append(c.etag[:0], value...) // value points into br's buffer
		}
	}
	switch {
	case status < 200 || status == 204 || status == 304:
		return status, closeConn, nil
	case chunked:
		if wantBody {
			c.body, err = readChunked(br, c.body)
		} else {
			_, err = h1.DiscardChunked(br)
		}
	case contentLength >= 0:
		if wantBody {
			c.body, err = readBody(br, c.body, contentLength)
		} else {
			_, err = br.Discard(int(contentLength))
		}
	default:
		// Body delimited by close: bounded by the connection deadline.
		if wantBody {
			c.body, err = readBody(br, c.body, -1)
		} else {
			_, err = io.Copy(io.Discard, br)
		}
		closeConn = true
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return status, closeConn, err
}

// readBody reads n body bytes (n < 0: until EOF, which is then no error),
// appending them to dst up to maxCapture bytes in all and discarding the rest.
func readBody(br *bufio.Reader, dst []byte, n int64) ([]byte, error) {
	for n != 0 {
		room := maxCapture - len(dst)
		if room <= 0 {
			if n < 0 {
				_, err := io.Copy(io.Discard, br)
				return dst, err
			}
			_, err := br.Discard(int(n))
			return dst, err
		}
		k := room
		if n >= 0 && int64(k) > n {
			k = int(n)
		}
		dst = slices.Grow(dst, k)
		m, err := br.Read(dst[len(dst) : len(dst)+k])
		dst = dst[:len(dst)+m]
		if n > 0 {
			n -= int64(m)
		}
		if err != nil {
			if err == io.EOF && n < 0 {
				return dst, nil
			}
			return dst, err
		}
	}
	return dst, nil
}

// readChunked reads a chunked body, appending it to dst as readBody does.
func readChunked(br *bufio.Reader, dst []byte) ([]byte, error) {
	for {
		line, err := h1.ReadLine(br)
		if err != nil {
			return dst, err
		}
		size := h1.ParseHex(bytes.TrimLeft(line, " \t"))
		if size < 0 {
			return dst, h1.ErrMalformed
		}
		if size == 0 {
			// Trailer section ends with an empty line.
			for {
				line, err := h1.ReadLine(br)
				if err != nil {
					return dst, err
				}
				if len(line) == 0 {
					return dst, nil
				}
			}
		}
		if dst, err = readBody(br, dst, size); err != nil {
			return dst, err
		}
		line, err = h1.ReadLine(br)
		if err != nil {
			return dst, err
		}
		if len(line) != 0 {
			return dst, h1.ErrMalformed
		}
	}
}

// appendXMLEscape appends s escaped as XML character data (as
// encoding/xml.EscapeText does for &, <, > and ").
func appendXMLEscape(dst, s []byte) []byte {
	for _, c := range s {
		switch c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '"':
			dst = append(dst, "&#34;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// xmlEntities are the predefined XML entities appendXMLUnescape decodes.
var xmlEntities = [...]struct {
	name string
	c    byte
}{{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}, {"&#34;", '"'}, {"&#39;", '\''}}

// appendXMLUnescape appends s with the predefined XML entities decoded; any
// other '&' is kept as is.
func appendXMLUnescape(dst, s []byte) []byte {
	for len(s) > 0 {
		i := bytes.IndexByte(s, '&')
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		s = s[i:]
		n := 1
		c := byte('&')
		for _, e := range xmlEntities {
			if bytes.HasPrefix(s, []byte(e.name)) {
				n, c = len(e.name), e.c
				break
			}
		}
		dst = append(dst, c)
		s = s[n:]
	}
	return dst
}
