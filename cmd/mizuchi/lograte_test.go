package main

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A storm of one warning is cut to the limit per second and summarized;
// other messages and info lines are not touched.
func TestRateLimitedLog(t *testing.T) {
	var out lockedBuf
	h := newRateLimited(slog.NewTextHandler(&out, nil), 3)
	sec := time.Unix(1_800_000_000, 0)
	h.st.now = func() time.Time { return sec }
	log := slog.New(h).With("component", "test")
	for i := 0; i < 50; i++ {
		log.Warn("backend error", "i", i)
		log.Info("request", "i", i)
	}
	log.Error("other failure")
	if n := strings.Count(out.String(), "msg=\"backend error\""); n != 3 {
		t.Fatalf("unexpected backend error lines; got %d; want 3\n%s", n, out.String())
	}
	if n := strings.Count(out.String(), "msg=request"); n != 50 {
		t.Fatalf("unexpected info lines; got %d; want 50", n)
	}
	if !strings.Contains(out.String(), `msg="other failure" component=test`) {
		t.Fatalf("another message was suppressed:\n%s", out.String())
	}
	// The next second: the summary comes first, then the line.
	sec = sec.Add(time.Second)
	log.Warn("backend error", "i", 99)
	s := out.String()
	sum := strings.Index(s, `msg="log lines suppressed" component=test message="backend error" suppressed=47`)
	line := strings.Index(s, "i=99")
	if sum < 0 || line < sum {
		t.Fatalf("no summary before the next line:\n%s", s)
	}
}

// Suppressed lines are reported when their second ends, even when the
// message is never logged again.
func TestRateLimitedLog_Timer(t *testing.T) {
	var out lockedBuf
	h := newRateLimited(slog.NewTextHandler(&out, nil), 1)
	log := slog.New(h)
	for i := 0; i < 5; i++ {
		log.Error("cannot dup client socket")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "log lines suppressed") {
		if time.Now().After(deadline) {
			t.Fatalf("no summary:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "level=ERROR msg=\"log lines suppressed\" message=\"cannot dup client socket\"") {
		t.Fatalf("unexpected summary:\n%s", out.String())
	}
}
