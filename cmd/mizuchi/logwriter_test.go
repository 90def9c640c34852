package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// blockedWriter never returns from Write until released, like a stderr pipe
// nobody reads.
type blockedWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (b *blockedWriter) Write(p []byte) (int, error) {
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *blockedWriter) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A logger whose output is stuck never makes its caller wait: lines beyond
// the queue are dropped and counted, and once the output moves again Flush
// writes every queued line, in order.
func TestAsyncWriterNeverBlocks(t *testing.T) {
	out := &blockedWriter{release: make(chan struct{})}
	w := newAsyncWriter(out)
	log := slog.New(slog.NewTextHandler(w, nil))
	dropped := logLinesDropped.Get()
	n := logQueue + 100
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			log.Warn("backend failed", "i", i)
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("logging blocked on a stuck output")
	}
	// The writer goroutine holds one line in the stuck Write; the queue
	// holds logQueue; the rest were dropped.
	if got := logLinesDropped.Get() - dropped; got < 99 || got > 100 {
		t.Fatalf("dropped %d lines; want 99 or 100", got)
	}
	close(out.release)
	w.Flush()
	lines := bytes.Split(bytes.TrimSuffix([]byte(out.String()), []byte("\n")), []byte("\n"))
	if len(lines) < logQueue || len(lines) > logQueue+1 {
		t.Fatalf("wrote %d lines; want %d or %d", len(lines), logQueue, logQueue+1)
	}
	prev := -1
	for _, l := range lines {
		var i int
		at := bytes.Index(l, []byte(" i="))
		if _, err := fmt.Sscanf(string(l[at+3:]), "%d", &i); at < 0 || err != nil || i <= prev {
			t.Fatalf("line out of order after i=%d: %s", prev, l)
		}
		prev = i
	}
}

// Flush returns only after what was logged before it is written.
func TestAsyncWriterFlush(t *testing.T) {
	var buf bytes.Buffer
	w := newAsyncWriter(&buf)
	for i := range 50 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	w.Flush()
	if got := bytes.Count(buf.Bytes(), []byte("\n")); got != 50 {
		t.Fatalf("%d lines after Flush; want 50", got)
	}
}
