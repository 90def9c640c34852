package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// maxTotalSamples bounds the latency samples kept across all connections
// (16 MB of int64); beyond it each connection keeps a uniform reservoir.
const maxTotalSamples = 2 << 20

// maxDuration bounds a run even if -duration says more.
const maxDuration = time.Hour

// maxParts is S3's limit of parts per multipart upload.
const maxParts = 10000

// config is one load run.
type config struct {
	addr      string // host:port to dial
	host      string // Host header
	path      string // key prefix, e.g. /uploads/bench; keys get /<conn>-<seq>
	size      int64  // body bytes per request (per part in multipart mode)
	parts     int    // >0: each iteration is one multipart upload of this many parts
	keys      int64  // >0: plain PUTs cycle over keys <path>/k0 … k<keys-1> (same for every connection)
	conns     int
	duration  time.Duration
	requests  int64 // 0: unlimited within duration; uploads in multipart mode
	expect100 bool
	timeout   time.Duration // per request: dial, write and read together
	bufSize   int           // shared body buffer; bodies repeat it
	newSigner func() signer
	https     bool        // the -url is https://
	tls       *tls.Config // client config when https
	tlsCipher uint16      // the cipher suite every handshake must pick; 0: any
	tlsVerify string      // how the server is verified, for the report
	// onStart, if set, runs once every connection is open (and handshaken),
	// right before the clock starts: measure takes its CPU readings there.
	onStart func()
}

// configFromURL fills addr, host, path and https from an http:// or
// https:// URL.
func configFromURL(cfg *config, raw string, allowNonLoopback bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("cannot parse -url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("-url %q: only http:// and https:// are supported", raw)
	}
	if u.RawQuery != "" {
		return fmt.Errorf("-url %q: a query is not supported", raw)
	}
	host := u.Hostname()
	port := u.Port()
	cfg.https = u.Scheme == "https"
	switch {
	case port != "":
	case cfg.https:
		port = "443"
	default:
		port = "80"
	}
	if !allowNonLoopback {
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("-url host %q is not a loopback address (see -allow-nonloopback)", host)
		}
	}
	cfg.addr = net.JoinHostPort(host, port)
	cfg.host = u.Host
	cfg.path = u.EscapedPath()
	for len(cfg.path) > 0 && cfg.path[len(cfg.path)-1] == '/' {
		cfg.path = cfg.path[:len(cfg.path)-1]
	}
	return nil
}

func (cfg *config) validate() error {
	switch {
	case cfg.addr == "":
		return errors.New("no target address")
	case cfg.conns <= 0:
		return errors.New("-conns must be positive")
	case cfg.size < 0:
		return errors.New("-size must not be negative")
	case cfg.duration <= 0:
		return errors.New("-duration must be positive: every run is bounded in time")
	case cfg.duration > maxDuration:
		return fmt.Errorf("-duration must be at most %s", maxDuration)
	case cfg.requests < 0:
		return errors.New("-requests must not be negative")
	case cfg.parts < 0 || cfg.parts > maxParts:
		return fmt.Errorf("-multipart-parts must be 0 (off) to %d", maxParts)
	case cfg.timeout <= 0:
		return errors.New("-timeout must be positive")
	case cfg.bufSize <= 0:
		return errors.New("body buffer size must be positive")
	case cfg.newSigner == nil:
		return errors.New("no signer")
	case cfg.https && cfg.tls == nil:
		return errors.New("an https:// -url needs a TLS client config")
	case cfg.keys < 0 || (cfg.keys > 0 && cfg.parts > 0):
		return errors.New("-keys must be 0 (a fresh key per request) or positive, and only with plain PUTs")
	}
	return nil
}

// result is what a run measured on the generator side.
type result struct {
	ok        int64 // 2xx responses
	bodyBytes int64 // body bytes of 2xx PUTs (parts in multipart mode)
	xmlBytes  int64 // CompleteMultipartUpload body bytes of 2xx completions
	uploads   int64 // completed multipart uploads
	errs      map[string]int64
	firstErr  map[string]string // one example message per kind
	dials     int64
	elapsed   time.Duration
	latencies []time.Duration // successful requests only; unsorted, sampled

	uploadLatencies []time.Duration // completed uploads, create to complete; unsorted, sampled

	handshakes      int64         // TLS handshakes, all
	handshakesInRun int64         // of which after the clock started (reconnects)
	handshakeTime   time.Duration // summed wall clock of those before
	tlsState        tlsState      // what one handshake negotiated
}

func (r *result) errTotal() int64 {
	var n int64
	for _, v := range r.errs {
		n += v
	}
	return n
}

// run drives cfg.conns connections until cfg.duration passes, cfg.requests
// have been started, or ctx is cancelled, whichever is first. A request in
// flight at the deadline finishes (within cfg.timeout) and is counted; elapsed
// runs until the last one does. In multipart mode (cfg.parts > 0) an
// iteration is a whole upload: cfg.requests counts uploads, and an upload in
// flight at the deadline runs to its end.
func run(ctx context.Context, cfg *config) (*result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	body := make([]byte, min(int64(cfg.bufSize), max(cfg.size, 1)))
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	perConn := maxTotalSamples / cfg.conns
	perConnUploads := 0
	if cfg.parts > 0 {
		perConnUploads = maxTotalSamples / 4 / cfg.conns
	}
	if cfg.requests > 0 {
		perIter := int64(1)
		if cfg.parts > 0 {
			perIter = int64(cfg.parts) + 2
		}
		perConn = int(min(int64(perConn), cfg.requests*perIter))
		perConnUploads = int(min(int64(perConnUploads), cfg.requests))
	}

	var started atomic.Int64
	workers := make([]*worker, cfg.conns)
	for i := range workers {
		workers[i] = newWorker(i, cfg, body, cfg.newSigner(), perConn)
		workers[i].ulat = make([]time.Duration, 0, perConnUploads)
	}

	// Every connection is opened (and TLS-handshaken) before the clock and
	// the CPU readings start: the run measures requests on open keep-alive
	// connections. A worker whose connection failed counts the error and
	// dials again in its loop.
	var dialing sync.WaitGroup
	for _, w := range workers {
		dialing.Add(1)
		go func() {
			defer dialing.Done()
			if kind := w.dial(); kind != "" {
				w.errs[kind]++
			}
			w.running = true
		}()
	}
	dialing.Wait()
	if cfg.onStart != nil {
		cfg.onStart()
	}

	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	begin := time.Now()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.closeConn()
			for ctx.Err() == nil {
				if cfg.requests > 0 && started.Add(1) > cfg.requests {
					return
				}
				var kind string
				if cfg.parts > 0 {
					t0 := time.Now()
					if kind = w.upload(); kind == "" {
						w.uploads++
						w.recordUpload(time.Since(t0))
					}
				} else {
					w.seq++
					kind = w.request(reqPut)
				}
				if kind != "" {
					w.errs[kind]++
					if kind == errDial || kind == errTLS {
						// Do not spin on a refused port; the run is bounded anyway.
						select {
						case <-ctx.Done():
						case <-time.After(10 * time.Millisecond):
						}
					}
				}
			}
		}()
	}
	wg.Wait()

	res := &result{errs: make(map[string]int64), firstErr: make(map[string]string), elapsed: time.Since(begin)}
	total, utotal := 0, 0
	for _, w := range workers {
		total += len(w.lat)
		utotal += len(w.ulat)
	}
	res.latencies = make([]time.Duration, 0, total)
	res.uploadLatencies = make([]time.Duration, 0, utotal)
	for _, w := range workers {
		res.ok += w.ok
		res.bodyBytes += w.bytes
		res.xmlBytes += w.xmlBytes
		res.uploads += w.uploads
		res.dials += w.dials
		res.handshakes += w.handshakes
		res.handshakesInRun += w.handshakesInRun
		res.handshakeTime += w.handshakeTime
		if w.tlsState.version != 0 {
			res.tlsState = w.tlsState
		}
		for k, v := range w.errs {
			res.errs[k] += v
		}
		for k, v := range w.first {
			if _, ok := res.firstErr[k]; !ok {
				res.firstErr[k] = v
			}
		}
		res.latencies = append(res.latencies, w.lat...)
		res.uploadLatencies = append(res.uploadLatencies, w.ulat...)
	}
	return res, nil
}
