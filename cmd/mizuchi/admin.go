package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/pprofhandler"

	"github.com/mizuchi-gw/mizuchi/engine"
	"github.com/mizuchi-gw/mizuchi/pipes"
)

// admin serves /metrics, /healthz, /readyz and, with -pprof, /debug/pprof/
// with fasthttp on its own listener, away from the S3 port.
type admin struct {
	srv   *fasthttp.Server
	ln    net.Listener
	ready atomic.Bool
	stopc chan struct{}
}

func startAdmin(log *slog.Logger, addr string, withMetrics, withPprof bool, s *engine.Server) (*admin, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on admin address %q: %w", addr, err)
	}
	a := &admin{ln: ln, stopc: make(chan struct{})}
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
			case path == "/readyz":
				if a.ready.Load() {
					ctx.SetBodyString("ready\n")
				} else {
					ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
					ctx.SetBodyString("not ready: routes not loaded, a backend is unreachable or a JWKS is not loaded\n")
				}
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

func (a *admin) stop() {
	close(a.stopc)
	_ = a.srv.Shutdown()
}

func registerPipeGauges(pp *pipes.Pool) {
	metrics.NewGauge(`mizuchi_pipes_in_use`, func() float64 { return float64(pp.InUse()) })
	metrics.NewGauge(`mizuchi_pipes_free`, func() float64 { return float64(pp.Free()) })
	metrics.NewGauge(`mizuchi_pipe_size_bytes`, func() float64 { return float64(pp.PipeSize()) })
}
