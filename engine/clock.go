package engine

import (
	"sync/atomic"
	"time"
)

// A coarse clock: the time and the HTTP Date header, refreshed every 100ms by
// one goroutine, so hot paths read an atomic instead of calling time.Now and
// formatting (VictoriaMetrics lib/fasttime).
var (
	coarseNanos atomic.Int64
	dateHeader  atomic.Pointer[[]byte] // "Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n"
)

func init() {
	tickClock(time.Now())
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		for now := range t.C {
			tickClock(now)
		}
	}()
}

func tickClock(now time.Time) {
	coarseNanos.Store(now.UnixNano())
	prev := dateHeader.Load()
	if prev != nil && now.Unix() == lastDateSec.Load() {
		return
	}
	lastDateSec.Store(now.Unix())
	b := append([]byte("Date: "), now.UTC().Format(time.RFC1123)...)
	// RFC1123 prints "UTC"; HTTP wants "GMT".
	if n := len(b); n > 3 && string(b[n-3:]) == "UTC" {
		b = append(b[:n-3], "GMT"...)
	}
	b = append(b, "\r\n"...)
	dateHeader.Store(&b)
}

var lastDateSec atomic.Int64

// nowNanos returns the coarse time in Unix nanoseconds.
func nowNanos() int64 { return coarseNanos.Load() }

func appendDate(dst []byte) []byte { return append(dst, *dateHeader.Load()...) }
