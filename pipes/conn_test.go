package pipes

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net"
	"testing"
	"time"
)

// patLen is prime, so chunk boundaries of the writer, the pipe and the reader
// never line up with the pattern.
const patLen = 4093

// pattern holds 64 KiB of the repeating body pattern plus one period, so that
// any 64 KiB window of the stream is one slice of it.
var pattern = func() []byte {
	b := make([]byte, 64<<10+patLen)
	for i := range b {
		b[i] = byte((i%patLen)*131 + (i%patLen)>>8)
	}
	return b
}()

// trailer returns the bytes that follow the body in the source socket: what a
// pipelined request would be. They differ from the pattern.
func trailer(n int) []byte {
	return bytes.Repeat([]byte("NEXT-REQUEST|"), n/13+1)[:n]
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(tb testing.TB) (client, server *net.TCPConn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("cannot listen: %s", err)
	}
	defer ln.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatalf("cannot dial: %s", err)
	}
	a := <-ch
	if a.err != nil {
		tb.Fatalf("cannot accept: %s", a.err)
	}
	client, server = c.(*net.TCPConn), a.c.(*net.TCPConn)
	tb.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}

// writeBody writes n bytes of the pattern to w and returns their SHA-256.
func writeBody(w io.Writer, n int64) ([32]byte, error) {
	h := sha256.New()
	var off int64
	for off < n {
		start := int(off % patLen)
		chunk := int64(64 << 10)
		if rem := n - off; rem < chunk {
			chunk = rem
		}
		b := pattern[start : start+int(chunk)]
		h.Write(b)
		m, err := w.Write(b)
		off += int64(m)
		if err != nil {
			return [32]byte{}, err
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, nil
}

// received is what a reader saw until EOF or an error.
type received struct {
	n   int64
	sum [32]byte
	err error
}

// readAll reads r until EOF, hashing, and sends what it saw on the returned
// channel. With slow set it reads in small chunks and sleeps between them.
func readAll(r io.Reader, slow bool) <-chan received {
	ch := make(chan received, 1)
	go func() {
		h := sha256.New()
		buf := make([]byte, 256<<10)
		if slow {
			buf = buf[:16<<10]
		}
		var res received
		for {
			m, err := r.Read(buf)
			h.Write(buf[:m])
			res.n += int64(m)
			if err == io.EOF {
				break
			}
			if err != nil {
				res.err = err
				break
			}
			if slow {
				time.Sleep(200 * time.Microsecond)
			}
		}
		h.Sum(res.sum[:0])
		ch <- res
	}()
	return ch
}
