package main

import (
	"io"

	"github.com/VictoriaMetrics/metrics"
)

// logQueue is how many log lines may wait for the writer goroutine before
// new ones are dropped.
const logQueue = 4096

var logLinesDropped = metrics.NewCounter("mizuchi_log_lines_dropped_total")

// asyncWriter is the gateway log's output: Write copies the line and hands
// it to one goroutine that writes it, so a logger called on an event loop
// never waits on stderr (a full pipe, a slow terminal, a stalled journald).
// When logQueue lines are waiting the new one is dropped and counted in
// mizuchi_log_lines_dropped_total. slog's handlers write each record with
// one Write call, so lines are never split or interleaved.
type asyncWriter struct {
	out   io.Writer
	lines chan []byte
	flush chan chan struct{}
}

func newAsyncWriter(out io.Writer) *asyncWriter {
	w := &asyncWriter{out: out, lines: make(chan []byte, logQueue), flush: make(chan chan struct{})}
	go w.run()
	return w
}

// Write queues a copy of p. It never blocks and never fails.
func (w *asyncWriter) Write(p []byte) (int, error) {
	b := make([]byte, len(p))
	copy(b, p)
	select {
	case w.lines <- b:
	default:
		logLinesDropped.Inc()
	}
	return len(p), nil
}

func (w *asyncWriter) run() {
	for {
		select {
		case b := <-w.lines:
			_, _ = w.out.Write(b)
		case done := <-w.flush:
			w.drain()
			close(done)
		}
	}
}

func (w *asyncWriter) drain() {
	for {
		select {
		case b := <-w.lines:
			_, _ = w.out.Write(b)
		default:
			return
		}
	}
}

// Flush waits until every line queued before it has been written. Call it
// before the process exits.
func (w *asyncWriter) Flush() {
	done := make(chan struct{})
	w.flush <- done
	<-done
}
