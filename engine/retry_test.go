package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/pipes"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

func TestRetryableErr(t *testing.T) {
	f := func(name string, err error, replied, want bool) {
		t.Helper()
		if got := retryableErr(err, replied); got != want {
			t.Fatalf("%s: retryableErr(%v, replied=%v); got %v; want %v", name, err, replied, got, want)
		}
	}
	f("nil", nil, false, false)
	f("refused", fmt.Errorf("cannot dial: %w", syscall.ECONNREFUSED), false, true)
	f("reset", &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}, false, true)
	f("broken pipe", syscall.EPIPE, false, true)
	f("eof before a reply", io.ErrUnexpectedEOF, false, true)
	f("link closed", errLinkClosed, false, true)
	f("reset mid-body (splice)", &pipes.SideError{Err: syscall.ECONNRESET}, false, true)
	f("eof after reply bytes", io.ErrUnexpectedEOF, true, false)
	f("reset after reply bytes", syscall.ECONNRESET, true, false)
	f("timeout", os.ErrDeadlineExceeded, false, false)
	f("link timeout", errLinkTimeout, false, false)
	f("malformed reply", errors.New("cannot parse backend response"), false, false)
}

func TestRetryBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 50 * time.Millisecond, 1: 50 * time.Millisecond, 2: 100 * time.Millisecond, 3: 200 * time.Millisecond} {
		if got := retryBackoff(n); got != want {
			t.Fatalf("retryBackoff(%d); got %v; want %v", n, got, want)
		}
	}
	if got := retryBackoff(100); got > time.Second {
		t.Fatalf("retryBackoff(100); got %v; want it capped", got)
	}
}

func TestRetrierBounded(t *testing.T) {
	var r retrier
	start := time.Now()
	n := 0
	for r.again() {
		n++
	}
	if n != upstreamAttempts-1 {
		t.Fatalf("retries; got %d; want %d", n, upstreamAttempts-1)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("backoff; waited %v; want at least 150ms (50+100)", d)
	}
}

func TestRetryStatuses(t *testing.T) {
	for status, want := range map[int]bool{200: false, 204: false, 400: false, 403: false, 404: false, 500: false, 502: false, 503: true, 504: false} {
		if got := retryableStatus(status); got != want {
			t.Fatalf("retryableStatus(%d); got %v; want %v", status, got, want)
		}
	}
}

func TestErrorRetryAfter(t *testing.T) {
	ex := &exchange{cors: []byte("Access-Control-Allow-Origin: *\r\n")}
	f := func(status int, want bool) {
		t.Helper()
		out := appendErrorResponseX(nil, "X", status, "m", []byte("id"), nil, false, ex.errHeaders(status), nil)
		if got := bytes.Contains(out, []byte("\r\nRetry-After: 1\r\n")); got != want {
			t.Fatalf("status %d: Retry-After present %v; want %v\n%s", status, got, want, out)
		}
		if !bytes.Contains(out, ex.cors) {
			t.Fatalf("status %d: CORS lines lost\n%s", status, out)
		}
	}
	f(503, true)
	f(502, false)
	f(504, false)
	f(400, false)
}

func TestReplayable(t *testing.T) {
	for o, want := range map[op]bool{opPutObject: true, opUploadPart: true, opCompleteMultipart: true, opCreateMultipart: false} {
		ex := &exchange{op: o}
		if got := ex.replayable(); got != want {
			t.Fatalf("%s: replayable %v; want %v", o, got, want)
		}
	}
	if !createCall("POST", []byte("uploads")) || createCall("PUT", []byte("partNumber=1&uploadId=x")) || createCall("POST", []byte("uploadId=x")) {
		t.Fatal("createCall misclassifies the multipart calls")
	}
}

// TestGetConnRetriesRefusedDial: a refused dial is retried with backoff;
// a backend that starts listening meanwhile is reached, one that does not
// is given up on after upstreamAttempts dials.
func TestGetConnRetriesRefusedDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the port now refuses
	rt := &Route{Name: "r", Endpoint: upstream.NewEndpoint("http", addr, addr, "us-east-1", "b", "", true, nil, upstream.PoolConfig{})}

	var r retrier
	start := time.Now()
	if _, err := getConn(context.Background(), rt, &r); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("getConn to a closed port; got %v; want ECONNREFUSED", err)
	}
	if r.tries != upstreamAttempts-1 || time.Since(start) < 150*time.Millisecond {
		t.Fatalf("getConn gave up after %d retries in %v; want %d retries and at least 150ms", r.tries, time.Since(start), upstreamAttempts-1)
	}

	// The backend comes back during the backoff.
	var ln2 net.Listener
	listening := make(chan error, 1)
	time.AfterFunc(20*time.Millisecond, func() {
		var err error
		ln2, err = net.Listen("tcp", addr)
		listening <- err
	})
	r = retrier{}
	up, err := getConn(context.Background(), rt, &r)
	if lerr := <-listening; lerr != nil {
		t.Skipf("cannot listen on %s again: %v", addr, lerr)
	}
	defer ln2.Close()
	if err != nil {
		t.Fatalf("getConn after the backend came back; got %v", err)
	}
	up.Close()
	if r.tries < 1 {
		t.Fatalf("getConn reached the backend without a retry; the first dial should have been refused")
	}
}
