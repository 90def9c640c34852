package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// selfSigned returns a throwaway certificate for 127.0.0.1.
func selfSigned(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// pumpPair runs one TLS connection through the front's pump and returns the
// client's tls.Conn and the engine's end of the socketpair.
func pumpPair(t testing.TB) (client *tls.Conn, engineEnd *net.UnixConn) {
	t.Helper()
	s := &Server{cfg: Config{BodyTimeout: time.Minute, HeaderTimeout: 10 * time.Second}}
	s.SetTunables(s.cfg.tunables())
	f := &tlsFront{s: s, cfg: tlsConfig(&tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		inner *net.UnixConn
		outer *net.UnixConn
		err   error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			ch <- res{err: err}
			return
		}
		raw := c.(*net.TCPConn)
		tc := tls.Server(raw, f.cfg)
		if err := tc.Handshake(); err != nil {
			ch <- res{err: err}
			return
		}
		inner, outer, err := socketPair()
		ch <- res{inner, outer, err}
		if err == nil {
			f.pump(tc, raw, inner)
		}
	}()
	client, err = tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return client, r.outer
}

func TestTLSPump(t *testing.T) {
	client, eng := pumpPair(t)
	defer client.Close()
	defer eng.Close()
	if got := client.ConnectionState().NegotiatedProtocol; got != "" && got != "http/1.1" {
		t.Fatalf("unexpected ALPN protocol; got %q", got)
	}
	// Both directions, then half-close from the client: the engine reads
	// EOF; closing the engine's end closes the client's connection.
	const n = 1 << 20
	go func() {
		buf := make([]byte, 4<<10)
		for i := 0; i < n/len(buf); i++ {
			if _, err := client.Write(buf); err != nil {
				return
			}
		}
		_ = client.CloseWrite()
	}()
	got, err := io.Copy(io.Discard, eng)
	if err != nil || got != n {
		t.Fatalf("unexpected bytes at the engine; got %d, %v; want %d", got, err, n)
	}
	if _, err := eng.Write([]byte("HTTP/1.1 200 OK\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	eng.Close()
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(client)
	if string(b) != "HTTP/1.1 200 OK\r\n\r\n" || err != nil {
		t.Fatalf("unexpected bytes at the client; got %q, %v", b, err)
	}
}

// BenchmarkTLSPump measures the TLS front alone: a client writes records of
// the given size, the pump decrypts them into the socketpair, a reader
// discards them. Client encryption runs on the same CPUs.
func BenchmarkTLSPump(b *testing.B) {
	for _, rec := range []int{4 << 10, 16 << 10} {
		b.Run("write="+strconv.Itoa(rec), func(b *testing.B) {
			client, eng := pumpPair(b)
			defer client.Close()
			defer eng.Close()
			done := make(chan int64)
			go func() {
				n, _ := io.Copy(io.Discard, eng)
				done <- n
			}()
			buf := make([]byte, rec)
			const perOp = 1 << 20
			b.SetBytes(perOp)
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := 0; j < perOp/rec; j++ {
					if _, err := client.Write(buf); err != nil {
						b.Fatal(err)
					}
				}
			}
			_ = client.CloseWrite()
			<-done
			// Process CPU (client encryption included) per MiB: steadier
			// than MB/s on a shared host.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/MiB")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
