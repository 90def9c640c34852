package upstream

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// serve starts a loopback server that writes reply to each connection after
// reading a little, and returns a pool pointed at it.
func serve(t *testing.T, reply string) *Pool {
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
			go func() {
				defer c.Close()
				// Write in small pieces to exercise partial reads.
				for i := 0; i < len(reply); i += 7 {
					end := min(i+7, len(reply))
					if _, err := c.Write([]byte(reply[i:end])); err != nil {
						return
					}
				}
				time.Sleep(200 * time.Millisecond)
			}()
		}
	}()
	return NewPool(ln.Addr().String(), nil, PoolConfig{})
}

func TestReadResponse(t *testing.T) {
	f := func(reply string, wantStatus int, wantBody, wantETag string) {
		t.Helper()
		p := serve(t, reply)
		c, err := p.Get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var resp httpparse.Response
		body, err := c.ReadResponse(&resp, time.Now().Add(5*time.Second))
		if err != nil {
			t.Fatalf("ReadResponse(%q): %s", reply, err)
		}
		if resp.Status != wantStatus {
			t.Fatalf("unexpected status; got %d; want %d", resp.Status, wantStatus)
		}
		if string(body) != wantBody {
			t.Fatalf("unexpected body; got %q; want %q", body, wantBody)
		}
		if got := string(resp.Header("etag")); got != wantETag {
			t.Fatalf("unexpected etag; got %q; want %q", got, wantETag)
		}
	}
	f("HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nContent-Length: 0\r\n\r\n", 200, "", `"abc"`)
	f("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nETag: \"x\"\r\nContent-Length: 0\r\n\r\n", 200, "", `"x"`)
	e := "<Error><Code>BadDigest</Code><Message>m</Message>"
	f("HTTP/1.1 400 Bad Request\r\nContent-Length: "+strconv.Itoa(len(e))+"\r\n\r\n"+e, 400, e, "")
	f("HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<Erro\r\n3;ext=1\r\nr/>\r\n0\r\nX-T: 1\r\n\r\n", 403, "<Error/>", "")
	f("HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\nbody until close", 500, "body until close", "")
}

func TestReadResponse_Failure(t *testing.T) {
	f := func(reply string) {
		t.Helper()
		p := serve(t, reply)
		c, err := p.Get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var resp httpparse.Response
		if _, err := c.ReadResponse(&resp, time.Now().Add(2*time.Second)); err == nil {
			t.Fatalf("expected an error for %q", reply)
		}
	}
	f("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
	f("HTTP/1.1 200 OK\r\nContent-Le")
	f("garbage\r\n\r\n")
	f("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
}

func TestErrorCode(t *testing.T) {
	code, msg := ErrorCode([]byte(`<?xml version="1.0"?><Error><Code>XAmzContentSHA256Mismatch</Code><Message>no</Message></Error>`))
	if string(code) != "XAmzContentSHA256Mismatch" || string(msg) != "no" {
		t.Fatalf("unexpected code/message; got %q %q", code, msg)
	}
	if code, _ := ErrorCode([]byte("not xml")); code != nil {
		t.Fatalf("unexpected code %q", code)
	}
}

func TestPoolReuseAndStale(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	p := NewPool(ln.Addr().String(), nil, PoolConfig{})
	c1, err := p.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s1 := <-accepted
	p.Put(c1)
	c2, err := p.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c2 != c1 || !c2.Reused {
		t.Fatalf("expected the idle connection to be reused")
	}
	p.Put(c2)
	// The server closes the idle connection: Get must notice and dial anew.
	s1.Close()
	time.Sleep(50 * time.Millisecond)
	c3, err := p.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if c3 == c1 {
		t.Fatalf("a connection closed by the server was reused")
	}
	<-accepted
}
