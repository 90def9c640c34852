// Command scale measures how Mizuchi's memory grows with connections and
// with concurrent large uploads; bench/scale.sh (make bench-scale) starts the
// sink and Mizuchi and runs it.
//
// Two phases, each bounded in time:
//
//   - idle: open -idle-conns keep-alive connections, send one small PUT on
//     each (so each is a real keep-alive connection that went through a
//     request, not a bare accept), then leave them idle for -hold. Mizuchi's
//     VmRSS before and after gives the RSS per idle connection; its open file
//     descriptors and, with -metrics, its mizuchi_connections_active gauge
//     confirm that the connections are really held.
//   - uploads: run loadgen with -upload-conns connections sending one
//     -upload-size body each, all at once, while sampling Mizuchi's VmRSS
//     every 50 ms (and, with -metrics, its pipes and in-flight gauges every
//     250 ms). The peak shows whether memory follows the pipe pool and
//     buffers or the body size.
//
// It raises its own RLIMIT_NOFILE to fit the idle connections (Go already
// lifts the soft limit to the hard one; as root it also raises the hard
// limit) and refuses non-loopback targets. It prints a short table and writes
// JSON with -json.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

var (
	targetURL   = flag.String("url", "", "Mizuchi route prefix on a loopback address, e.g. http://127.0.0.1:8080/uploads/scale (required)")
	pid         = flag.Int("pid", 0, "Mizuchi's PID, whose /proc/PID/status VmRSS and /proc/PID/fd are read (required)")
	metricsURL  = flag.String("metrics", "", "Mizuchi's /metrics URL; when set, its connection, in-flight and pipe gauges are reported too")
	phases      = flag.String("phases", "idle,uploads", "phases to run: idle, uploads or both (comma-separated)")
	idleConns   = flag.Int("idle-conns", 10000, "idle phase: keep-alive connections to open and hold")
	idleBody    = flag.Int("idle-body", 1024, "idle phase: body bytes of the one PUT sent on each connection")
	dialers     = flag.Int("dialers", 64, "idle phase: connections opened concurrently")
	hold        = flag.Duration("hold", 2*time.Second, "idle phase: how long the connections stay idle before RSS is read")
	idleTimeout = flag.Duration("idle-timeout", 60*time.Second, "idle phase: bound on opening all connections and their PUTs")
	loadgenBin  = flag.String("loadgen", "", "uploads phase: path of the loadgen binary (required for that phase)")
	upConns     = flag.Int("upload-conns", 256, "uploads phase: concurrent uploads, one connection and one body each")
	upSize      = flag.String("upload-size", "64MiB", "uploads phase: body size of each upload (loadgen -size syntax)")
	upTimeout   = flag.Duration("upload-timeout", 100*time.Second, "uploads phase: bound on the whole phase; uploads still running then count as errors")
	jsonOut     = flag.String("json", "", "write the results as JSON to this file")
)

// result is the JSON document.
type result struct {
	CreatedAt time.Time      `json:"created_at"`
	Host      hostInfo       `json:"host"`
	PID       int            `json:"mizuchi_pid"`
	Idle      *idleResult    `json:"idle,omitempty"`
	Uploads   *uploadsResult `json:"uploads,omitempty"`
}

type hostInfo struct {
	CPUs   int    `json:"cpus"`
	Kernel string `json:"kernel,omitempty"`
}

func main() {
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := checkFlags(); err != nil {
		log.Error("bad flags", "err", err)
		os.Exit(2)
	}
	wantIdle, wantUploads, err := parsePhases(*phases)
	if err != nil {
		log.Error("bad flags", "err", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	res := &result{CreatedAt: time.Now().UTC(), PID: *pid, Host: hostInfo{CPUs: runtime.NumCPU(), Kernel: kernel()}}
	if wantIdle {
		start := time.Now()
		n, err := raiseNoFile(*idleConns + 256)
		if err != nil {
			log.Warn("cannot raise RLIMIT_NOFILE", "err", err)
		}
		conns := *idleConns
		if n > 0 && n-256 < conns {
			conns = n - 256
			log.Warn("fewer idle connections than asked: RLIMIT_NOFILE", "limit", n, "conns", conns)
		}
		res.Idle = runIdle(ctx, log, idleConfig{
			addr: addrOf(*targetURL), host: hostOf(*targetURL), path: pathOf(*targetURL),
			conns: conns, asked: *idleConns, body: *idleBody, dialers: *dialers,
			hold: *hold, timeout: *idleTimeout, pid: *pid, metrics: *metricsURL,
		})
		log.Info("idle phase done", "took", time.Since(start))
	}
	if wantUploads && ctx.Err() == nil {
		start := time.Now()
		res.Uploads, err = runUploads(ctx, log, uploadsConfig{
			loadgen: *loadgenBin, url: *targetURL, conns: *upConns, size: *upSize,
			timeout: *upTimeout, pid: *pid, metrics: *metricsURL,
		})
		if err != nil {
			log.Error("uploads phase failed", "err", err)
			os.Exit(1)
		}
		log.Info("uploads phase done", "took", time.Since(start))
	}

	writeTable(os.Stdout, res)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			log.Error("cannot write -json", "err", err)
			os.Exit(1)
		}
	}
	if ctx.Err() != nil {
		os.Exit(130)
	}
}

func checkFlags() error {
	if *pid <= 0 {
		return errors.New("-pid is required")
	}
	u, err := url.Parse(*targetURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("-url %q: want http://HOST:PORT/prefix", *targetURL)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-url host %q is not a loopback address", u.Hostname())
	}
	if *idleConns <= 0 || *dialers <= 0 || *upConns <= 0 || *idleBody < 0 {
		return errors.New("-idle-conns, -dialers and -upload-conns must be positive, -idle-body not negative")
	}
	if *hold < 0 || *idleTimeout <= 0 || *upTimeout <= 0 {
		return errors.New("-hold must not be negative; -idle-timeout and -upload-timeout must be positive")
	}
	return nil
}

func parsePhases(s string) (idle, uploads bool, err error) {
	for _, p := range splitComma(s) {
		switch p {
		case "idle":
			idle = true
		case "uploads":
			uploads = true
		default:
			return false, false, fmt.Errorf("unknown phase %q in -phases (want idle, uploads)", p)
		}
	}
	if uploads && *loadgenBin == "" {
		return false, false, errors.New("the uploads phase needs -loadgen")
	}
	return idle, uploads, nil
}

func addrOf(raw string) string {
	u, _ := url.Parse(raw)
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func hostOf(raw string) string {
	u, _ := url.Parse(raw)
	return u.Host
}

func pathOf(raw string) string {
	u, _ := url.Parse(raw)
	p := u.EscapedPath()
	for len(p) > 0 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}
