package main

// traceProxy is a TCP relay for the client matrix (MIZUCHI_CLIENT_TRACE=1):
// it passes bytes both ways untouched and, on the side, parses the request
// heads the client sent and the statuses the gateway answered, so the test
// log shows what each client really puts on the wire (payload hash mode,
// framing, checksums, Expect) without trusting the gateway to report it.
// Plain HTTP only. Signatures are never recorded.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

type traceProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	entries []*traceEntry
}

type traceEntry struct {
	req    string
	status string // "" until the answer is seen
}

func startTraceProxy(t testing.TB, target string) *traceProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot listen for the trace relay: %v", err)
	}
	p := &traceProxy{ln: ln, target: target}
	var wg sync.WaitGroup
	var connsMu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			connsMu.Lock()
			conns = append(conns, c)
			connsMu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.relay(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		connsMu.Lock()
		for _, c := range conns {
			c.Close()
		}
		connsMu.Unlock()
		wg.Wait()
	})
	return p
}

func (p *traceProxy) addr() string { return p.ln.Addr().String() }

// take returns the recorded exchanges and forgets them. The client may
// have read an answer before the sniffer did: give the sniffer a moment.
func (p *traceProxy) take() []string {
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		p.mu.Lock()
		done := true
		for _, e := range p.entries {
			done = done && e.status != ""
		}
		p.mu.Unlock()
		if done {
			break
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range p.entries {
		s := e.status
		if s == "" {
			s = "(no answer)"
		}
		out = append(out, e.req+" → "+s)
	}
	p.entries = nil
	return out
}

func (p *traceProxy) relay(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	pending := make(chan *traceEntry, 256) // request entries waiting for their answer
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // client → gateway
		defer wg.Done()
		pr, pw := io.Pipe()
		go p.sniffRequests(pr, pending)
		io.Copy(io.MultiWriter(server, pw), client)
		pw.Close()
		server.(*net.TCPConn).CloseWrite()
	}()
	go func() { // gateway → client
		defer wg.Done()
		pr, pw := io.Pipe()
		go p.sniffResponses(pr, pending)
		io.Copy(io.MultiWriter(client, pw), server)
		pw.Close()
		client.(*net.TCPConn).CloseWrite()
	}()
	wg.Wait()
}

// sniffRequests parses request heads from a copy of the client's bytes; it
// always reads to EOF so the relay never blocks on it.
func (p *traceProxy) sniffRequests(r io.Reader, pending chan<- *traceEntry) {
	defer io.Copy(io.Discard, r) // runs last
	defer close(pending)         // an answer sniffer waiting for an entry gives up first
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		e := &traceEntry{req: describeRequest(req)}
		p.mu.Lock()
		p.entries = append(p.entries, e)
		p.mu.Unlock()
		select {
		case pending <- e:
		default:
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return
		}
	}
}

func (p *traceProxy) sniffResponses(r io.Reader, pending <-chan *traceEntry) {
	defer io.Copy(io.Discard, r)
	br := bufio.NewReaderSize(r, 64<<10)
	var e *traceEntry
	for {
		if e == nil {
			var ok bool
			if e, ok = <-pending; !ok {
				return
			}
		}
		method := "PUT"
		if strings.HasPrefix(e.req, "HEAD ") {
			method = "HEAD"
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		s := fmt.Sprint(resp.StatusCode)
		if m := s3CodeRe.FindSubmatch(body); m != nil {
			s += " " + string(m[1])
		}
		p.mu.Lock()
		if e.status != "" {
			e.status += ", "
		}
		e.status += s
		p.mu.Unlock()
		if resp.StatusCode >= 200 {
			e = nil
		}
		if err != nil {
			return
		}
	}
}

var (
	s3CodeRe = regexp.MustCompile(`<Code>([^<]*)</Code>`)
	hex64Re  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	uploadRe = regexp.MustCompile(`uploadId=[^&]*`)
)

// describeRequest summarizes what matters of a request head for the
// gateway: method, path and query (upload ids elided), how the payload is
// signed, how the body is framed, which checksums ride along, and the shape
// of the Authorization header (never its signature).
func describeRequest(r *http.Request) string {
	var sb strings.Builder
	sb.WriteString(r.Method + " " + uploadRe.ReplaceAllString(r.RequestURI, "uploadId=…"))
	add := func(s string) { sb.WriteString(" " + s) }
	if sha := r.Header.Get("X-Amz-Content-Sha256"); sha != "" {
		if hex64Re.MatchString(sha) {
			sha = "<hex>"
		}
		add("sha256=" + sha)
	} else {
		add("sha256=(none)")
	}
	if len(r.TransferEncoding) > 0 {
		add("TE=" + strings.Join(r.TransferEncoding, ","))
	} else {
		add(fmt.Sprintf("CL=%d", r.ContentLength))
	}
	var names []string
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := r.Header.Get(k)
		lk := strings.ToLower(k)
		switch {
		case lk == "content-encoding", lk == "x-amz-trailer", lk == "x-amz-sdk-checksum-algorithm",
			lk == "x-amz-decoded-content-length", lk == "expect", lk == "x-amz-checksum-type",
			lk == "x-amz-checksum-algorithm":
			add(lk + "=" + v)
		case lk == "content-md5":
			add("content-md5")
		case strings.HasPrefix(lk, "x-amz-checksum-"):
			add(lk)
		}
	}
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		shape := "no-spaces"
		if strings.Contains(a, ", ") {
			shape = "spaces"
		}
		add("auth=" + scheme + "(" + shape + ")")
	} else if r.URL.Query().Get("X-Amz-Signature") != "" {
		add("auth=presigned")
	} else {
		add("auth=(none)")
	}
	return sb.String()
}
