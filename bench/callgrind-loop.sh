#!/bin/sh
# Instructions per request of the in-loop 1 KiB PutObject exchange
# (engine BenchmarkLoopExchange) per authentication method, counted by
# callgrind: stable on a shared, noisy machine where timings are not.
# Only the cycle under test is counted (--toggle-collect), so setup is out.
# Under valgrind crypto/sha256 takes its AVX2 path (no SHA-NI), so SHA-256
# weighs more here than on hardware with SHA extensions.
#
# usage: bench/callgrind-loop.sh [iterations]   (default 20000)
set -eu
n=${1:-20000}
out=${TMPDIR:-/tmp}/mizuchi-callgrind
mkdir -p "$out"
go test -c -o "$out/engine.test" ./engine
for c in anonymous sigv4 jwt; do
	GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind \
		--toggle-collect='*loopRig*cycle*' --callgrind-out-file="$out/cg.$c.out" \
		"$out/engine.test" -test.run '^$' -test.bench "BenchmarkLoopExchange/$c\$" \
		-test.benchtime "${n}x" >/dev/null 2>"$out/cg.$c.err"
	tot=$(callgrind_annotate "$out/cg.$c.out" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
	echo "$c: $((tot / n)) instructions per request"
done
echo "profiles: $out/cg.*.out (callgrind_annotate)"
