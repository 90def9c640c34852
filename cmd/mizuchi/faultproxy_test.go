package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fault is what faultInjector does with one request.
type fault int

const (
	faultNone      fault = iota // forward to the backend and relay the reply
	faultRefuse                 // reset the connection as the request arrives; nothing forwarded
	faultReset                  // forward the head and resetAfter body bytes, then reset both sides
	faultStall                  // stop reading and forwarding; never answer
	faultSlowDown               // answer 503 SlowDown itself, forwarding nothing
	faultMalformed              // answer a garbage status line, then close
	faultTruncated              // answer a truncated head, then close
)

var faultNames = [...]string{"none", "refuse", "reset", "stall", "slowdown", "malformed", "truncated"}

func (f fault) String() string { return faultNames[f] }

// proxyReq is what faultInjector knows of a request when it picks a fault.
type proxyReq struct {
	n      int // 0-based count of requests the proxy has seen
	method string
	uri    string
}

// faultInjector is a loopback HTTP/1.1 proxy in front of versitygw that
// injects backend faults per request (rule) or refuses connections
// (refuse). It understands just enough HTTP to find request boundaries:
// Mizuchi always sends a Content-Length upstream.
type faultInjector struct {
	t          *testing.T
	ln         net.Listener
	addr       string
	backend    string // versitygw host:port
	resetAfter int64  // body bytes forwarded before faultReset

	mu    sync.Mutex
	rule  func(proxyReq) fault
	n     int
	seen  map[fault]int
	conns map[net.Conn]struct{}

	closed atomic.Bool
	done   chan struct{} // closed by close
}

// newFaultInjector starts a proxy to b; it forwards everything until setRule.
func newFaultInjector(t *testing.T, b *backend) *faultInjector {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultInjector{t: t, ln: ln, addr: ln.Addr().String(), backend: b.addr, resetAfter: 16 << 10,
		seen: map[fault]int{}, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	t.Cleanup(p.close)
	go p.serve()
	return p
}

// via is b with its endpoint pointed at the proxy (for the gateway config).
func (p *faultInjector) via(b *backend) *backend {
	c := *b
	c.endpoint = "http://" + p.addr
	return &c
}

// setRule sets the fault of each request from now on (nil forwards all).
func (p *faultInjector) setRule(r func(proxyReq) fault) {
	p.mu.Lock()
	p.rule = r
	p.mu.Unlock()
}

// count returns how many requests got f.
func (p *faultInjector) count(f fault) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[f]
}

// firstN answers the first k requests that match with f, forwards the rest.
func firstFaults(k int, f fault, match func(proxyReq) bool) func(proxyReq) fault {
	var mu sync.Mutex
	return func(r proxyReq) fault {
		if match != nil && !match(r) {
			return faultNone
		}
		mu.Lock()
		defer mu.Unlock()
		if k > 0 {
			k--
			return f
		}
		return faultNone
	}
}

// always answers every matching request with f.
func alwaysFault(f fault, match func(proxyReq) bool) func(proxyReq) fault {
	return func(r proxyReq) fault {
		if match != nil && !match(r) {
			return faultNone
		}
		return f
	}
}

// isPart matches UploadPart requests.
func isPart(r proxyReq) bool { return strings.Contains(r.uri, "partNumber=") }

// isPut matches PUT requests.
func isPut(r proxyReq) bool { return r.method == http.MethodPut }

// closeListener makes new connections to the proxy's port refused and
// resets the open ones.
func (p *faultInjector) closeListener() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		reset(c)
	}
	p.mu.Unlock()
}

func (p *faultInjector) close() {
	if p.closed.Swap(true) {
		return
	}
	close(p.done)
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

func (p *faultInjector) track(c net.Conn, on bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		if p.closed.Load() {
			return false
		}
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
	return true
}

func (p *faultInjector) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c, true) {
			c.Close()
			return
		}
		go func() {
			defer p.track(c, false)
			p.handle(c)
		}()
	}
}

func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// readHead reads a request head; it returns the head bytes, method, URI
// and Content-Length.
func readHead(br *bufio.Reader) (head []byte, method, uri string, cl int64, err error) {
	var buf bytes.Buffer
	cl = 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return nil, "", "", 0, err
		}
		buf.Write(line)
		if buf.Len() == len(line) {
			f := strings.Fields(string(line))
			if len(f) < 2 {
				return nil, "", "", 0, io.ErrUnexpectedEOF
			}
			method, uri = f[0], f[1]
			continue
		}
		if string(line) == "\r\n" {
			return buf.Bytes(), method, uri, cl, nil
		}
		if name, v, ok := strings.Cut(string(line), ":"); ok && strings.EqualFold(strings.TrimSpace(name), "content-length") {
			cl, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
}

const slowDownXML = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"

var slowDownReply = "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: " +
	strconv.Itoa(len(slowDownXML)) + "\r\n\r\n" + slowDownXML

// handle serves one connection from Mizuchi: requests in sequence, each
// forwarded over the connection's own backend connection unless faulted.
func (p *faultInjector) handle(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 64<<10)
	var up net.Conn
	var ubr *bufio.Reader
	defer func() {
		if up != nil {
			up.Close()
		}
	}()
	for {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		head, method, uri, cl, err := readHead(br)
		if err != nil {
			return // a readiness probe, or Mizuchi closed an idle connection
		}
		p.mu.Lock()
		r := proxyReq{n: p.n, method: method, uri: uri}
		p.n++
		rule := p.rule
		p.mu.Unlock()
		f := faultNone
		if rule != nil {
			f = rule(r)
		}
		p.mu.Lock()
		p.seen[f]++
		p.mu.Unlock()
		switch f {
		case faultRefuse:
			reset(c)
			return
		case faultStall:
			// Read nothing more, send nothing, until the test ends.
			<-p.done
			return
		case faultSlowDown, faultMalformed, faultTruncated:
			if _, err := io.CopyN(io.Discard, br, cl); err != nil {
				return
			}
			switch f {
			case faultSlowDown:
				_, _ = io.WriteString(c, slowDownReply)
				continue
			case faultMalformed:
				_, _ = io.WriteString(c, "HTTP/1.1 two hundred OK\r\nServer: confused\r\n\r\n")
			default:
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nContent-Le")
			}
			return
		}
		if up == nil {
			up, err = net.DialTimeout("tcp", p.backend, 5*time.Second)
			if err != nil {
				reset(c)
				return
			}
			ubr = bufio.NewReaderSize(up, 64<<10)
		}
		if _, err := up.Write(head); err != nil {
			reset(c)
			return
		}
		if f == faultReset {
			_, _ = io.CopyN(up, br, min(cl, p.resetAfter))
			reset(up)
			up = nil
			reset(c)
			return
		}
		if _, err := io.CopyN(up, br, cl); err != nil {
			reset(up)
			up = nil
			reset(c)
			return
		}
		_ = up.SetReadDeadline(time.Now().Add(2 * time.Minute))
		resp, err := http.ReadResponse(ubr, &http.Request{Method: method})
		if err != nil {
			reset(c)
			return
		}
		err = resp.Write(c)
		resp.Body.Close()
		if err != nil || resp.Close {
			return
		}
	}
}
