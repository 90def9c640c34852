// Package bench holds Mizuchi's load tools; it has no Go code of its own.
//
// The tools are separate binaries:
//
//   - bench/sink: a minimal S3-like upstream on plain net+bufio. It answers
//     PutObject and the multipart calls without checking signatures and
//     discards bodies through a reusable 256 KiB read buffer, so it costs
//     far less CPU per request than the gateway under test.
//   - bench/loadgen: a raw-TCP keep-alive PUT generator. Bodies come from one
//     pre-filled buffer shared by all connections; runs are bounded in time
//     and request count; it reports latency percentiles and, from /proc,
//     the CPU seconds and peak RSS of the processes named with -pid. With
//     -auth sigv4 it signs each request afresh with package sigv4; with
//     -auth jwt it sends one bearer token. An https:// -url makes it a TLS 1.3
//     client (one handshake per connection, before the measured run).
//   - bench/report: merges the per-run JSON files of run.sh into one table
//     with medians and min–max spreads across rounds, the ratio of each row to
//     the direct run and to the best external proxy (nginx or HAProxy), and
//     the ratio of each authenticated row to the unauthenticated Mizuchi row.
//   - bench/relay: the raw limit, a bare TCP relay that splices both
//     directions kernel-side (io.Copy between *net.TCPConn) with no HTTP
//     parsing and one upstream connection per client connection.
//   - bench/scale: Mizuchi's RSS with many idle keep-alive connections and
//     during many concurrent large uploads.
//
// bench/run.sh (what `make bench` calls) wires them together: sink, then
// Mizuchi, nginx, HAProxy and the relay in front of it, direct, proxied,
// SigV4-signed and JWT rows alternating, results written to bench/results/;
// its HTTPS targets (`make bench-tls`) put Mizuchi, nginx and HAProxy behind
// TLS with one generated certificate.
// bench/scale.sh (`make bench-scale`) runs bench/scale against Mizuchi.
// Everything binds to 127.0.0.1 only. See bench/README.md.
package bench
