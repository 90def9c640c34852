package s3sink

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// readBufSize is each connection's read buffer; bodies are discarded through it.
const readBufSize = 256 << 10

// Stats are the sink's running totals.
type Stats struct {
	Conns     uint64 // connections accepted
	Requests  uint64 // responses produced (counted just before the write)
	BodyBytes uint64 // request body bytes read and discarded
	Errors    uint64 // connections ended by a malformed request or I/O error mid-request
}

// Server is a running sink. Its zero value is not usable; call Listen or
// NewServer.
type Server struct {
	ln     net.Listener
	log    *slog.Logger
	reqID  atomic.Uint64
	stats  struct{ conns, requests, bodyBytes, errors atomic.Uint64 }
	mu     sync.Mutex
	open   map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Listen binds addr (for example "127.0.0.1:0"). Call Serve to accept.
func Listen(addr string, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %q: %w", addr, err)
	}
	return NewServer(ln, log), nil
}

// NewServer serves on ln, which may be any listener (a TLS one in loadgen's
// tests). Call Serve to accept; Close closes ln.
func NewServer(ln net.Listener, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{ln: ln, log: log, open: make(map[net.Conn]struct{})}
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Stats returns a snapshot of the running totals.
func (s *Server) Stats() Stats {
	return Stats{
		Conns:     s.stats.conns.Load(),
		Requests:  s.stats.requests.Load(),
		BodyBytes: s.stats.bodyBytes.Load(),
		Errors:    s.stats.errors.Load(),
	}
}

// Serve accepts connections until Close. It returns nil after Close.
func (s *Server) Serve() error {
	var backoff time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Temporary errors (EMFILE and friends): back off like net/http.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !s.track(c, true) {
			c.Close()
			return nil
		}
		s.stats.conns.Add(1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.track(c, false)
			defer c.Close()
			s.serveConn(c)
		}()
	}
}

func (s *Server) track(c net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.closed {
			return false
		}
		s.open[c] = struct{}{}
	} else {
		delete(s.open, c)
	}
	return true
}

// Close stops accepting, closes every open connection and waits for their
// goroutines to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	err := s.ln.Close()
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// serveConn runs one keep-alive connection until the peer closes it, asks to
// close, or sends something the sink cannot parse.
func (s *Server) serveConn(c net.Conn) {
	br := bufio.NewReaderSize(c, readBufSize)
	var req request
	out := make([]byte, 0, 1024)
	for {
		req.reset()
		if err := req.readHead(br); err != nil {
			if err == io.EOF && req.empty {
				return // clean close between requests
			}
			s.stats.errors.Add(1)
			if errors.Is(err, errBadRequest) || errors.Is(err, bufio.ErrBufferFull) {
				out = appendError(out[:0], 400, "Bad Request", "InvalidRequest", err.Error(), s.reqID.Add(1), true)
				c.Write(out)
			}
			return
		}
		if req.expectContinue && (req.contentLength > 0 || req.chunked) {
			if _, err := c.Write(continueLine); err != nil {
				s.stats.errors.Add(1)
				return
			}
		}
		n, err := req.discardBody(br)
		s.stats.bodyBytes.Add(uint64(n))
		if err != nil {
			s.stats.errors.Add(1)
			return
		}
		out = s.appendResponse(out[:0], &req)
		// Counted before the write so a client that saw the answer also
		// sees it in Stats.
		s.stats.requests.Add(1)
		if _, err := c.Write(out); err != nil {
			s.stats.errors.Add(1)
			return
		}
		if req.close {
			return
		}
	}
}

var continueLine = []byte("HTTP/1.1 100 Continue\r\n\r\n")
