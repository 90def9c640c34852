package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/pprofhandler"

	"github.com/mizuchi-gw/mizuchi/engine"
	"github.com/mizuchi-gw/mizuchi/pipes"
)

// admin serves /metrics, /healthz, /readyz, /-/reload and, with -pprof,
// /debug/pprof/ with fasthttp on its own listener, away from the S3 port.
// The listener has no authentication: it belongs on loopback or a private
// network.
type admin struct {
	srv   *fasthttp.Server
	ln    net.Listener
	ready atomic.Bool
	// draining is set on SIGTERM: /readyz answers 503 from then on.
	draining atomic.Bool
	stopc    chan struct{}
}

func startAdmin(log *slog.Logger, addr string, withMetrics, withPprof bool, s *engine.Server, rl *reloader) (*admin, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on admin address %q: %w", addr, err)
	}
	a := &admin{ln: ln, stopc: make(chan struct{})}
	if withMetrics {
		setupMetrics(s)
	}
	a.srv = &fasthttp.Server{
		Name:                  "mizuchi-admin",
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          60 * time.Second,
		NoDefaultServerHeader: true,
		Handler: func(ctx *fasthttp.RequestCtx) {
			path := string(ctx.Path())
			switch {
			case path == "/metrics" && withMetrics:
				ctx.SetContentType("text/plain; version=0.0.4")
				metrics.WritePrometheus(ctx, true)
			case path == "/healthz":
				ctx.SetBodyString("ok\n")
			case path == "/readyz" && a.draining.Load():
				ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
				ctx.SetBodyString("not ready: draining\n")
			case path == "/readyz":
				if a.ready.Load() {
					ctx.SetBodyString("ready\n")
				} else {
					ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
					ctx.SetBodyString("not ready: routes not loaded, a backend is unreachable or a JWKS is not loaded\n")
				}
			case path == "/-/reload":
				serveReload(ctx, rl)
			case withPprof && len(path) >= len("/debug/pprof/") && path[:len("/debug/pprof/")] == "/debug/pprof/":
				pprofhandler.PprofHandler(ctx)
			default:
				ctx.Error("not found\n", fasthttp.StatusNotFound)
			}
		},
	}
	go func() {
		if err := a.srv.Serve(ln); err != nil {
			log.Error("admin server stopped", "err", err)
		}
	}()
	go a.watchReady(log, s)
	return a, nil
}

// watchReady marks the gateway ready while every route's backend accepts
// TCP connections and every JWKS is loaded, checked every few seconds off
// the event loops.
func (a *admin) watchReady(log *slog.Logger, s *engine.Server) {
	check := func() {
		ok := true
		for _, rt := range s.Router().Routes() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err := rt.Endpoint.Pool.Ping(ctx)
			cancel()
			if err != nil {
				if a.ready.Load() {
					log.Warn("backend unreachable; not ready", "route", rt.Name, "err", err)
				}
				ok = false
			}
		}
		if rs := live.Load(); rs != nil && !rs.ready() {
			ok = false // a route's JWKS has not been fetched yet
		}
		a.ready.Store(ok)
	}
	check()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-a.stopc:
			return
		case <-t.C:
			check()
		}
	}
}

// serveReload does what SIGHUP does (reloader.reload) and answers with the
// outcome: 200 and the summary, or 400 and the reason, the text the log
// gets (configuration errors name key paths and lines, never values).
// Only POST reloads, so a crawler or a prefetching browser cannot.
func serveReload(ctx *fasthttp.RequestCtx, rl *reloader) {
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", fasthttp.MethodPost)
		ctx.Error("method not allowed: POST /-/reload reloads the configuration\n", fasthttp.StatusMethodNotAllowed)
		return
	}
	summary, err := rl.reload(context.Background(), "http")
	if err != nil {
		msg := "reload refused; the previous configuration keeps serving: " + err.Error()
		if errors.Is(err, errNoConfigFile) {
			msg = "reload refused: " + err.Error()
		}
		ctx.Error(msg+"\n", fasthttp.StatusBadRequest)
		return
	}
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString(summary + "\n")
}

func (a *admin) stop() {
	close(a.stopc)
	_ = a.srv.Shutdown()
}

func registerPipeGauges(pp *pipes.Pool) {
	metrics.NewGauge(`mizuchi_pipes_in_use`, func() float64 { return float64(pp.InUse()) })
	metrics.NewGauge(`mizuchi_pipes_free`, func() float64 { return float64(pp.Free()) })
	metrics.NewGauge(`mizuchi_pipe_size_bytes`, func() float64 { return float64(pp.PipeSize()) })
}

// registerBuildInfo exposes mizuchi_build_info{version,goversion,revision} 1:
// the main module's version and the VCS revision stamped by the Go
// toolchain ("unknown" when the binary carries none, e.g. built outside a
// checkout or with -buildvcs=false).
func registerBuildInfo() {
	version, revision := "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				revision = s.Value
			}
		}
	}
	name := `mizuchi_build_info{version=` + promQuote(version) + `,goversion=` + promQuote(runtime.Version()) +
		`,revision=` + promQuote(revision) + `}`
	metrics.NewGauge(name, func() float64 { return 1 })
}

// promQuote quotes a label value as the Prometheus text format wants:
// backslash, double quote and newline escaped.
func promQuote(s string) string {
	return `"` + labelEscaper.Replace(s) + `"`
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
