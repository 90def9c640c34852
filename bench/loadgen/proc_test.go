package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	f := func(in string, want time.Duration) {
		t.Helper()
		got, err := parseStatCPU([]byte(in))
		if err != nil {
			t.Fatalf("unexpected error for %q: %s", in, err)
		}
		if got != want {
			t.Fatalf("unexpected cpu for %q; got %v; want %v", in, got, want)
		}
	}
	f("1234 (mizuchi) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 1 2 3", 3*time.Second)
	f("1 (a b) c) R 0 1 1 0 -1 0 0 0 0 0 1 2 0 0", 30*time.Millisecond)
}

func TestProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := procCPU(0); err != nil {
		t.Fatal(err)
	}
	rss, hwm, err := procMem(os.Getpid())
	if err != nil || rss <= 0 || hwm < rss {
		t.Fatalf("unexpected memory figures rss=%d hwm=%d err=%v", rss, hwm, err)
	}
	h, err := readHostCPU()
	if err != nil || h.total <= 0 {
		t.Fatalf("unexpected host cpu %+v err=%v", h, err)
	}
}

func TestPidFlag(t *testing.T) {
	var f pidFlag
	for _, v := range []string{"12", "proxy=34,sink=56", " 78 "} {
		if err := f.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := f.String(), "12,proxy=34,sink=56,78"; got != want {
		t.Fatalf("unexpected pids; got %q; want %q", got, want)
	}
	for _, bad := range []string{"x", "a=b", "-3", "0"} {
		if err := f.Set(bad); err == nil {
			t.Fatalf("expecting error for %q", bad)
		}
	}
}
