package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// rateLimited is a slog.Handler that lets at most perSecond warning and
// error lines with the same message through each second; the rest are
// counted, and when the second is over one line "log lines suppressed"
// (message, level, count) says how many were dropped. Info and debug lines
// pass untouched (the access log has its own queue). The engine logs
// per-request and per-connection failures (backend errors, unreachable
// authorization, failed detaches) from event loops and workers: this
// bounds how much a storm of them can write.
//
// The handler below writes into an asyncWriter (logwriter.go), so a
// stderr that blocks never stalls the caller.
type rateLimited struct {
	inner slog.Handler
	st    *rateState
}

type rateState struct {
	perSecond int
	mu        sync.Mutex
	keys      map[string]*rateKey // by message; bounded by maxKeys
	now       func() time.Time
	flush     func(msg string, level slog.Level, n int) // reports a window's suppressed lines
}

type rateKey struct {
	window     int64 // the Unix second being counted
	n          int   // lines in window
	suppressed int   // lines dropped in window
	level      slog.Level
}

// logLinesPerSecond is how many warning or error lines with one message
// are written per second.
const logLinesPerSecond = 10

// maxKeys bounds the messages tracked; past it, new messages share one key
// (gnet's messages are formatted, so not a fixed set).
const maxKeys = 1024

func newRateLimited(inner slog.Handler, perSecond int) *rateLimited {
	h := &rateLimited{inner: inner, st: &rateState{perSecond: perSecond, keys: map[string]*rateKey{}, now: time.Now}}
	h.st.flush = func(msg string, level slog.Level, n int) { h.summary(context.Background(), msg, level, n) }
	return h
}

func (h *rateLimited) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *rateLimited) WithAttrs(as []slog.Attr) slog.Handler {
	return &rateLimited{inner: h.inner.WithAttrs(as), st: h.st}
}

func (h *rateLimited) WithGroup(name string) slog.Handler {
	return &rateLimited{inner: h.inner.WithGroup(name), st: h.st}
}

func (h *rateLimited) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.inner.Handle(ctx, r)
	}
	allow, flushed, flushLevel, flushKey := h.st.take(r.Message, r.Level)
	if flushed > 0 {
		h.summary(ctx, flushKey, flushLevel, flushed)
	}
	if !allow {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h *rateLimited) summary(ctx context.Context, msg string, level slog.Level, n int) {
	s := slog.NewRecord(time.Now(), level, "log lines suppressed", 0)
	s.AddAttrs(slog.String("message", msg), slog.Int("suppressed", n))
	_ = h.inner.Handle(ctx, s)
}

// take counts one line of msg. It reports whether it may be written and,
// when msg's earlier second had suppressed lines, their count (to be
// reported first).
func (s *rateState) take(msg string, level slog.Level) (allow bool, flushed int, flushLevel slog.Level, key string) {
	now := s.now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[msg]
	if k == nil {
		if len(s.keys) >= maxKeys {
			msg = "(other messages)"
			k = s.keys[msg]
		}
		if k == nil {
			k = &rateKey{window: now, level: slog.LevelWarn}
			s.keys[msg] = k
		}
	}
	if k.window != now {
		flushed, flushLevel = k.suppressed, k.level
		k.window, k.n, k.suppressed, k.level = now, 0, 0, slog.LevelWarn
	}
	if k.n < s.perSecond {
		k.n++
		return true, flushed, flushLevel, msg
	}
	k.suppressed++
	k.level = max(k.level, level)
	if k.suppressed == 1 {
		// Report the window even if msg is never logged again.
		time.AfterFunc(time.Until(time.Unix(now+1, 0)), func() { s.flushLater(msg, now) })
	}
	return false, flushed, flushLevel, msg
}

// flushLater reports a finished window's suppressed lines, unless a later
// line of the same message has reported them already.
func (s *rateState) flushLater(msg string, window int64) {
	s.mu.Lock()
	k := s.keys[msg]
	n, level := 0, slog.LevelWarn
	if k != nil && k.window == window && k.suppressed > 0 {
		n, level = k.suppressed, k.level
		k.suppressed = 0
	}
	s.mu.Unlock()
	if n > 0 {
		s.flush(msg, level, n)
	}
}
