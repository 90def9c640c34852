package engine

import (
	"bytes"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// The durations derived from the request's one clock read measure what
// separate reads would: the request's from ex.start, the backend's from
// ex.upStart (ex.start plus the monotonic time elapsed), both growing
// with the time that really passes.
func TestLoopClockDurations(t *testing.T) {
	ex := &exchange{start: time.Now()}
	time.Sleep(20 * time.Millisecond)
	ex.upStart = ex.sinceStart()
	if off := ex.upStart.Sub(ex.start); off < 20*time.Millisecond || off > 10*time.Second {
		t.Fatalf("upstream start offset; got %v; want >= 20ms", off)
	}
	if d := time.Since(ex.upStart); d < 0 || d > 10*time.Second {
		t.Fatalf("upStart is not now; time since it %v", d)
	}
	time.Sleep(30 * time.Millisecond)
	total, up := ex.linkDurations()
	if total < 50*time.Millisecond || up < 30*time.Millisecond || total-up < 20*time.Millisecond || total > 10*time.Second {
		t.Fatalf("durations; got total %v, upstream %v; want >= 50ms, >= 30ms, 20ms apart", total, up)
	}
}

// The in-loop exchange signs with the request's start time and the
// loop's own Builder: x-amz-date on the upstream head is the current
// second, never a stale one from a pooled exchange or the Builder's
// cached date, and the signature verifies, cycle after cycle across
// seconds.
func TestLoopExchangeSigningTime(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 1024)
	reply := []byte("HTTP/1.1 200 OK\r\nETag: \"0f343b0931126a20f133d67c2b018a3b\"\r\nContent-Length: 0\r\n\r\n")
	r := newLoopRig(t, &Route{Name: "uploads", Prefix: "/uploads"}, false)
	req := append([]byte("PUT /uploads/dir/key.bin HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 1024\r\n\r\n"), body...)
	for i := 0; i < 3; i++ {
		before := time.Now().UTC().Truncate(time.Second)
		if msg := r.cycle(req, reply); msg != "" {
			t.Fatal(msg)
		}
		after := time.Now().UTC()
		_, v, ok := bytes.Cut(r.up.out, []byte("\r\nx-amz-date: "))
		if !ok || len(v) < 16 {
			t.Fatalf("no x-amz-date upstream:\n%s", r.up.out)
		}
		at, err := time.Parse("20060102T150405Z", string(v[:16]))
		if err != nil {
			t.Fatal(err)
		}
		if at.Before(before) || at.After(after) {
			t.Fatalf("x-amz-date %v; want within [%v, %v]", at, before, after)
		}
		verifyBackendSignature(t, r.up.out, after)
		if i < 2 {
			time.Sleep(1100 * time.Millisecond) // the next cycle is in a later second
		}
	}
}

// verifyBackendSignature checks the SigV4 signature of the upstream
// request out (head and body) with the rig's backend credentials.
func verifyBackendSignature(t *testing.T, out []byte, now time.Time) {
	t.Helper()
	var req httpparse.Request
	if _, err := req.Parse(out); err != nil {
		t.Fatalf("upstream head: %v", err)
	}
	in := &sigv4.Input{Method: req.Method, Path: req.Path, Query: req.Query, Now: now}
	for _, h := range req.Headers {
		in.Headers = append(in.Headers, sigv4.Header{Name: h.Name, Value: h.Value})
	}
	cfg := &sigv4.VerifyConfig{Region: "us-east-1", Keys: sigv4.Keys{"BACKENDAK": {Secret: "backend-secret"}}}
	var v sigv4.Verified
	if err := sigv4.NewVerifier(nil).Verify(cfg, in, &v); err != nil {
		t.Fatalf("upstream signature: %v\n%s", err, out[:len(out)-1024])
	}
}
