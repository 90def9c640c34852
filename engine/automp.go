package engine

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/pipes"
	"github.com/mizuchi-gw/mizuchi/sigv4"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// Auto-multipart: a PutObject above the route's threshold (S3 takes at
// most 5 GiB in one PUT), or a Transfer-Encoding: chunked one whose length
// is unknown, is uploaded as a multipart upload. The worker creates the
// upload, answers 100 Continue, reads the body into part buffers and sends
// up to Concurrent parts at once; each buffer is kept until the backend
// took its part, so a failed part is retried. The client gets one
// PutObject-style reply. Integrity headers the client sent for the whole
// object (Content-MD5, a hex x-amz-content-sha256, x-amz-checksum-*) are
// computed here and checked before completing. Any unrecoverable failure
// aborts the upload, so no parts are left behind. Memory per upload is
// PartSize x (Concurrent + 1), reserved from the buffer budget before the
// upload is created (reserveParts, membudget.go); at most maxAutoMultipart
// run at once. An upload the budget cannot take now gets 503 SlowDown, one
// whose parts would not fit in the whole budget 400 EntityTooLarge. The
// bytes count as the copy path.

const (
	maxAutoMultipart   = 8
	maxParts           = 10000
	maxMultipartObject = 5 << 40 // S3's largest object
	partAttempts       = 3
)

func (u *UploadConfig) threshold() int64 {
	if u.Threshold <= 0 {
		return 5 << 30
	}
	return u.Threshold
}

func (u *UploadConfig) partSize(contentLength int64) int64 {
	p := u.PartSize
	if p <= 0 {
		p = 16 << 20
	}
	if contentLength > 0 {
		if min := (contentLength + maxParts - 1) / maxParts; min > p {
			p = (min + 1<<20 - 1) &^ (1<<20 - 1)
		}
	}
	return p
}

func (u *UploadConfig) concurrent() int {
	if u.Concurrent <= 0 {
		return 4
	}
	return u.Concurrent
}

var (
	errAutoMPBusy     = &s3Error{"SlowDown", 503, "Too many large uploads in progress. Please retry."}
	errTooManyParts   = &s3Error{"EntityTooLarge", 400, "Your upload exceeds the maximum number of parts at this part size."}
	errBadDigest      = &s3Error{"BadDigest", 400, "The Content-MD5 or checksum you specified did not match what was received."}
	errSHA256Mismatch = &s3Error{"XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not match what was computed."}
	errInvalidDigest  = &s3Error{"InvalidDigest", 400, "The Content-MD5 or checksum you specified is not valid."}
)

// bodySource reads a client body in user space: Content-Length bytes, or
// a Transfer-Encoding: chunked body decoded up to its end.
type bodySource struct {
	ex        *exchange
	tcp       net.Conn
	pre       []byte // bytes read with the head
	remaining int64  // Content-Length mode: bytes still on the socket
	raw       []byte // chunked mode: socket read buffer
	dec       []byte // chunked mode: decoded bytes
	pending   []byte // decoded bytes not yet returned
	eof       bool
	limit     int64 // the route's max_object_size; 0: none
	total     int64 // bytes returned so far
}

// errObjectTooLarge: a body of unknown length passed the route's
// max_object_size while streaming.
var errObjectTooLarge = errors.New("engine: body exceeds the route's max_object_size")

// Read returns body bytes; once more than limit bytes came, it returns
// errObjectTooLarge instead of the bytes past the limit.
func (b *bodySource) Read(p []byte) (int, error) {
	n, err := b.read(p)
	if b.limit > 0 {
		b.total += int64(n)
		if b.total > b.limit {
			return 0, errObjectTooLarge
		}
	}
	return n, err
}

func (b *bodySource) read(p []byte) (int, error) {
	ex := b.ex
	for {
		if len(b.pending) > 0 {
			n := copy(p, b.pending)
			b.pending = b.pending[n:]
			return n, nil
		}
		if b.eof {
			return 0, io.EOF
		}
		if !ex.teChunked {
			if len(b.pre) > 0 {
				n := copy(p, b.pre)
				b.pre = b.pre[n:]
				return n, nil
			}
			if b.remaining <= 0 {
				b.eof = true
				continue
			}
			_ = b.tcp.SetReadDeadline(time.Now().Add(ex.s.tun().BodyTimeout))
			n, err := b.tcp.Read(p[:min(int64(len(p)), b.remaining)])
			b.remaining -= int64(n)
			if n > 0 {
				return n, nil
			}
			return 0, &pipes.SideError{Src: true, Err: err}
		}
		src := b.pre
		b.pre = nil
		if len(src) == 0 {
			_ = b.tcp.SetReadDeadline(time.Now().Add(ex.s.tun().BodyTimeout))
			n, err := b.tcp.Read(b.raw)
			if n == 0 {
				return 0, &pipes.SideError{Src: true, Err: err}
			}
			src = b.raw[:n]
		}
		out, n, err := ex.te.Decode(b.dec[:0], src)
		b.dec, b.pending = out, out
		if err != nil {
			return 0, err
		}
		if ex.te.Done() {
			b.eof = true
			if n < len(src) {
				ex.close = true // a pipelined request cannot go back to gnet
			}
		}
	}
}

// wholeChecks are the client's integrity headers for the whole object.
type wholeChecks struct {
	md5      hash.Hash
	md5Want  []byte
	sha      hash.Hash
	shaWant  []byte
	ck       *sigv4.Checksum
	ckWant   []byte
	ckHeader string
}

func (w *wholeChecks) init(req *httpparse.Request) *s3Error {
	if v := req.Header("content-md5"); v != nil {
		d, err := base64.StdEncoding.DecodeString(string(v))
		if err != nil || len(d) != md5.Size {
			return errInvalidDigest
		}
		w.md5, w.md5Want = md5.New(), d
	}
	if v := req.Header("x-amz-content-sha256"); len(v) == 64 {
		d, err := hex.DecodeString(string(v))
		if err == nil {
			w.sha, w.shaWant = sha256.New(), d
		}
	}
	for _, h := range req.Headers {
		if len(h.Name) > 15 && bytes.EqualFold(h.Name[:15], []byte("x-amz-checksum-")) && !bytes.EqualFold(h.Name, []byte("x-amz-checksum-type")) &&
			!bytes.EqualFold(h.Name, []byte("x-amz-checksum-algorithm")) {
			c, ok := sigv4.NewChecksum(h.Name)
			if !ok {
				return errInvalidDigest
			}
			w.ck, w.ckWant, w.ckHeader = c, h.Value, string(bytes.ToLower(h.Name))
			break
		}
	}
	return nil
}

func (w *wholeChecks) write(p []byte) {
	if w.md5 != nil {
		w.md5.Write(p)
	}
	if w.sha != nil {
		w.sha.Write(p)
	}
	if w.ck != nil {
		w.ck.Write(p)
	}
}

func (w *wholeChecks) verify() *s3Error {
	if w.md5 != nil && !bytes.Equal(w.md5.Sum(nil), w.md5Want) {
		return errBadDigest
	}
	if w.sha != nil && !bytes.Equal(w.sha.Sum(nil), w.shaWant) {
		return errSHA256Mismatch
	}
	if w.ck != nil && !bytes.Equal(w.ck.AppendBase64(nil), w.ckWant) {
		return errBadDigest
	}
	return nil
}

// Headers of the multipart calls: object attributes go with the create,
// SSE-C keys with every part, conditions with the completion.
func createHeader(name []byte) bool {
	if !upstream.Forwarded(name) {
		return false
	}
	switch {
	case eqFoldASCII(name, "content-md5"), eqFoldASCII(name, "if-none-match"), eqFoldASCII(name, "if-match"),
		eqFoldASCII(name, "x-amz-sdk-checksum-algorithm"), eqFoldASCII(name, "x-amz-trailer"),
		eqFoldASCII(name, "x-amz-decoded-content-length"):
		return false
	case len(name) >= 15 && eqFoldASCII(name[:15], "x-amz-checksum-"):
		return false
	}
	return true
}

func partHeader(name []byte) bool {
	return len(name) > 37 && eqFoldASCII(name[:37], "x-amz-server-side-encryption-customer")
}

func completeHeader(name []byte) bool {
	return eqFoldASCII(name, "if-none-match") || eqFoldASCII(name, "if-match")
}

func filterHeaders(hs []httpparse.Header, keep func([]byte) bool) []httpparse.Header {
	var out []httpparse.Header
	for _, h := range hs {
		if keep(h.Name) {
			out = append(out, h)
		}
	}
	return out
}

// callError is a backend answer that is not a success.
type callError struct {
	status int
	body   []byte
}

func (e *callError) Error() string { return "backend answered " + strconv.Itoa(e.status) }

// call sends one request for the object to the backend and hands the reply
// to onResp before the connection goes back to the pool. A reused
// connection that fails before answering is retried once on a new one.
func (ex *exchange) call(ctx context.Context, method string, query []byte, hdrs []httpparse.Header, body []byte, contentLength int64, onResp func(*httpparse.Response, []byte) error) error {
	s, ep := ex.s, ex.route.Endpoint
	b := s.builders.Get().(*upstream.Builder)
	head, err := b.AppendHead(ctx, nil, ep, &upstream.Request{
		Method: []byte(method), Key: ex.upstreamKey(), Query: query, ContentLength: contentLength, Headers: hdrs,
		Unsigned: ex.tr.upstream(ep.Host, nil), // one span for all the calls
	}, time.Now())
	s.builders.Put(b)
	if err != nil {
		return err
	}
	var r retrier
	for attempt := 0; ; attempt++ {
		up, err := getConn(ctx, ex.route, &r)
		if err != nil {
			r.done(ex.route, false)
			return err
		}
		t0 := time.Now()
		deadline := t0.Add(s.tun().UpstreamTimeout)
		_ = up.SetWriteDeadline(deadline)
		iov := net.Buffers{head, body}
		_, err = iov.WriteTo(up)
		var resp httpparse.Response
		var rb []byte
		if err == nil {
			rb, err = up.ReadResponse(&resp, deadline)
		}
		if err != nil {
			up.Close()
			if up.Reused && attempt == 0 && !up.Replied() && !isTimeout(err) {
				continue
			}
			if retryableErr(err, up.Replied()) && !createCall(method, query) && r.again() {
				continue
			}
			r.done(ex.route, false)
			return err
		}
		ex.route.m.observeUpstream(autoMPOp(method, query), t0)
		if retryableStatus(resp.Status) && r.tries < upstreamAttempts-1 {
			closeOrPut(ep.Pool, up, &resp)
			r.again()
			continue
		}
		r.done(ex.route, resp.Status < 500)
		cbErr := onResp(&resp, rb)
		if resp.Close {
			up.Close()
		} else {
			ep.Pool.Put(up)
		}
		return cbErr
	}
}

// xmlElem returns the text of the first <tag> element in b.
func xmlElem(b []byte, tag string) []byte {
	i := bytes.Index(b, []byte("<"+tag+">"))
	if i < 0 {
		return nil
	}
	rest := b[i+len(tag)+2:]
	j := bytes.Index(rest, []byte("</"+tag+">"))
	if j < 0 {
		return nil
	}
	return rest[:j]
}

// unescapeXML undoes the predefined entities and numeric character
// references (versitygw writes quotes as &#34;).
func unescapeXML(b []byte) []byte {
	if bytes.IndexByte(b, '&') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		i := bytes.IndexByte(b, '&')
		j := bytes.IndexByte(b[max(i, 0):], ';')
		if i < 0 || j < 0 {
			break
		}
		out = append(out, b[:i]...)
		ent := string(b[i+1 : i+j])
		b = b[i+j+1:]
		switch {
		case ent == "quot":
			out = append(out, '"')
		case ent == "apos":
			out = append(out, '\'')
		case ent == "lt":
			out = append(out, '<')
		case ent == "gt":
			out = append(out, '>')
		case ent == "amp":
			out = append(out, '&')
		case len(ent) > 1 && ent[0] == '#':
			base, digits := 10, ent[1:]
			if digits[0] == 'x' || digits[0] == 'X' {
				base, digits = 16, digits[1:]
			}
			if r, err := strconv.ParseUint(digits, base, 32); err == nil {
				out = utf8.AppendRune(out, rune(r))
				continue
			}
			out = append(out, '&')
			out = append(out, ent...)
			out = append(out, ';')
		default:
			out = append(out, '&')
			out = append(out, ent...)
			out = append(out, ';')
		}
	}
	return append(out, b...)
}

// pumpMultipart runs an auto-multipart upload on a detached socket and
// writes the client's reply. It reports whether the connection may be kept.
func (ex *exchange) pumpMultipart(tcp net.Conn, writeOut func()) (keep bool) {
	s := ex.s
	fail := func(e *s3Error, what string, err error) bool {
		ex.close = true
		ex.finish(ex.fail(e, what, err))
		writeOut()
		return false
	}
	select {
	case s.autoMP <- struct{}{}:
		defer func() { <-s.autoMP }()
	default:
		return fail(errAutoMPBusy, "auto-multipart slots exhausted", nil)
	}
	if err := ex.parseHead(); err != nil {
		return fail(errInternal, "cannot parse the head again", err)
	}
	var checks wholeChecks
	if e := checks.init(&ex.req); e != nil {
		return fail(e, "bad integrity header", nil)
	}
	ctx := context.Background()
	u := &ex.route.Upload
	partSize := u.partSize(ex.req.ContentLength)
	bufs, held, e := s.reserveParts(u, partSize, ex.teChunked)
	if e != nil {
		return fail(e, "no buffer budget for the parts", nil)
	}
	defer s.budget.Release(held)

	var uploadID []byte
	err := ex.call(ctx, "POST", []byte("uploads"), filterHeaders(ex.req.Headers, createHeader), nil, 0, func(r *httpparse.Response, b []byte) error {
		if r.Status != 200 || isErrorBody(b) {
			return &callError{r.Status, append([]byte(nil), b...)}
		}
		uploadID = append([]byte(nil), unescapeXML(xmlElem(b, "UploadId"))...)
		return nil
	})
	if err == nil && len(uploadID) == 0 {
		err = errors.New("no UploadId in the backend's reply")
	}
	if err != nil {
		upstreamErrors.Inc()
		return ex.failCall(err, "cannot create the multipart upload", writeOut)
	}
	autoMPStarted.Inc()
	idQuery := "uploadId=" + url.QueryEscape(string(uploadID))
	abort := func(why string, cause error) {
		autoMPAborted.Inc()
		actx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var aerr error
		for attempt := 0; attempt < partAttempts; attempt++ {
			aerr = ex.call(actx, "DELETE", []byte(idQuery), nil, nil, -1, func(r *httpparse.Response, _ []byte) error {
				if r.Status >= 300 && r.Status != 404 {
					return &callError{status: r.Status}
				}
				return nil
			})
			if aerr == nil {
				break
			}
		}
		s.log.Warn("multipart upload aborted", "id", string(ex.id), "route", ex.route.Name, "why", why, "cause", cause, "abort_err", aerr)
	}

	if ex.expect100 {
		_ = tcp.SetWriteDeadline(time.Now().Add(s.tun().BodyTimeout))
		if _, err := tcp.Write(continue100); err != nil {
			abort("client gone before the body", err)
			ex.finish(499)
			return false
		}
	}

	// Parts: the reader fills buffers, workers send them.
	type part struct {
		num int
		buf []byte
	}
	conc := max(bufs-1, 1) // bufs = Concurrent+1 unless the budget is small
	free := make(chan []byte, bufs)
	for i := 0; i < bufs; i++ {
		free <- nil // allocated on first use
	}
	work := make(chan part)
	etags := make([][]byte, 0, 64)
	var mu sync.Mutex
	var failed atomic.Bool
	var partErr error
	var wg sync.WaitGroup
	partHdrs := filterHeaders(ex.req.Headers, partHeader)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				q := []byte("partNumber=" + strconv.Itoa(p.num) + "&" + idQuery)
				var etag []byte
				var err error
				for attempt := 0; attempt < partAttempts && !failed.Load(); attempt++ {
					err = ex.call(ctx, "PUT", q, partHdrs, p.buf, int64(len(p.buf)), func(r *httpparse.Response, b []byte) error {
						if r.Status != 200 {
							return &callError{r.Status, append([]byte(nil), b...)}
						}
						etag = append([]byte(nil), r.Header("etag")...)
						return nil
					})
					var ce *callError
					if err == nil || !errors.As(err, &ce) || ce.status < 500 || retryableStatus(ce.status) {
						break // done, refused for good, or already retried by call (retry.go)
					}
					autoMPRetries.Inc()
				}
				if err == nil && len(etag) == 0 {
					err = errors.New("no ETag for a part")
				}
				mu.Lock()
				if err != nil && partErr == nil {
					partErr = fmt.Errorf("part %d: %w", p.num, err)
					failed.Store(true)
				}
				for len(etags) < p.num {
					etags = append(etags, nil)
				}
				etags[p.num-1] = etag
				mu.Unlock()
				bytesCopied.Add(len(p.buf))
				free <- p.buf[:cap(p.buf)]
			}
		}()
	}

	src := &bodySource{ex: ex, tcp: tcp, pre: ex.buf[ex.headLen:], limit: ex.route.bind.objLimit}
	if ex.teChunked {
		ex.te.Reset()
		src.raw = make([]byte, 256<<10)
	} else {
		src.remaining = ex.req.ContentLength - int64(len(src.pre))
	}
	var readErr error
	var total int64
	num := 0
	for !failed.Load() {
		buf := <-free
		if buf == nil {
			buf = make([]byte, partSize)
		}
		n, err := io.ReadFull(src, buf)
		if errors.Is(err, errObjectTooLarge) {
			// Cut off: the bytes read so far never become a part.
			free <- buf
			readErr = err
			break
		}
		if n > 0 || num == 0 {
			num++
			if num > maxParts {
				readErr = errTooManyPartsErr
				break
			}
			checks.write(buf[:n])
			total += int64(n)
			work <- part{num, buf[:n]}
		} else {
			free <- buf
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	close(work)
	wg.Wait()

	switch {
	case readErr != nil:
		abort("client body failed", readErr)
		var se *pipes.SideError
		switch {
		case errors.Is(readErr, errTooManyPartsErr):
			return fail(errTooManyParts, "too many parts", readErr)
		case errors.Is(readErr, errObjectTooLarge):
			refusedSize.Inc()
			return fail(ex.route.bind.objErr, "chunked body above max_object_size", readErr)
		case isDecodeError(readErr):
			ex.close = true
			ex.finish(ex.failDecode(readErr))
			writeOut()
			return false
		case errors.As(readErr, &se) && isTimeout(se.Err):
			clientAborts.Inc()
			return fail(errRequestTimeout, "client body stalled", readErr)
		}
		clientAborts.Inc()
		ex.close = true
		ex.finish(ex.fail(errIncompleteBody, "client closed mid-body", readErr))
		return false
	case partErr != nil:
		abort("a part failed", partErr)
		upstreamErrors.Inc()
		return ex.failCall(partErr, "multipart part failed", writeOut)
	}
	if e := checks.verify(); e != nil {
		abort("whole-object integrity check failed", nil)
		return fail(e, "whole-object integrity check failed", nil)
	}

	var xml bytes.Buffer
	xml.WriteString("<CompleteMultipartUpload>")
	for i, e := range etags {
		xml.WriteString("<Part><PartNumber>" + strconv.Itoa(i+1) + "</PartNumber><ETag>")
		xml.Write(appendXMLEscaped(nil, e))
		xml.WriteString("</ETag></Part>")
	}
	xml.WriteString("</CompleteMultipartUpload>")
	var etag, version []byte
	err = ex.call(ctx, "POST", []byte(idQuery), filterHeaders(ex.req.Headers, completeHeader), xml.Bytes(), int64(xml.Len()), func(r *httpparse.Response, b []byte) error {
		if r.Status != 200 || isErrorBody(b) {
			return &callError{r.Status, append([]byte(nil), b...)}
		}
		etag = append([]byte(nil), unescapeXML(xmlElem(b, "ETag"))...)
		version = append([]byte(nil), r.Header("x-amz-version-id")...)
		return nil
	})
	if err != nil {
		abort("completion failed", err)
		upstreamErrors.Inc()
		return ex.failCall(err, "cannot complete the multipart upload", writeOut)
	}
	autoMPDone.Inc()
	out := appendStatusLine(ex.out[:0], 200)
	out = append(out, "x-amz-request-id: "...)
	out = append(out, ex.id...)
	out = append(out, "\r\nETag: "...)
	out = append(out, etag...)
	out = append(out, "\r\n"...)
	if len(version) > 0 {
		out = append(out, "x-amz-version-id: "...)
		out = append(out, version...)
		out = append(out, "\r\n"...)
	}
	out = append(out, ex.cors...)
	out = appendDate(out)
	out = append(out, "Content-Length: 0\r\n"...)
	if ex.close {
		out = append(out, "Connection: close\r\n"...)
	}
	ex.out = append(out, "\r\n"...)
	ex.finish(200)
	writeOut()
	return !ex.close
}

var errTooManyPartsErr = errors.New("engine: more than 10,000 parts")

// failCall answers a failed backend call: the backend's own error when it
// sent one, else 500/503.
func (ex *exchange) failCall(err error, what string, writeOut func()) bool {
	ex.close = true
	var ce *callError
	if errors.As(err, &ce) && len(ce.body) > 0 {
		ex.s.log.Warn(what, "id", string(ex.id), "route", ex.route.Name, "status", ce.status)
		ex.finish(ex.mapError(ce.body, ce.status))
	} else {
		ex.finish(ex.failUpstream(what, err))
	}
	writeOut()
	return false
}
