package accesslog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sync"

	"github.com/VictoriaMetrics/metrics"
)

// Formats and outputs.
const (
	FormatJSON   = "json"
	FormatLogfmt = "logfmt"
	OutputStdout = "stdout"
	OutputStderr = "stderr"
)

// ErrFormat is returned by New for an unknown format.
var ErrFormat = errors.New("accesslog: format must be json or logfmt")

// dropped counts lines lost: the queue was full, or the output failed.
var dropped = metrics.NewCounter(`mizuchi_access_log_dropped_total`)

// Config configures a Logger.
type Config struct {
	// Format is "json" or "logfmt". Default "logfmt".
	Format string
	// Output is "stdout", "stderr" or a file path (appended to, created
	// 0640 when missing, reopened by Reopen). Default "stderr".
	Output string
	// Sample is the fraction (0..1) of requests answered below 400 that
	// are logged; answers of 400 or more are always logged. Taken
	// literally: 0 logs errors only; callers default it to 1.
	Sample float64
	// Queue is how many lines may wait for the writer before new ones are
	// dropped. Default 8192.
	Queue int
}

// Logger formats records on the caller's goroutine and writes them on its
// own. Its methods are safe for concurrent use; a nil *Logger logs nothing.
type Logger struct {
	json      bool // else logfmt (a direct call, so records stay on the caller's stack)
	output    string
	isFile    bool   // output is a file path (fixed at New; l.f belongs to the writer)
	all       bool   // Sample >= 1
	threshold uint64 // a success is logged when rand.Uint64() < threshold

	free   chan *[]byte // line buffers not in use (a free list shared by all goroutines)
	queue  chan *[]byte
	reopen chan chan error
	quit   chan struct{}
	done   chan struct{}
	once   sync.Once

	// owned by the writer goroutine
	f *os.File // nil for stdout/stderr
	w *bufio.Writer
}

// New opens the output and starts the writer goroutine.
func New(cfg Config) (*Logger, error) {
	l := &Logger{
		output: cfg.Output,
		reopen: make(chan chan error),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	switch cfg.Format {
	case "", FormatLogfmt:
	case FormatJSON:
		l.json = true
	default:
		return nil, fmt.Errorf("%w, not %q", ErrFormat, cfg.Format)
	}
	switch {
	case cfg.Sample >= 1 || math.IsNaN(cfg.Sample):
		l.all = true
	case cfg.Sample > 0:
		l.threshold = uint64(cfg.Sample * (1 << 64))
	}
	q := cfg.Queue
	if q <= 0 {
		q = 8192
	}
	l.queue = make(chan *[]byte, q)
	l.free = make(chan *[]byte, q)
	// A few buffers up front, so a writer running a little behind does
	// not make the loops allocate.
	for range min(q, prefill) {
		b := make([]byte, 0, 512)
		l.free <- &b
	}
	var out io.Writer
	switch cfg.Output {
	case "", OutputStderr:
		out = os.Stderr
	case OutputStdout:
		out = os.Stdout
	default:
		f, err := openFile(cfg.Output)
		if err != nil {
			return nil, err
		}
		l.f, out, l.isFile = f, f, true
	}
	l.w = bufio.NewWriterSize(out, 64<<10)
	go l.run()
	return l, nil
}

func openFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("cannot open access log: %w", err)
	}
	return f, nil
}

// Log formats r and queues the line. It never blocks: when the queue is
// full the line is dropped and counted. r and its byte slices are not
// used after Log returns.
func (l *Logger) Log(r *Record) {
	if l == nil {
		return
	}
	if r.Status < 400 && !l.all && (l.threshold == 0 || rand.Uint64() >= l.threshold) {
		return
	}
	var bp *[]byte
	select {
	case bp = <-l.free:
	default:
		b := make([]byte, 0, 512)
		bp = &b
	}
	if l.json {
		*bp = AppendJSON((*bp)[:0], r)
	} else {
		*bp = AppendLogfmt((*bp)[:0], r)
	}
	select {
	case l.queue <- bp:
	default:
		dropped.Inc()
		l.put(bp)
	}
}

// prefill is how many line buffers New puts on the free list.
const prefill = 256

// Queued returns the number of lines waiting for the writer.
func (l *Logger) Queued() int { return len(l.queue) }

// put returns a line buffer to the free list. A free list rather than a
// sync.Pool: buffers are taken on the loops and given back by the writer,
// and a sync.Pool keeps what one P puts in a slot other Ps cannot take.
func (l *Logger) put(bp *[]byte) {
	if cap(*bp) > 4<<10 {
		return // an outsized line: let it go
	}
	select {
	case l.free <- bp:
	default:
	}
}

// Dropped returns the number of lines dropped since the process started
// (all loggers).
func Dropped() uint64 { return dropped.Get() }

// Reopen closes and reopens a file output, after writing what is queued
// (for logrotate: rename the file, then signal). stdout and stderr are
// left alone. It waits for the writer; never call it on an event loop.
func (l *Logger) Reopen() error {
	if l == nil || !l.isFile {
		return nil
	}
	ch := make(chan error, 1)
	select {
	case l.reopen <- ch:
		return <-ch
	case <-l.done:
		return nil
	}
}

// Close writes what is queued, closes a file output and stops the writer.
func (l *Logger) Close() error {
	if l == nil {
		return nil
	}
	l.once.Do(func() { close(l.quit) })
	<-l.done
	return nil
}

// run is the writer goroutine: it is the only one touching the output.
func (l *Logger) run() {
	defer close(l.done)
	for {
		select {
		case bp := <-l.queue:
			l.write(bp)
			if len(l.queue) == 0 || !l.isFile {
				// stdout and stderr get one write per line: the process
				// log shares stderr, and a pipe keeps writes of up to 4 KiB
				// whole, so lines never interleave.
				l.flush()
			}
		case ch := <-l.reopen:
			l.drain()
			ch <- l.reopenFile()
		case <-l.quit:
			l.drain()
			if l.f != nil {
				_ = l.f.Close()
			}
			return
		}
	}
}

func (l *Logger) write(bp *[]byte) {
	if _, err := l.w.Write(*bp); err != nil {
		dropped.Inc()
		l.w.Reset(l.out())
	}
	l.put(bp)
}

func (l *Logger) flush() {
	if err := l.w.Flush(); err != nil {
		dropped.Inc()
		l.w.Reset(l.out())
	}
}

// drain writes every queued line and flushes.
func (l *Logger) drain() {
	for {
		select {
		case bp := <-l.queue:
			l.write(bp)
		default:
			l.flush()
			return
		}
	}
}

func (l *Logger) out() io.Writer {
	switch {
	case l.f != nil:
		return l.f
	case l.output == OutputStdout:
		return os.Stdout
	}
	return os.Stderr
}

// reopenFile opens the path again; on failure the old file stays in use.
func (l *Logger) reopenFile() error {
	f, err := openFile(l.output)
	if err != nil {
		return err
	}
	_ = l.f.Close()
	l.f = f
	l.w.Reset(f)
	return nil
}
