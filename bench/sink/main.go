// Command sink is a minimal S3-like upstream for benchmarking Mizuchi: it
// accepts uploads over plain HTTP/1.1 keep-alive, checks no signature, stores
// nothing and answers as cheaply as it can. See bench/internal/s3sink.
//
// The first line on stdout is "listening on ADDR", so scripts can start it on
// port 0 and read the port back.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mizuchi-gw/mizuchi/bench/internal/s3sink"
)

var (
	listen       = flag.String("listen", "127.0.0.1:0", "TCP address to listen on; port 0 picks a free port. Only loopback is accepted unless -allow-nonloopback")
	allowNonLoop = flag.Bool("allow-nonloopback", false, "allow -listen on a non-loopback address")
)

func main() {
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := checkLoopback(*listen); err != nil && !*allowNonLoop {
		log.Error("refusing to listen", "err", err)
		os.Exit(2)
	}

	start := time.Now()
	s, err := s3sink.Listen(*listen, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", s.Addr())
	log.Info("sink started", "addr", s.Addr().String(), "took", time.Since(start))

	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case got := <-sig:
		log.Info("stopping", "signal", got.String())
	case err := <-errc:
		log.Error("accept loop ended", "err", err)
	}
	start = time.Now()
	s.Close()
	st := s.Stats()
	log.Info("sink stopped", "took", time.Since(start), "conns", st.Conns, "requests", st.Requests,
		"body_bytes", st.BodyBytes, "errors", st.Errors)
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
