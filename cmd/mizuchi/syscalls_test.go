package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The small path's data syscalls per request, counted (never timed): a
// keep-alive client sends small PutObjects one after another on one
// connection, through the in-loop relay, to a keep-alive sink. The kernel's
// per-process counters (/proc/<pid>/io syscr and syscw: read, readv, pread
// / write, writev, pwrite; not recvmsg, sendmsg, splice or epoll) say what
// each request cost the gateway. The expected steady state is two reads
// (the client's request, the backend's reply) and two writes (one writev
// of the upstream head and body, one write of the client's response); a
// change that adds one per request fails here.
//
// Background work (the sweeper wakes every loop once a second: an eventfd
// write and read each) is counted too, and grows with the window's wall
// time on a busy machine. So the requests go in batches and the bound
// holds for the best batch: one more syscall per request shows in every
// batch, a background wake-up in one only.

const (
	syscallRequests = 2000
	syscallBatches  = 4
	syscallBody     = 1 << 10
	// maxReadsPerReq and maxWritesPerReq are the steady state plus a margin
	// for background activity during the window (a runtime wake-up, a link
	// sweep): 0.05 per request is 100 syscalls over the run, far below
	// one more per request.
	maxReadsPerReq  = 2.05
	maxWritesPerReq = 2.05
)

// TestE2ESyscallsPerRequest pins the data syscalls per small request, on an
// anonymous route and on a SigV4 route.
func TestE2ESyscallsPerRequest(t *testing.T) {
	if _, err := os.Stat("/proc/self/io"); err != nil {
		t.Skip("no /proc/<pid>/io on this system")
	}
	b := keepAliveSink(t)
	g := startGateway(t, b,
		route{name: "anon", pathPrefix: "/anon", bucket: "sink"},
		route{name: "sig", pathPrefix: "/sig", bucket: "sink", extra: "" +
			"    auth:\n      enabled: true\n      sigv4:\n" +
			"        region: us-east-1\n        max_clock_skew_seconds: 300\n" +
			"        access_key: " + clientAK + "\n        secret_key: " + clientSK + "\n"},
	)
	body := bytes.Repeat([]byte("0123456789abcdef"), syscallBody/16)

	anon := func(_ testing.TB, c *rawConn, i int) []byte {
		return fmt.Appendf(nil, "PUT /anon/dir/key-%05d.bin HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s",
			i, c.RemoteAddr(), len(body), body)
	}
	sig := func(t testing.TB, c *rawConn, i int) []byte {
		req := sdkSigned(t, g, fmt.Sprintf("/sig/dir/key-%05d.bin", i), body, clientAK, clientSK, "us-east-1", time.Now())
		var hb strings.Builder
		fmt.Fprintf(&hb, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.URL.RequestURI(), req.Host, len(body))
		for k, vs := range req.Header {
			for _, v := range vs {
				fmt.Fprintf(&hb, "%s: %s\r\n", k, v)
			}
		}
		hb.WriteString("\r\n")
		return append([]byte(hb.String()), body...)
	}
	for _, tc := range []struct {
		name string
		req  func(testing.TB, *rawConn, int) []byte
	}{{"Anonymous", anon}, {"SigV4", sig}} {
		t.Run(tc.name, func(t *testing.T) {
			reads, writes := measureSyscalls(t, g, b, tc.req)
			if reads > maxReadsPerReq {
				t.Errorf("read syscalls per request; got %.3f; want <= %.2f", reads, maxReadsPerReq)
			}
			if writes > maxWritesPerReq {
				t.Errorf("write syscalls per request; got %.3f; want <= %.2f", writes, maxWritesPerReq)
			}
		})
	}
}

// measureSyscalls sends syscallRequests requests built by req on one
// client connection, after a warm-up that leaves an idle link on the
// connection's loop, and returns the gateway's read and write syscalls
// per request in the best of syscallBatches batches. Every request must have been relayed in the
// loop (the counter proves it), so the figures are the in-loop path's.
func measureSyscalls(t *testing.T, g *gateway, b *backend, req func(testing.TB, *rawConn, int) []byte) (reads, writes float64) {
	t.Helper()
	c := g.dialRaw(t)
	send := func(i int) {
		t.Helper()
		if _, err := c.Write(req(t, c, i)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		r, err := c.readResponse(http.MethodPut)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if r.status != 200 || r.header.Get("ETag") == "" {
			t.Fatalf("request %d; got %d %q ETag %q; want 200 with an ETag", i, r.status, r.body, r.header.Get("ETag"))
		}
	}
	loops := func() float64 {
		v, _ := g.metric(t, `mizuchi_buffered_relays_total{path="loop"}`)
		return v
	}
	// Warm up until a request goes through the loop (the first ones wait
	// for the link dial), then a few more so every lazy buffer has grown.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		before := loops()
		send(i)
		if loops() > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no request went through the loop within 30s")
		}
	}
	for i := 0; i < 50; i++ {
		send(i)
	}
	loopsBefore := loops()
	const per = syscallRequests / syscallBatches
	reads, writes = 1e9, 1e9
	var sumR, sumW, sumCS int64
	for batch := 0; batch < syscallBatches; batch++ {
		r0, w0 := procIO(t, g.pid())
		cs0 := ctxSwitches(t, g.pid())
		for i := 0; i < per; i++ {
			send(batch*per + i)
		}
		r1, w1 := procIO(t, g.pid())
		cs1 := ctxSwitches(t, g.pid())
		reads = min(reads, float64(r1-r0)/per)
		writes = min(writes, float64(w1-w0)/per)
		sumR, sumW, sumCS = sumR+r1-r0, sumW+w1-w0, sumCS+cs1-cs0
	}
	if d := loops() - loopsBefore; d != syscallRequests {
		t.Fatalf("requests relayed in the loop during the window; got %v; want %d", d, syscallRequests)
	}
	t.Logf("%d keep-alive %d B PutObjects: best batch of %d %.3f reads, %.3f writes per request; "+
		"all %.3f reads, %.3f writes, %.3f context switches per request",
		syscallRequests, syscallBody, per, reads, writes,
		float64(sumR)/syscallRequests, float64(sumW)/syscallRequests, float64(sumCS)/syscallRequests)
	return reads, writes
}

// ctxSwitches returns the context switches (voluntary and not) of pid's
// live threads.
func ctxSwitches(t testing.TB, pid int) int64 {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("cannot list %s: %v", dir, err)
	}
	var n int64
	for _, task := range tasks {
		data, err := os.ReadFile(dir + "/" + task.Name() + "/status")
		if err != nil {
			continue // the thread exited
		}
		for _, line := range strings.Split(string(data), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok || !strings.HasSuffix(k, "ctxt_switches") {
				continue
			}
			if x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				n += x
			}
		}
	}
	return n
}

// procIO returns the read and write syscalls pid has made (all threads).
func procIO(t testing.TB, pid int) (syscr, syscw int64) {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		t.Fatalf("cannot read /proc/%d/io: %v", pid, err)
	}
	syscr, syscw = -1, -1
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "syscr":
			syscr = n
		case "syscw":
			syscw = n
		}
	}
	if syscr < 0 || syscw < 0 {
		t.Fatalf("no syscr/syscw in /proc/%d/io:\n%s", pid, data)
	}
	return syscr, syscw
}

// keepAliveSink is an S3-like backend that keeps connections alive and
// answers every PUT 200 with an ETag in one write, storing nothing (as
// bench/sink does). It checks no signature.
func keepAliveSink(t testing.TB) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	const reply = "HTTP/1.1 200 OK\r\nETag: \"0f343b0931126a20f133d67c2b018a3b\"\r\nContent-Length: 0\r\n\r\n"
	serve := func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReaderSize(c, 64<<10)
		for {
			_ = c.SetDeadline(time.Now().Add(5 * time.Minute))
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			if _, err := io.WriteString(c, reply); err != nil {
				return
			}
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return &backend{endpoint: "http://" + ln.Addr().String(), ak: "sink", sk: "sink"}
}
