#!/usr/bin/env bash
# bench/scale.sh — what `make bench-scale` runs. See bench/README.md.
#
# Builds mizuchi, the sink, loadgen and scale into a temp dir, starts the sink
# and Mizuchi in front of it on 127.0.0.1, and runs bench/scale:
#   (a) 10,000 keep-alive connections, one small PUT each, then idle:
#       Mizuchi's RSS before and after, RSS per connection;
#   (b) 256 concurrent 64 MiB uploads: Mizuchi's peak RSS, sampled every 50 ms.
# Prints a short table and writes bench/results/scale-<timestamp>.json. Bounded
# to about 2 minutes on a warm build cache (phase b is cut at
# SCALE_UPLOAD_TIMEOUT; uploads still running then count as errors).
#
# Environment:
#   SCALE_IDLE_CONNS      idle connections, default 10000
#   SCALE_UPLOAD_CONNS    concurrent uploads, default 256
#   SCALE_UPLOAD_SIZE     body per upload, default 64MiB
#   SCALE_UPLOAD_TIMEOUT  bound on phase b, default 90s
#   SCALE_PHASES          "idle,uploads" (default), "idle" or "uploads"
#   BENCH_OUT             results directory, default bench/results
#   MIZUCHI_FLAGS         extra flags for mizuchi
#   MIZUCHI_BIN           a mizuchi binary to use instead of building ./cmd/mizuchi
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

IDLE_CONNS=${SCALE_IDLE_CONNS:-10000}
UP_CONNS=${SCALE_UPLOAD_CONNS:-256}
UP_SIZE=${SCALE_UPLOAD_SIZE:-64MiB}
UP_TIMEOUT=${SCALE_UPLOAD_TIMEOUT:-90s}
PHASES=${SCALE_PHASES:-idle,uploads}
OUT=${BENCH_OUT:-$ROOT/bench/results}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mizuchi-scale.XXXXXX")
BIN=$WORK/bin
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[scale %3ds] %s\n' "$SECONDS" "$*" >&2; }
die() { log "error: $*"; exit 1; }
alive() { kill -0 "$1" 2>/dev/null; }

[[ $IDLE_CONNS =~ ^[1-9][0-9]*$ ]] || die "SCALE_IDLE_CONNS must be a positive integer"
[[ $UP_CONNS =~ ^[1-9][0-9]*$ ]] || die "SCALE_UPLOAD_CONNS must be a positive integer"

# Every process here needs a descriptor per connection: scale one per idle
# connection, the sink one per upstream connection. Mizuchi counts the
# descriptors it uses (engine/fdaccount.go) within RLIMIT_NOFILE less a
# reserve (128, or a sixteenth of the limit; cmd/mizuchi/fdlimit.go): an
# idle connection costs one, an upload in flight about six (its socket, its
# backend connection, a pipe and the detached socket's duplicates), so it
# needs one per idle connection plus a margin for the uploads phase. Go lifts
# the soft limit to the hard one by itself; as root, raise the hard one if it
# is short.
need=$((IDLE_CONNS + 4096))
if (($(ulimit -Hn) < need)); then
	ulimit -Hn "$need" 2>/dev/null || log "cannot raise the hard RLIMIT_NOFILE to $need (now $(ulimit -Hn)); the idle phase opens fewer connections"
fi
ulimit -Sn "$(ulimit -Hn)"

log "building into $BIN"
mkdir -p "$BIN"
go build -o "$BIN/" ./bench/sink ./bench/loadgen ./bench/scale
if [[ -n ${MIZUCHI_BIN:-} ]]; then
	cp "$MIZUCHI_BIN" "$BIN/mizuchi" || die "cannot copy MIZUCHI_BIN=$MIZUCHI_BIN"
else
	go build -o "$BIN/mizuchi" ./cmd/mizuchi || die "cannot build ./cmd/mizuchi (or set MIZUCHI_BIN)"
fi
log "built"

"$BIN/sink" -listen 127.0.0.1:0 >"$WORK/sink.out" 2>"$WORK/sink.log" &
SINK_PID=$!
PIDS+=("$SINK_PID")
SINK_ADDR=
for _ in $(seq 100); do
	SINK_ADDR=$(sed -n '1s/^listening on //p' "$WORK/sink.out" 2>/dev/null || true)
	[[ -n $SINK_ADDR ]] && break
	alive "$SINK_PID" || break
	sleep 0.05
done
[[ -n $SINK_ADDR ]] || { cat "$WORK/sink.log" >&2; die "sink did not start"; }

read -r MZ_PORT ADMIN_PORT < <("$BIN/loadgen" -free-ports 2 | paste -sd' ')
# Defaults except what the phases need: room for the idle connections (the
# default cap is 10000) and an idle timeout well past the phase.
cat >"$WORK/mizuchi.yaml" <<YAML
server:
  address: "127.0.0.1:$MZ_PORT"
  max_connections: $((IDLE_CONNS + 512))
  idle_timeout_seconds: 300
buckets:
  - name: uploads
    path_prefix: /uploads
    s3:
      bucket: sink
      region: us-east-1
      endpoint: http://$SINK_ADDR
      access_key: bench
      secret_key: bench
metrics:
  enabled: true
  port: $ADMIN_PORT
YAML
# shellcheck disable=SC2086 # MIZUCHI_FLAGS is a list of flags
"$BIN/mizuchi" -config "$WORK/mizuchi.yaml" -listen "127.0.0.1:$MZ_PORT" \
	-admin-listen "127.0.0.1:$ADMIN_PORT" ${MIZUCHI_FLAGS:-} >"$WORK/mizuchi.log" 2>&1 &
MZ_PID=$!
PIDS+=("$MZ_PID")
ready=false
for _ in $(seq 150); do
	if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$ADMIN_PORT/readyz" 2>/dev/null; then
		ready=true
		break
	fi
	alive "$MZ_PID" || break
	sleep 0.1
done
$ready || { tail -n 30 "$WORK/mizuchi.log" >&2; die "mizuchi did not become ready"; }
log "sink $SINK_ADDR, mizuchi pid $MZ_PID on 127.0.0.1:$MZ_PORT; RLIMIT_NOFILE $(ulimit -Sn)"

mkdir -p "$OUT"
result="$OUT/scale-$(date -u +%Y%m%dT%H%M%SZ).json"
echo
"$BIN/scale" -url "http://127.0.0.1:$MZ_PORT/uploads/scale" -pid "$MZ_PID" \
	-metrics "http://127.0.0.1:$ADMIN_PORT/metrics" -phases "$PHASES" \
	-idle-conns "$IDLE_CONNS" -loadgen "$BIN/loadgen" -upload-conns "$UP_CONNS" \
	-upload-size "$UP_SIZE" -upload-timeout "$UP_TIMEOUT" -json "$result"
alive "$MZ_PID" || { tail -n 30 "$WORK/mizuchi.log" >&2; die "mizuchi died"; }
echo
echo "host: $(nproc) cpus, $(uname -r); results: ${result#"$ROOT"/}; took ${SECONDS}s"
