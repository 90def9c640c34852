package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/mizuchi-gw/mizuchi/bench/internal/h1"
)

// Error kinds counted in the report, besides "status_NNN".
const (
	errDial     = "dial"       // could not connect
	errConnW    = "conn_write" // reset or EPIPE while sending the head or body
	errConnR    = "conn_read"  // reset or EOF while reading the response
	errTimeout  = "timeout"    // -timeout passed while writing or reading
	errProtocol = "protocol"   // response we could not parse
)

// worker runs requests over one keep-alive connection, reconnecting after an
// error. Everything it touches per request is preallocated: the head buffer,
// the response reader and the latency slice.
type worker struct {
	id   int
	cfg  *config
	body []byte // shared, read-only
	sign signer

	conn   net.Conn
	br     *bufio.Reader
	head   []byte
	bufArr [2][]byte
	info   reqInfo
	seq    int64

	ok     int64
	bytes  int64
	errs   map[string]int64
	first  map[string]string // first error message per kind, for the report
	lat    []time.Duration   // reservoir of at most cap(lat) samples
	seen   int64             // samples offered to the reservoir
	rng    *rand.Rand
	dials  int64
	status int
}

func newWorker(id int, cfg *config, body []byte, sign signer, maxSamples int) *worker {
	return &worker{
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
}

// record keeps a uniform sample of all latencies (Algorithm R), so a long run
// is not summarized by its first few seconds only.
func (w *worker) record(d time.Duration) {
	w.seen++
	if len(w.lat) < cap(w.lat) {
		w.lat = append(w.lat, d)
		return
	}
	if j := w.rng.Int64N(w.seen); j < int64(len(w.lat)) {
		w.lat[j] = d
	}
}

func (w *worker) closeConn() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// one sends one PUT and reads its response. It returns the error kind, or ""
// on a 2xx answer.
func (w *worker) one() string {
	cfg := w.cfg
	if w.conn == nil {
		c, err := net.DialTimeout("tcp", cfg.addr, cfg.timeout)
		if err != nil {
			if _, ok := w.first[errDial]; !ok {
				w.first[errDial] = err.Error()
			}
			return errDial
		}
		w.dials++
		w.conn = c
		w.br.Reset(c)
	}
	w.conn.SetDeadline(time.Now().Add(cfg.timeout))
	w.seq++
	w.buildHead()

	n := min(cfg.size, int64(len(w.body)))
	if cfg.expect100 {
		if _, err := w.conn.Write(w.head); err != nil {
			return w.fail(err, errConnW)
		}
		status, _, err := readResponse(w.br)
		if err != nil {
			return w.fail(err, errConnR)
		}
		if status != 100 {
			// A final answer before the body: the server refused it. The
			// connection is in an unknown state, so drop it.
			w.closeConn()
			return statusKind(status)
		}
		if _, err := w.conn.Write(w.body[:n]); err != nil {
			return w.fail(err, errConnW)
		}
	} else {
		// Head and the first body slice in one writev.
		w.bufArr = [2][]byte{w.head, w.body[:n]}
		bufs := net.Buffers(w.bufArr[:])
		if _, err := bufs.WriteTo(w.conn); err != nil {
			return w.fail(err, errConnW)
		}
	}
	for rem := cfg.size - n; rem > 0; {
		k := min(rem, int64(len(w.body)))
		if _, err := w.conn.Write(w.body[:k]); err != nil {
			return w.fail(err, errConnW)
		}
		rem -= k
	}

	status, closeConn, err := readResponse(w.br)
	for err == nil && status >= 100 && status < 200 {
		status, closeConn, err = readResponse(w.br) // skip a late or unasked 100
	}
	if err != nil {
		return w.fail(err, errConnR)
	}
	w.status = status
	if closeConn {
		w.closeConn()
	}
	return statusKind(status)
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

// buildHead writes the request head for key <path>/<worker>-<seq> into w.head.
func (w *worker) buildHead() {
	cfg := w.cfg
	b := append(w.head[:0], "PUT "...)
	pathStart := len(b)
	b = append(b, cfg.path...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(w.id), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, w.seq, 10)
	pathEnd := len(b)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, cfg.host...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, cfg.size, 10)
	b = append(b, "\r\nContent-Type: application/octet-stream\r\n"...)
	if cfg.expect100 {
		b = append(b, "Expect: 100-continue\r\n"...)
	}
	w.info.path = b[pathStart:pathEnd]
	w.info.now = time.Now()
	b = w.sign.appendAuth(b, &w.info)
	w.head = append(b, "\r\n"...)
}

// readResponse reads one response head and drains its body. closeConn reports
// that the server will close (or has closed) the connection.
func readResponse(br *bufio.Reader) (status int, closeConn bool, err error) {
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
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				closeConn = true
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				closeConn = false
			}
		}
	}
	switch {
	case status < 200 || status == 204 || status == 304:
		return status, closeConn, nil
	case chunked:
		_, err = h1.DiscardChunked(br)
	case contentLength >= 0:
		_, err = br.Discard(int(contentLength))
	default:
		// Body delimited by close: bounded by the connection deadline.
		_, err = io.Copy(io.Discard, br)
		closeConn = true
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return status, closeConn, err
}
