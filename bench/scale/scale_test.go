package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/bench/internal/s3sink"
)

func TestReadStatus_Success(t *testing.T) {
	f := func(in string, want int) {
		t.Helper()
		br := bufio.NewReader(strings.NewReader(in))
		got, err := readStatus(br)
		if err != nil {
			t.Fatalf("unexpected error for %q: %s", in, err)
		}
		if got != want {
			t.Fatalf("unexpected status for %q; got %d; want %d", in, got, want)
		}
		if br.Buffered() != 0 {
			t.Fatalf("body of %q not consumed", in)
		}
	}
	f("HTTP/1.1 200 OK\r\nETag: \"x\"\r\nContent-Length: 0\r\n\r\n", 200)
	f("HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nerror", 403)
}

func TestReadStatus_Failure(t *testing.T) {
	f := func(in string) {
		t.Helper()
		if _, err := readStatus(bufio.NewReader(strings.NewReader(in))); err == nil {
			t.Fatalf("expected an error for %q", in)
		}
	}
	f("")
	f("HTTP/1.0 200 OK\r\n\r\n")
	f("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
	f("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort")
}

func TestParseStatusKB(t *testing.T) {
	b := []byte("Name:\tmizuchi\nVmHWM:\t  20480 kB\nVmRSS:\t   10240 kB\n")
	if got := parseStatusKB(b, "VmRSS:"); got != 10240 {
		t.Fatalf("unexpected VmRSS; got %d; want 10240", got)
	}
	if got := parseStatusKB(b, "VmSwap:"); got != 0 {
		t.Fatalf("unexpected missing key; got %d; want 0", got)
	}
}

// TestRunIdle holds 50 keep-alive connections to the bench sink, measuring
// this process in place of Mizuchi.
func TestRunIdle(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := s3sink.Listen("127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	addr := s.Addr().String()
	res := runIdle(context.Background(), log, idleConfig{
		addr: addr, host: addr, path: "/sink/scale", conns: 50, asked: 50, body: 100,
		dialers: 8, hold: 10 * time.Millisecond, timeout: 10 * time.Second, pid: os.Getpid(),
	})
	if res.Opened != 50 || res.Failed != 0 || res.Alive != 50 {
		t.Fatalf("unexpected idle result: opened %d, failed %d (%v), alive %d; want 50, 0, 50", res.Opened, res.Failed, res.Errors, res.Alive)
	}
	if _, err := os.Stat("/proc/self/status"); err == nil && (res.RSSBefore == 0 || res.RSSAfter == 0) {
		t.Fatalf("no RSS read: before %d, after %d", res.RSSBefore, res.RSSAfter)
	}
}
