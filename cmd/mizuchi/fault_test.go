package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// faultyBackend is the one stand-in backend of the suite: versitygw cannot
// be made to fail in the middle of a body, so this loopback server reads the
// request head and the first 1 MiB of the body, then answers with reply (if
// any) and resets the connection. Dials without a request (the readiness
// probe) are simply closed.
func faultyBackend(t *testing.T, reply string) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer func() {
					c.(*net.TCPConn).SetLinger(0)
					c.Close()
				}()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				_, _ = io.CopyN(io.Discard, req.Body, 1<<20)
				if reply != "" {
					_, _ = io.WriteString(c, reply)
				}
			}(c)
		}
	}()
	return &backend{endpoint: "http://" + ln.Addr().String(), ak: "fault", sk: "fault"}
}

// TestE2EUpstreamFailsMidBody: a backend that fails while a spliced body is
// moving gives the client a 5xx S3 error (never a 200), the connection is
// closed, and the gateway keeps serving.
func TestE2EUpstreamFailsMidBody(t *testing.T) {
	f := func(name, reply string, wantStatus int, wantCode string) {
		t.Run(name, func(t *testing.T) {
			b := faultyBackend(t, reply)
			g := startGateway(t, b, route{name: "uploads", pathPrefix: "/uploads", bucket: "fault"})
			before, _ := g.metric(t, "mizuchi_upstream_errors_total")
			answered := 0
			for i := 0; i < 3; i++ {
				req, err := http.NewRequest(http.MethodPut, "http://"+g.addr+"/uploads/fault.bin", newGen(uint64(i), 16*mib))
				if err != nil {
					t.Fatal(err)
				}
				req.ContentLength = 16 * mib
				req.Header.Set("Expect", "100-continue")
				resp, err := g.client.Do(req)
				if err != nil {
					// The gateway drains the unread body before closing
					// (lingering close), so the client must get the reply.
					t.Fatalf("request %d: transport error instead of an S3 error: %v", i, err)
				}
				answered++
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
				if resp.StatusCode != wantStatus {
					t.Fatalf("unexpected status; got %d; want %d; body %s", resp.StatusCode, wantStatus, body)
				}
				if !bytes.Contains(body, []byte("<Code>"+wantCode+"</Code>")) {
					t.Fatalf("unexpected error body; want code %s; got %s", wantCode, body)
				}
				if resp.Header.Get("x-amz-request-id") == "" {
					t.Fatalf("missing x-amz-request-id")
				}
				if !resp.Close && !strings.EqualFold(resp.Header.Get("Connection"), "close") {
					t.Fatalf("the connection must be closed after an upstream failure")
				}
			}
			if answered != 3 {
				t.Fatalf("unexpected number of answered requests; got %d; want 3", answered)
			}
			after, ok := g.metric(t, "mizuchi_upstream_errors_total")
			if !ok || after < before+3 {
				t.Fatalf("upstream errors not counted; before %v after %v", before, after)
			}
			// The gateway still answers on a fresh connection.
			r := g.do(t, http.MethodGet, "/uploads/x", nil, nil)
			if r.status != http.StatusForbidden {
				t.Fatalf("gateway stopped serving after upstream failures; got %s", r)
			}
		})
	}
	f("reset", "", 502, "BadGateway")
	f("error-then-reset", "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: 67\r\n\r\n<Error><Code>SlowDown</Code><Message>backend busy</Message></Error>", 503, "SlowDown")
}
