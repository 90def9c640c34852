package main

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// countingReader counts what the client has sent so far.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// waitUntil polls cond until it holds or d passes.
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// TestE2EDrain: on SIGTERM /readyz turns unready at once, new connections
// are turned away, a 512 MiB upload in flight completes and is stored
// intact, and the process exits 0; a second signal exits at once.
func TestE2EDrain(t *testing.T) {
	b := startBackend(t, mainBucket)
	rt := route{name: "uploads", pathPrefix: "/uploads", bucket: mainBucket}
	readyz := func(g *gateway) int {
		resp, err := http.Get("http://" + g.admin + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("InFlightCompletes", func(t *testing.T) {
		g := startGatewayWith(t, b, gwOptions{args: []string{"-drain-timeout", "2m"}}, rt)
		const n = 512 * mib
		seed := nextSeed()
		body := &countingReader{r: newGen(seed, n)}
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPut, g.endpoint()+"/uploads/drain/big.bin", body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = n
		status := make(chan int, 1)
		go func() {
			resp, err := newHTTPClient().Do(req)
			if err != nil {
				status <- -1
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			status <- resp.StatusCode
		}()
		if !waitUntil(30*time.Second, func() bool { return body.n.Load() >= 32*mib }) {
			t.Fatalf("the upload did not start")
		}
		if err := g.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if !waitUntil(2*time.Second, func() bool { return readyz(g) == http.StatusServiceUnavailable }) {
			t.Fatalf("/readyz still ready 2s after SIGTERM")
		}
		// A new connection is turned away (503 and closed), never served.
		r, err := newHTTPClient().Post(g.endpoint()+"/uploads/drain/late.bin", "application/octet-stream", nil)
		if err == nil {
			r.Body.Close()
			if r.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("a new request during the drain got %d; want 503 or a refused connection", r.StatusCode)
			}
		}
		select {
		case s := <-status:
			if s != http.StatusOK {
				t.Fatalf("the upload in flight at SIGTERM ended with %d; want 200", s)
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("the upload in flight did not finish")
		}
		select {
		case <-g.proc.done:
			if g.proc.err != nil {
				t.Fatalf("mizuchi exited with %v after a drain; want 0", g.proc.err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("mizuchi did not exit after the drain")
		}
		b.checkObject(t, mainBucket, "drain/big.bin", seed, n)
		b.checkAbsent(t, mainBucket, "drain/late.bin")
	})

	t.Run("SecondSignal", func(t *testing.T) {
		g := startGatewayWith(t, b, gwOptions{args: []string{"-drain-timeout", "5m"}}, rt)
		// An upload that stalls after its first MiB keeps the drain waiting.
		c := g.dialRaw(t)
		defer c.Close()
		if err := c.writePutHead("/uploads/drain/stalled.bin", 64*mib, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(c, newGen(nextSeed(), mib)); err != nil {
			t.Fatal(err)
		}
		if !waitUntil(10*time.Second, func() bool { v, _ := g.metric(t, "mizuchi_detach_total"); return v >= 1 }) {
			t.Fatalf("the stalled upload never left the event loop")
		}
		if err := g.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if !waitUntil(5*time.Second, func() bool { return readyz(g) == http.StatusServiceUnavailable }) {
			t.Fatalf("/readyz still ready after SIGTERM")
		}
		start := time.Now()
		if err := g.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-g.proc.done:
			if g.proc.err == nil {
				t.Fatalf("mizuchi exited 0 on a second signal with an upload in flight; want a failure status")
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("mizuchi still running %v after a second SIGTERM", time.Since(start))
		}
		b.checkAbsent(t, mainBucket, "drain/stalled.bin")
	})
}
