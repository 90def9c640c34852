package engine

import (
	"errors"
	"time"

	"github.com/mizuchi-gw/mizuchi/engine/limits"
	"github.com/mizuchi-gw/mizuchi/pipes"
)

// The minimum body rate on a detached socket: the worker reads the body
// through a rateConn, whose reads never wait past the end of the current
// window, so each window is judged on time even when the client sends
// nothing. Time counts only while the worker waits for the client (or,
// on the splice path, while a splice call runs).

// errBodyTooSlow cuts a body below the minimum rate. It is a timeout
// (net.Error), so the body paths answer it as they answer a stall: 400
// RequestTimeout, the backend request aborted.
var errBodyTooSlow error = bodyTooSlowError{}

type bodyTooSlowError struct{}

func (bodyTooSlowError) Error() string   { return "engine: request body slower than the minimum rate" }
func (bodyTooSlowError) Timeout() bool   { return true }
func (bodyTooSlowError) Temporary() bool { return false }

// errWindowRolled: a read stopped at the end of a window that brought
// enough bytes; the read goes on in the next window.
var errWindowRolled = errors.New("engine: body-rate window rolled")

// rateConn is a detached client socket whose body reads are held to a
// minimum rate. It lives in its exchange (no allocation); SetReadDeadline
// records the pump's stall deadline and applies the earlier of it and the
// window's end.
type rateConn struct {
	clientConn
	win   limits.Window
	stall time.Time
	cut   bool
}

// withBodyRate returns tcp, or ex.rateC wrapping it when a minimum body rate
// is set and the request has a body.
func (ex *exchange) withBodyRate(tcp clientConn) clientConn {
	l := ex.s.lim.cur.Load()
	if l.MinBodyRate <= 0 || !ex.op.hasBody() {
		return tcp
	}
	ex.rateC = rateConn{clientConn: tcp}
	ex.rateC.win.Reset(l.MinBodyRate, int64(l.MinBodyWindow))
	return &ex.rateC
}

func (r *rateConn) deadline(now time.Time) time.Time {
	d := now.Add(time.Duration(r.win.Left()))
	if !r.stall.IsZero() && r.stall.Before(d) {
		return r.stall
	}
	return d
}

func (r *rateConn) SetReadDeadline(t time.Time) error {
	r.stall = t
	return r.clientConn.SetReadDeadline(r.deadline(time.Now()))
}

func (r *rateConn) SetDeadline(t time.Time) error {
	_ = r.clientConn.SetWriteDeadline(t)
	return r.SetReadDeadline(t)
}

func (r *rateConn) Read(p []byte) (int, error) {
	for {
		if r.cut {
			return 0, errBodyTooSlow
		}
		t0 := time.Now()
		_ = r.clientConn.SetReadDeadline(r.deadline(t0))
		n, err := r.clientConn.Read(p)
		if err = r.account(t0, n, err); err != errWindowRolled {
			return n, err
		}
	}
}

// account judges a read (or a splice) that started at t0 and brought n
// bytes and err: errBodyTooSlow when its window fell short,
// errWindowRolled when it stopped only for the window's end, else err.
func (r *rateConn) account(t0 time.Time, n int, err error) error {
	now := time.Now()
	if !r.win.Add(int64(n), int64(now.Sub(t0))) {
		r.cut = true
		refusedBodyRate.Inc()
		return errBodyTooSlow
	}
	if err != nil && isTimeout(err) && (r.stall.IsZero() || now.Before(r.stall)) {
		return errWindowRolled
	}
	return err
}

// spliced accounts a splice from the client that started at t0 (pumpBody):
// nil when it stopped only for a window's end (the pipe is empty then:
// Splice waits on the source only with an empty pipe), the error to return
// otherwise.
func (ex *exchange) spliced(tcp clientConn, t0 time.Time, m int64, err error) error {
	r, ok := tcp.(*rateConn)
	if !ok {
		return err
	}
	inner := err
	var se *pipes.SideError
	if errors.As(err, &se) {
		if !se.Src {
			return err
		}
		inner = se.Err
	}
	switch e := r.account(t0, int(m), inner); e {
	case errWindowRolled:
		return nil
	case errBodyTooSlow:
		return &pipes.SideError{Src: true, Err: e}
	}
	return err
}
