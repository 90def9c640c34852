package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mizuchi-gw/mizuchi/bench/internal/h1"
)

type idleConfig struct {
	addr, host, path string
	conns, asked     int // to open; asked before RLIMIT_NOFILE capped it
	body             int
	dialers          int
	hold, timeout    time.Duration
	pid              int
	metrics          string
}

type idleResult struct {
	Asked      int                `json:"asked"`
	Opened     int                `json:"opened"` // connections whose PUT got a 2xx
	Failed     int                `json:"failed"`
	Errors     map[string]string  `json:"error_examples,omitempty"`
	BodyBytes  int                `json:"body_bytes"`
	OpenSec    float64            `json:"open_s"` // opening all and their PUTs
	HoldSec    float64            `json:"hold_s"`
	Alive      int                `json:"alive_after_hold"` // still open (no EOF/reset) after the hold
	RSSBefore  int64              `json:"rss_before_bytes"`
	RSSAfter   int64              `json:"rss_after_bytes"` // after the hold, connections open
	RSSClosed  int64              `json:"rss_after_close_bytes"`
	RSSPerConn float64            `json:"rss_per_conn_bytes"` // (after - before) / opened
	FDsBefore  int                `json:"fds_before"`
	FDsAfter   int                `json:"fds_after"`
	Gauges     map[string]float64 `json:"gauges_after,omitempty"`
}

// runIdle opens the connections, sends one PUT on each, holds them idle and
// measures Mizuchi's RSS and descriptors around that.
func runIdle(ctx context.Context, log *slog.Logger, cfg idleConfig) *idleResult {
	res := &idleResult{Asked: cfg.asked, BodyBytes: cfg.body, Errors: map[string]string{}}
	settle(ctx, 500*time.Millisecond)
	res.RSSBefore, _ = readRSS(cfg.pid)
	res.FDsBefore = countFDs(cfg.pid)

	body := bytes.Repeat([]byte{'i'}, cfg.body)
	conns := make([]net.Conn, cfg.conns)
	deadline := time.Now().Add(cfg.timeout)
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReaderSize(nil, 4<<10)
			var head []byte
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(conns) {
					return
				}
				c, kind, err := putOne(cfg, i, body, deadline, br, &head)
				if err != nil {
					mu.Lock()
					res.Failed++
					if _, ok := res.Errors[kind]; !ok {
						res.Errors[kind] = err.Error()
					}
					mu.Unlock()
					continue
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	res.OpenSec = time.Since(start).Seconds()
	for _, c := range conns {
		if c != nil {
			res.Opened++
		}
	}
	log.Info("idle connections open", "opened", res.Opened, "failed", res.Failed, "took", time.Since(start))

	settle(ctx, cfg.hold)
	res.HoldSec = cfg.hold.Seconds()
	res.RSSAfter, _ = readRSS(cfg.pid)
	res.FDsAfter = countFDs(cfg.pid)
	if cfg.metrics != "" {
		if g, err := scrapeGauges(cfg.metrics); err == nil {
			res.Gauges = g
		} else {
			log.Warn("cannot read metrics", "err", err)
		}
	}
	res.Alive = countAlive(conns, 1024)
	if res.Opened > 0 {
		res.RSSPerConn = float64(res.RSSAfter-res.RSSBefore) / float64(res.Opened)
	}

	for i, c := range conns {
		if c != nil {
			c.Close()
			conns[i] = nil
		}
	}
	settle(ctx, time.Second)
	res.RSSClosed, _ = readRSS(cfg.pid)
	if len(res.Errors) == 0 {
		res.Errors = nil
	}
	return res
}

// putOne dials and sends PUT <path>/idle-<i> with body, reads the answer and
// returns the open connection. kind classifies a failure.
func putOne(cfg idleConfig, i int, body []byte, deadline time.Time, br *bufio.Reader, head *[]byte) (net.Conn, string, error) {
	d := net.Dialer{Deadline: deadline}
	c, err := d.Dial("tcp", cfg.addr)
	if err != nil {
		return nil, "dial", err
	}
	c.SetDeadline(deadline)
	b := append((*head)[:0], "PUT "...)
	b = append(b, cfg.path...)
	b = append(b, "/idle-"...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, cfg.host...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\nContent-Type: application/octet-stream\r\n\r\n"...)
	*head = b
	bufs := net.Buffers{b, body}
	if _, err := bufs.WriteTo(c); err != nil {
		c.Close()
		return nil, "write", err
	}
	br.Reset(c)
	status, err := readStatus(br)
	if err != nil {
		c.Close()
		return nil, "read", err
	}
	if status < 200 || status > 299 {
		c.Close()
		return nil, "status_" + strconv.Itoa(status), errors.New("unexpected status " + strconv.Itoa(status))
	}
	if br.Buffered() > 0 {
		c.Close()
		return nil, "protocol", errors.New("bytes after the response")
	}
	c.SetDeadline(time.Time{})
	return c, "", nil
}

// readStatus reads one response head and its Content-Length body and returns
// the status. A response that closes the connection is an error: the point is
// a kept-alive connection.
func readStatus(br *bufio.Reader) (int, error) {
	line, err := h1.ReadLine(br)
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, h1.ErrMalformed
	}
	status := int(h1.ParseUint(line[9:12]))
	var n int64
	for {
		line, err := h1.ReadLine(br)
		if err != nil {
			return 0, err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := h1.SplitHeader(line)
		if !ok {
			return 0, h1.ErrMalformed
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if n = h1.ParseUint(value); n < 0 {
				return 0, h1.ErrMalformed
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			return 0, errors.New("server closes the connection")
		}
	}
	if _, err := br.Discard(int(n)); err != nil {
		return 0, err
	}
	return status, nil
}

// countAlive probes each open connection with a 10 ms read, from workers
// goroutines at once: a timeout means it is still open and idle; EOF, a reset
// or data means it is not.
func countAlive(conns []net.Conn, workers int) int {
	var alive atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b [1]byte
			for {
				i := int(next.Add(1) - 1)
				if i >= len(conns) {
					return
				}
				c := conns[i]
				if c == nil {
					continue
				}
				c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
				_, err := c.Read(b[:])
				if errors.Is(err, os.ErrDeadlineExceeded) {
					alive.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return int(alive.Load())
}

// settle waits d unless ctx ends first.
func settle(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
