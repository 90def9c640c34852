package accesslog

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// waitLines polls until path holds n lines.
func waitLines(t *testing.T, path string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		lines := readLines(t, path)
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("unexpected lines in %s; got %d; want %d", path, len(lines), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNewFailure(t *testing.T) {
	if _, err := New(Config{Format: "xml"}); err == nil {
		t.Fatalf("format xml accepted")
	}
	if _, err := New(Config{Output: filepath.Join(t.TempDir(), "missing", "access.log")}); err == nil {
		t.Fatalf("a file in a missing directory accepted")
	}
}

// A renamed file keeps what was written before Reopen; later lines go to
// a new file at the path.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	l, err := New(Config{Format: FormatJSON, Output: path, Sample: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := fullRecord()
	r.ID = []byte("BEFORE")
	l.Log(r)
	waitLines(t, path, 1)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	r.ID = []byte("RENAMED") // written to the renamed file: not reopened yet
	l.Log(r)
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	r.ID = []byte("AFTER")
	l.Log(r)
	lines := waitLines(t, path, 1)
	old := readLines(t, path+".1")
	if len(old) != 2 || !strings.Contains(old[0], `"BEFORE"`) || !strings.Contains(old[1], `"RENAMED"`) {
		t.Fatalf("unexpected rotated file: %q", old)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil || m["id"] != "AFTER" || len(lines) != 1 {
		t.Fatalf("unexpected new file: %q (%v)", lines, err)
	}
	// Reopen failing (the directory is gone) keeps the old file.
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	_ = os.Rename(path, path+".2")
	if os.Getuid() != 0 {
		if err := l.Reopen(); err == nil {
			t.Fatalf("Reopen in a read-only directory succeeded")
		}
	}
}

// With the writer stuck (a FIFO nobody reads), Log keeps returning and the
// lines beyond the queue are dropped and counted; once the reader drains,
// lines flow again.
func TestDropOnFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	rd, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	l, err := New(Config{Format: FormatLogfmt, Output: path, Sample: 1, Queue: 16})
	if err != nil {
		t.Fatal(err)
	}
	r := fullRecord()
	before := Dropped()
	const n = 20000 // ~8 MB of lines: far beyond the pipe, the writer's buffer and the queue
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		for i := 0; i < n; i++ {
			l.Log(r)
		}
	}()
	select {
	case <-logged:
	case <-time.After(30 * time.Second):
		t.Fatalf("Log blocked behind a stuck writer")
	}
	lost := Dropped() - before
	if lost == 0 || lost >= n {
		t.Fatalf("unexpected dropped lines; got %d of %d", lost, n)
	}
	// Drain: the writer gets going again and delivers the queued lines.
	if err := syscall.SetNonblock(int(rd.Fd()), false); err != nil {
		t.Fatal(err)
	}
	done := make(chan int)
	go func() {
		sc := bufio.NewScanner(rd)
		got := 0
		for sc.Scan() {
			if !strings.HasPrefix(sc.Text(), "time=") {
				break
			}
			got++
		}
		done <- got
	}()
	l.Close()
	rd.Close()
	got := <-done
	if uint64(got)+lost != n {
		t.Logf("read %d lines, dropped %d of %d", got, lost, n) // the reader may stop at the close
	}
	if got == 0 {
		t.Fatalf("no line delivered after draining")
	}
}

// Sampling keeps about the ratio of successes and every error.
func TestSample(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	l, err := New(Config{Output: path, Sample: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	ok, bad := fullRecord(), fullRecord()
	bad.Status = 403
	for i := 0; i < 4000; i++ {
		l.Log(ok)
		if i < 100 {
			l.Log(bad)
		}
	}
	l.Close()
	lines := readLines(t, path)
	errs := 0
	for _, s := range lines {
		if strings.Contains(s, " status=403 ") {
			errs++
		}
	}
	if errs != 100 || len(lines)-errs < 700 || len(lines)-errs > 1300 {
		t.Fatalf("unexpected sample: %d errors (want 100), %d successes (want about 1000)", errs, len(lines)-errs)
	}
	l0, err := New(Config{Output: path + ".0", Sample: 0})
	if err != nil {
		t.Fatal(err)
	}
	l0.Log(ok)
	l0.Log(bad)
	l0.Close()
	if lines := readLines(t, path+".0"); len(lines) != 1 || !strings.Contains(lines[0], "status=403") {
		t.Fatalf("sample 0: unexpected lines %q", lines)
	}
}
