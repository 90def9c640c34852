package limits

// Window enforces a minimum body rate: every Span nanoseconds spent waiting
// for the body must bring at least MinRate*Span bytes. Time counts only
// while the caller waits for the client (Add's elapsed), so time spent
// writing to a slow backend is not held against the client. The zero
// Window with MinRate 0 never fails.
type Window struct {
	MinRate int64 // bytes per second; 0 = off
	Span    int64 // window length, ns

	waited int64 // ns waited in the current window
	got    int64 // bytes received in the current window
}

// Reset starts a new measurement with the given limit.
func (w *Window) Reset(minRate, span int64) {
	*w = Window{MinRate: minRate, Span: span}
}

// Left is how long the current window still runs (ns): a read should not
// wait longer, so the window is judged on time.
func (w *Window) Left() int64 { return w.Span - w.waited }

// Add records n bytes received after waiting elapsed ns. When the window
// is over it is judged: false means fewer than MinRate*Span bytes came in
// it and the body is too slow; true starts the next window.
func (w *Window) Add(n, elapsed int64) bool {
	if w.MinRate <= 0 || w.Span <= 0 {
		return true
	}
	w.waited += elapsed
	w.got += n
	if w.waited < w.Span {
		return true
	}
	if w.got < w.need() {
		return false
	}
	w.waited, w.got = 0, 0
	return true
}

// need is the bytes one window must bring (MinRate*Span without overflow
// for any sane rate and span).
func (w *Window) need() int64 {
	return int64(float64(w.MinRate) * float64(w.Span) / 1e9)
}
