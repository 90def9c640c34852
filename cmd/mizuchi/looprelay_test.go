package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestE2ELoopRelay: small uploads are relayed on the event loop over
// backend connections registered on it (engine/uplink.go), land intact on
// versitygw, and -loop-relay=false hands every one to a worker instead.
func TestE2ELoopRelay(t *testing.T) {
	b := startBackend(t, "looprelay")
	const n = 120
	f := func(name string, args []string, wantLoop bool) {
		t.Run(name, func(t *testing.T) {
			g := startGatewayWith(t, b, gwOptions{args: args},
				route{name: "small", pathPrefix: "/small", bucket: "looprelay", keyPrefix: name + "/", extra: "    allow_head: true\n"})
			loop0, _ := g.metric(t, `mizuchi_buffered_relays_total{path="loop"}`)
			worker0, _ := g.metric(t, `mizuchi_buffered_relays_total{path="worker"}`)
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for w := 0; w < 6; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := w; i < n; i += 6 {
						size := int64(i * 997 % (200 << 10)) // 0 .. under the splice threshold
						r := g.put(t, fmt.Sprintf("/small/obj-%03d", i), uint64(i), size, putOpts{})
						if r.status != 200 {
							errs <- fmt.Errorf("object %d (%d bytes): status %d: %s", i, size, r.status, r.body)
						}
					}
				}(w)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			for i := 0; i < n; i++ {
				b.checkObject(t, "looprelay", fmt.Sprintf("%s/obj-%03d", name, i), uint64(i), int64(i*997%(200<<10)))
			}
			loop, _ := g.metric(t, `mizuchi_buffered_relays_total{path="loop"}`)
			worker, _ := g.metric(t, `mizuchi_buffered_relays_total{path="worker"}`)
			loop, worker = loop-loop0, worker-worker0
			if loop+worker < n {
				t.Fatalf("relays counted; got loop %v + worker %v; want at least %d", loop, worker, n)
			}
			// versitygw answers these PUTs with Connection: close, so each
			// link carries one request and the next one on that loop goes
			// to a worker while a new link is dialed: some of each. Link
			// reuse is checked against a keep-alive backend in
			// TestE2ELoopRelayFaults.
			if wantLoop && loop == 0 {
				t.Fatalf("loop relays; got 0 of %d (worker %v); want some", n, worker)
			}
			if !wantLoop && loop != 0 {
				t.Fatalf("loop relays with -loop-relay=false; got %v; want 0", loop)
			}

			// HeadObject goes the same way: headers, no body.
			resp := g.do(t, http.MethodHead, "/small/obj-007", nil, nil)
			if resp.status != 200 || resp.header.Get("Content-Length") != fmt.Sprint(7*997) || len(resp.body) != 0 {
				t.Fatalf("HEAD; got %d, Content-Length %q, %d body bytes; want 200, %d, 0",
					resp.status, resp.header.Get("Content-Length"), len(resp.body), 7*997)
			}
			if resp := g.do(t, http.MethodHead, "/small/missing", nil, nil); resp.status != 404 {
				t.Fatalf("HEAD of a missing key; got %d; want 404", resp.status)
			}
		})
	}
	f("loop", nil, true)
	f("worker", []string{"-loop-relay=false"}, false)
}

// scriptedBackend is a stand-in backend for faults versitygw cannot be made
// to produce: it answers each request by the last path segment of its key.
//
//	ok       200 with ETag "ok" and Content-Length: 0
//	stale    like ok on a fresh connection; on a reused one it closes
//	         without answering (a keep-alive connection the backend dropped)
//	trunc    a head promising 10 body bytes, 3 bytes, then close
//	garbage  bytes that are not HTTP, then close
//	eof      200 with no Content-Length, delimited by the close
//	chunked  CreateMultipartUpload's XML in chunked transfer coding
func scriptedBackend(t *testing.T) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	serve := func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		for served := 0; ; served++ {
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			key := req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]
			switch key {
			case "stale":
				if served > 0 {
					return
				}
				fallthrough
			case "ok":
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nETag: \"ok\"\r\nContent-Length: 0\r\n\r\n")
			case "trunc":
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nETag: \"t\"\r\nContent-Length: 10\r\n\r\nabc")
				return
			case "garbage":
				_, _ = io.WriteString(c, "SSH-2.0-OpenSSH\r\n\r\n")
				return
			case "eof":
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nETag: \"eof\"\r\n\r\n")
				return
			case "chunked":
				x := `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>scripted</Bucket><Key>chunked</Key><UploadId>u-123</UploadId></InitiateMultipartUploadResult>`
				_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", 20, x[:20], len(x)-20, x[20:])
			default:
				_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
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
	return &backend{endpoint: "http://" + ln.Addr().String(), ak: "scripted", sk: "scripted"}
}

// TestE2ELoopRelayFaults: what the in-loop relay does when the backend
// misbehaves. Each case is sent on the same client connection (so the same
// event loop) right after a request that went through the loop, so it is
// relayed in the loop too; the loop counter proves it.
func TestE2ELoopRelayFaults(t *testing.T) {
	b := scriptedBackend(t)
	g := startGateway(t, b, route{name: "s", pathPrefix: "/s", bucket: "scripted"})
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1},
		Timeout:   20 * time.Second,
	}
	type result struct {
		status int
		header http.Header
		body   string
	}
	send := func(method, key string) result {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+g.addr+"/s/"+key, bytes.NewReader([]byte("0123456789")))
		if err != nil {
			t.Fatal(err)
		}
		if method == http.MethodPost {
			req, _ = http.NewRequest(method, "http://"+g.addr+"/s/"+key+"?uploads", nil)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, key, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return result{resp.StatusCode, resp.Header, string(body)}
	}
	loops := func() float64 {
		v, _ := g.metric(t, `mizuchi_buffered_relays_total{path="loop"}`)
		return v
	}
	// warm sends "ok" until one goes through the loop: the client's loop
	// then has an idle link for the next request.
	warm := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			before := loops()
			if r := send(http.MethodPut, "ok"); r.status != 200 {
				t.Fatalf("warm-up PUT; got %d %s; want 200", r.status, r.body)
			}
			if loops() > before {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("no request went through the loop within 10s")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	f := func(method, key string, wantStatus int, check func(r result)) {
		t.Run(key, func(t *testing.T) {
			warm()
			before := loops()
			r := send(method, key)
			if loops() != before+1 {
				t.Fatalf("the request did not go through the loop; loop relays %v -> %v", before, loops())
			}
			if r.status != wantStatus {
				t.Fatalf("status; got %d; want %d; body %s", r.status, wantStatus, r.body)
			}
			if check != nil {
				check(r)
			}
			// The gateway keeps serving on the same connection.
			if r := send(http.MethodPut, "ok"); r.status != 200 {
				t.Fatalf("PUT after the fault; got %d %s; want 200", r.status, r.body)
			}
		})
	}
	t.Run("reuse", func(t *testing.T) {
		warm()
		dials0, _ := g.metric(t, "mizuchi_upstream_link_dials_total")
		before := loops()
		for i := 0; i < 50; i++ {
			if r := send(http.MethodPut, "ok"); r.status != 200 || r.header.Get("ETag") != `"ok"` {
				t.Fatalf("PUT %d; got %d, ETag %q; want 200, \"ok\"", i, r.status, r.header.Get("ETag"))
			}
		}
		dials, _ := g.metric(t, "mizuchi_upstream_link_dials_total")
		if got := loops() - before; got != 50 || dials != dials0 {
			t.Fatalf("50 sequential PUTs on one connection; got %v in the loop and %v new links; want 50 and 0", got, dials-dials0)
		}
	})
	f(http.MethodPut, "stale", 200, func(r result) {
		if r.header.Get("ETag") != `"ok"` {
			t.Fatalf("ETag; got %q; want \"ok\"", r.header.Get("ETag"))
		}
		if v, _ := g.metric(t, "mizuchi_loop_relay_retries_total"); v < 1 {
			t.Fatalf("retries; got %v; want at least 1", v)
		}
	})
	isBadGateway := func(r result) {
		if !strings.Contains(r.body, "<Code>BadGateway</Code>") {
			t.Fatalf("body; got %s; want a BadGateway", r.body)
		}
	}
	f(http.MethodPut, "trunc", 502, isBadGateway)
	f(http.MethodPut, "garbage", 502, isBadGateway)
	f(http.MethodPut, "eof", 200, func(r result) {
		if r.header.Get("ETag") != `"eof"` {
			t.Fatalf("ETag; got %q; want \"eof\"", r.header.Get("ETag"))
		}
	})
	f(http.MethodPost, "chunked", 200, func(r result) {
		for _, want := range []string{"<UploadId>", "<Bucket>s</Bucket>", "<Key>chunked</Key>"} {
			if !strings.Contains(r.body, want) {
				t.Fatalf("body; got %s; want it to contain %s", r.body, want)
			}
		}
		// The backend's id is sealed (the harness sets upload_id_secret).
		if strings.Contains(r.body, "u-123") || strings.Contains(r.body, "<UploadId></UploadId>") {
			t.Fatalf("body; got %s; want a sealed UploadId, not the backend's u-123", r.body)
		}
	})
}
