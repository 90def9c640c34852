// Command relay is the raw limit of bench/run.sh: a bare TCP relay that
// accepts a connection, dials one upstream connection for it and moves the
// bytes both ways with no HTTP parsing at all. Whatever a proxy does on top
// of that (parsing heads, routing, signing, pooling upstream connections)
// shows as the gap between its row and this one.
//
// Both directions are io.Copy between two *net.TCPConn, which on Linux is
// kernel-side splice through a pipe: io.Copy calls the source's WriteTo;
// TCPConn.WriteTo only splices to a Unix socket itself and otherwise falls
// back to io.Copy(dst, tcpConnWithoutWriteTo{src}), which reaches the
// destination's ReadFrom; TCPConn.ReadFrom splices from a TCP source
// (net/splice_linux.go spliceFrom → internal/poll.Splice, socket → pipe →
// socket, with 1 MiB pipes from a pool). So the payload is never copied into
// user space. main_test.go holds that: it relays 32 MiB through the real
// binary and checks the bytes arrive intact while the relay's rchar in
// /proc/PID/io (bytes read(2) into user space; splice does not count) stays
// near zero. On other systems io.Copy copies through a 32 KiB buffer.
//
// One goroutine per direction, one upstream connection per client
// connection (no pooling, no reuse across clients). When the client finishes
// sending, the upstream gets a FIN (CloseWrite); when either side is done
// both connections close.
//
// The first line on stdout is "listening on ADDR", so scripts can start it on
// port 0 and read the port back.
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

var (
	listen       = flag.String("listen", "127.0.0.1:0", "TCP address to listen on; port 0 picks a free port. Only loopback is accepted unless -allow-nonloopback")
	upstream     = flag.String("upstream", "", "TCP address to relay every connection to, e.g. 127.0.0.1:9000 (required)")
	dialTimeout  = flag.Duration("dial-timeout", 5*time.Second, "timeout for dialing the upstream")
	allowNonLoop = flag.Bool("allow-nonloopback", false, "allow -listen and -upstream on non-loopback addresses")
)

func main() {
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *upstream == "" {
		log.Error("-upstream is required")
		os.Exit(2)
	}
	if !*allowNonLoop {
		for _, a := range []string{*listen, *upstream} {
			if err := checkLoopback(a); err != nil {
				log.Error("refusing non-loopback address (see -allow-nonloopback)", "err", err)
				os.Exit(2)
			}
		}
	}

	start := time.Now()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Error("cannot listen", "err", err)
		os.Exit(1)
	}
	r := &relay{upstream: *upstream, dialTimeout: *dialTimeout, log: log}
	fmt.Printf("listening on %s\n", ln.Addr())
	log.Info("relay started", "addr", ln.Addr().String(), "upstream", *upstream, "took", time.Since(start))

	errc := make(chan error, 1)
	go func() { errc <- r.serve(ln) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case got := <-sig:
		log.Info("stopping", "signal", got.String())
	case err := <-errc:
		log.Error("accept loop ended", "err", err)
	}
	start = time.Now()
	ln.Close()
	r.closeAll()
	log.Info("relay stopped", "took", time.Since(start))
}

// relay moves bytes between each accepted connection and its own upstream
// connection.
type relay struct {
	upstream    string
	dialTimeout time.Duration
	log         *slog.Logger

	mu    sync.Mutex
	conns map[net.Conn]struct{} // open client and upstream connections
}

func (r *relay) serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go r.handle(c.(*net.TCPConn))
	}
}

// handle relays one client connection until either side is done.
func (r *relay) handle(client *net.TCPConn) {
	defer client.Close()
	uc, err := net.DialTimeout("tcp", r.upstream, r.dialTimeout)
	if err != nil {
		r.log.Warn("cannot dial upstream", "addr", r.upstream, "err", err)
		return
	}
	up := uc.(*net.TCPConn)
	defer up.Close()
	r.track(client, up)
	defer r.untrack(client, up)

	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(up, client) // splice on Linux, see the package doc
		up.CloseWrite()
	}()
	io.Copy(client, up)
	// The upstream closed (or failed): nothing more can be answered, so
	// unblock the other direction too.
	client.Close()
	up.Close()
	<-done
}

func (r *relay) track(cs ...net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns == nil {
		r.conns = make(map[net.Conn]struct{})
	}
	for _, c := range cs {
		r.conns[c] = struct{}{}
	}
}

func (r *relay) untrack(cs ...net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cs {
		delete(r.conns, c)
	}
}

// closeAll closes every open connection, ending their relays.
func (r *relay) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		c.Close()
	}
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address", host)
	}
	return nil
}
