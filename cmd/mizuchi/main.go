// Command mizuchi is the upload-only S3 gateway.
//
// With -config it serves the routes of a YAML file; without, it starts a
// self-contained development setup (a versitygw backend on loopback, one
// route /uploads) and prints how to upload to it.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/engine"
	"github.com/mizuchi-gw/mizuchi/pipes"
)

var (
	configPath   = flag.String("config", "", "YAML configuration file (the original Mizuchi format is accepted). Without it, mizuchi starts a development setup with a local versitygw backend.")
	checkOnly    = flag.Bool("check", false, "Validate the configuration given by -config and exit: status 0 when valid, 1 otherwise.")
	devVersitygw = flag.String("dev-versitygw", "", "Development mode: path of the versitygw binary to start as the local S3 backend. Default: versitygw on PATH, then $XDG_CACHE_HOME/mizuchi/bin/versitygw (installed by scripts/install-versitygw.sh).")
	devDir       = flag.String("dev-dir", ".dev", "Development mode: directory for the backend's data (objects land in <dev-dir>/data/uploads).")
	accessLog    = flag.Bool("access-log", false, "Log one line per request (id, client, route, operation, status, bytes, duration, identity, decision). Never logs credentials, signatures or query strings. Overrides access_log.enabled.")
	logLevel     = flag.String("log-level", "info", "Log level: debug, info, warn or error.")
	loopRelay    = flag.Bool("loop-relay", true, "Relay requests whose body fits in the event loop's buffer (below -splice-threshold) on the event loop, over backend connections registered on it; -loop-relay=false hands each to a goroutine instead (for comparison).")
	logJSON      = flag.Bool("log-json", false, "Log JSON lines instead of text.")
	pprofOn      = flag.Bool("pprof", false, "Serve /debug/pprof/ on the admin listener. Off by default: profiles reveal internals.")
	drainTimeout = flag.Duration("drain-timeout", 30*time.Second, "On SIGTERM or SIGINT, how long in-flight uploads may take to finish before connections are closed.")
)

var tuning config.Flags

func main() {
	tuning.Register(flag.CommandLine)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: %s [-config FILE] [flags]\n\nMizuchi is an upload-only S3 gateway. Flags:\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	out := newAsyncWriter(os.Stderr)
	log := newLogger(out)
	slog.SetDefault(log)
	err := run(log)
	if err != nil {
		log.Error("mizuchi stopped", "err", err)
	}
	out.Flush()
	if err != nil {
		os.Exit(1)
	}
}

// newLogger returns the gateway's logger, writing to out: warnings and
// errors rate-limited (lograte.go), and never waiting on the output
// (logwriter.go).
func newLogger(out io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "invalid -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if *logJSON {
		return slog.New(newRateLimited(slog.NewJSONHandler(out, opts), logLinesPerSecond))
	}
	return slog.New(newRateLimited(slog.NewTextHandler(out, opts), logLinesPerSecond))
}

func run(log *slog.Logger) error {
	startAt := time.Now()
	if *checkOnly {
		if *configPath == "" {
			return errors.New("-check needs -config")
		}
		cfg, _, err := loadConfig(*configPath)
		if err != nil {
			return err
		}
		if u := cfg.Unsupported(); len(u) > 0 {
			return fmt.Errorf("configuration uses features this build does not implement: %v", u)
		}
		if cfg.Server.TLS.Enabled() {
			if _, err := loadCert(&cfg.Server.TLS); err != nil {
				return err
			}
		}
		fmt.Printf("%s: OK (%d routes)\n", *configPath, len(cfg.Buckets))
		return nil
	}

	var cfg *config.Config
	var cfgHash string // "" in development mode
	var dev *devBackend
	if *configPath == "" {
		var err error
		dev, err = startDevBackend(log, *devVersitygw, *devDir)
		if err != nil {
			return err
		}
		defer dev.stop()
		cfg = config.Dev(dev.dataDir, dev.endpoint, dev.accessKey, dev.secretKey)
		cfg.ApplyFlags(&tuning)
		if err := cfg.Validate(); err != nil {
			return err
		}
	} else {
		var err error
		if cfg, cfgHash, err = loadConfig(*configPath); err != nil {
			return err
		}
	}
	if u := cfg.Unsupported(); len(u) > 0 {
		return fmt.Errorf("refusing to start: the configuration uses features this build does not implement (serving without them would be unsafe): %v", u)
	}

	loops := setProcs(cfg.Server.Loops)

	var tlsCfg *tls.Config
	if cfg.Server.TLS.Enabled() {
		certs = &certStore{}
		if err := certs.load(&cfg.Server.TLS); err != nil {
			return err
		}
		tlsCfg = certs.serverConfig()
	}

	for _, ig := range cfg.Ignored() {
		log.Warn("configuration key accepted but has no effect in this build", "key", ig)
	}
	ctx := context.Background()
	tracer, stopTracing, err := startTracing(ctx, log, &cfg.Tracing)
	if err != nil {
		return err
	}
	defer flushTracing(log, stopTracing)
	rs, err := buildRouter(ctx, log, cfg)
	if err != nil {
		return err
	}
	live.Store(rs)
	configLoaded(cfgHash)
	registerBuildInfo()
	router := rs.router
	var pp *pipes.Pool
	if cfg.Server.ZeroCopy.Enabled {
		pp = pipes.NewPool(pipes.Config{PipeSize: int(cfg.Server.ZeroCopy.PipeBufferSize), Max: cfg.Server.PipePool})
		defer pp.Close()
		registerPipeGauges(pp)
	}
	proxyTrusted, err := config.ParsePrefixes(cfg.Server.ProxyProtocol.Trusted)
	if err != nil {
		return fmt.Errorf("server.proxy_protocol.trusted: %w", err)
	}
	trustedProxies, err := config.ParsePrefixes(cfg.Server.TrustedProxies)
	if err != nil {
		return fmt.Errorf("server.trusted_proxies: %w", err)
	}
	if len(proxyTrusted) > 0 || len(trustedProxies) > 0 {
		log.Info("client addresses from load balancers", "proxy_protocol_trusted", cfg.Server.ProxyProtocol.Trusted,
			"trusted_proxies", cfg.Server.TrustedProxies)
	}
	alog, err := openAccessLog(log, cfg)
	if err != nil {
		return err
	}
	defer alog.Close()
	setMemoryLimit(log, cfg)
	pipePool := 0
	if cfg.Server.ZeroCopy.Enabled {
		pipePool = cfg.Server.PipePool
	}
	fdLimit := fileLimitFDs(log, pipePool, cfg.Server.MaxConnections)
	srv, err := engine.New(engine.Config{
		Addr:            cfg.Server.Address,
		Loops:           loops,
		MaxHeadSize:     int(cfg.Server.MaxHeaderBytes),
		SpliceThreshold: int64(cfg.Server.SpliceThreshold),
		BufferBudget:    int64(cfg.Server.Memory.BufferBudget),
		ZeroCopy:        cfg.Server.ZeroCopy.Enabled,
		HeaderTimeout:   cfg.Server.HeaderTimeout,
		IdleTimeout:     cfg.Server.IdleTimeout,
		BodyTimeout:     cfg.Server.BodyTimeout,
		UpstreamTimeout: cfg.Server.UpstreamTimeout,
		MaxConns:        cfg.Server.MaxConnections,
		Pipes:           pp,
		AccessLog:       alog,
		NoLoopRelay:     !*loopRelay,
		Logger:          log,
		TLS:             tlsCfg,
		Tracer:          tracer,
		ProxyProtocol:   proxyTrusted,
		TrustedProxies:  trustedProxies,
		Limits:          engineLimits(&cfg.Server.Limits),
		SpoolDir:        cfg.Server.Spool.Dir,
		SpoolMaxBytes:   int64(cfg.Server.Spool.MaxBytes),
		FDLimit:         fdLimit,
	}, router)
	if err != nil {
		return err
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve() }()
	select {
	case err := <-serveErr:
		return err
	case <-srv.Booted():
	}

	rl := &reloader{log: log, srv: srv, running: cfg}
	var adm *admin
	if cfg.Server.AdminAddress != "" {
		adm, err = startAdmin(log, cfg.Server.AdminAddress, cfg.Metrics.Enabled, *pprofOn, srv, rl)
		if err != nil {
			return err
		}
		defer adm.stop()
	}
	log.Info("mizuchi started", "listen", cfg.Server.Address, "tls", tlsCfg != nil, "admin", cfg.Server.AdminAddress,
		"routes", len(cfg.Buckets), "loops", loops, "gomaxprocs", runtime.GOMAXPROCS(0), "zero_copy", cfg.Server.ZeroCopy.Enabled,
		"splice_threshold", int64(cfg.Server.SpliceThreshold), "took", time.Since(startAt).Round(time.Millisecond).String())
	if dev != nil {
		dev.printHowTo(os.Stdout, cfg)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	for {
		select {
		case err := <-serveErr:
			return err
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				reopenAccessLog(log, alog)
				_, _ = rl.reload(ctx, "SIGHUP") // logged and counted there
				continue
			}
			return drain(log, srv, adm, sig, sigs)
		}
	}
}

// drain stops the gateway after SIGTERM or SIGINT: /readyz answers 503 at
// once, new connections get 503 SlowDown and are closed, in-flight uploads
// get -drain-timeout to finish. A second SIGTERM or SIGINT exits at once.
func drain(log *slog.Logger, srv *engine.Server, adm *admin, sig os.Signal, sigs <-chan os.Signal) error {
	if adm != nil {
		adm.draining.Store(true)
	}
	log.Info("draining", "signal", sig.String(), "inflight", srv.InFlight(), "timeout", drainTimeout.String())
	t0 := time.Now()
	dctx, cancel := context.WithTimeout(context.Background(), *drainTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(dctx) }()
	for {
		select {
		case err := <-done:
			log.Info("stopped", "took", time.Since(t0).Round(time.Millisecond).String(), "err", err)
			return nil
		case s := <-sigs:
			if s == syscall.SIGHUP {
				log.Warn("reload ignored while draining")
				continue
			}
			log.Warn("second signal while draining: exiting now", "signal", s.String(), "inflight", srv.InFlight())
			return fmt.Errorf("exited on a second %s while draining", s)
		}
	}
}

// live is the route set being served (for readiness and reload).
var live atomic.Pointer[routeSet]

// certs serves the S3 listener's certificate; nil without server.tls.
var certs *certStore

// setProcs fixes the number of event loops (0 means one per CPU Go may
// use) and gives the Go scheduler one P more than that, unless the
// GOMAXPROCS environment variable decides. Each gnet loop holds its P while
// it blocks in epoll_wait; with no idle P, sysmon's retake hands a blocked
// loop's P off after 20µs and the loop must win a P back when epoll_wait
// returns (uprobes on runtime.handoffp at 1 KiB PUTs, 2 loops, 64
// connections: 128 hand-offs/s without a spare P, 34/s with one). The
// spare P has its own cost: gnet calls runtime.Gosched whenever a loop runs
// dry, and with an idle P that wakes a thread that finds nothing to do. On
// the loaded 2-core VM the two came out even in CPU per request (medians of
// 10 alternating runs: 113 µs against 110 µs) and ahead in rate (7,862
// against 6,664 req/s); the spare P also runs the worker goroutines (large
// bodies, JWKS, admin) without taking a loop's P.
func setProcs(loops int) int {
	n := runtime.GOMAXPROCS(0)
	if loops <= 0 {
		loops = n
	}
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(loops + 1)
	}
	return loops
}
