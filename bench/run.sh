#!/usr/bin/env bash
# bench/run.sh — what `make bench` runs. See bench/README.md.
#
# Builds mizuchi, the sink, loadgen and report into a temp dir, starts the sink
# and Mizuchi in front of it on 127.0.0.1 (one process, three routes on the
# same sink: /uploads without auth, /sigv4 and /jwt with it), and for two
# workloads (1 KiB PUTs at 64 connections, 64 MiB PUTs at 4 connections)
# alternates the targets (direct to the sink, through Mizuchi unauthenticated,
# SigV4-signed, JWT bearer) for up to 3 rounds, bounded to about BENCH_BUDGET
# seconds in all. Prints one table and writes bench/results/<timestamp>.json.
#
# Environment:
#   BENCH_TARGETS   targets to run, default "direct mizuchi mizuchi-sigv4 mizuchi-jwt";
#                   "direct" alone skips Mizuchi
#   BENCH_ROUNDS    rounds wanted, default 3 (fewer if the budget does not allow)
#   BENCH_DURATION  seconds per run; default: what fits BENCH_ROUNDS rounds of
#                   all targets into the budget after the builds, 3 to 10
#   BENCH_BUDGET    seconds for the whole script including builds, default 180
#   BENCH_OUT       results directory, default bench/results
#   MIZUCHI_FLAGS   extra flags for mizuchi (e.g. "-loops 1 -pipe-size 256KiB")
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

TARGETS=${BENCH_TARGETS:-"direct mizuchi mizuchi-sigv4 mizuchi-jwt"}
ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-} # empty: chosen after the builds, see "budget"
BUDGET=${BENCH_BUDGET:-180}
OUT=${BENCH_OUT:-$ROOT/bench/results}
# name size conns
WORKLOADS=("small 1KiB 64" "large 64MiB 4")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mizuchi-bench.XXXXXX")
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

log() { printf '[bench %3ds] %s\n' "$SECONDS" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
[[ -z $DURATION || $DURATION =~ ^[1-9][0-9]*$ ]] || die "BENCH_DURATION must be a positive integer"
want_mizuchi=false
for t in $TARGETS; do
	case $t in
	direct) ;;
	mizuchi | mizuchi-sigv4 | mizuchi-jwt) want_mizuchi=true ;;
	*) die "unknown target '$t' in BENCH_TARGETS (want direct, mizuchi, mizuchi-sigv4, mizuchi-jwt)" ;;
	esac
done

# --- build -------------------------------------------------------------------
log "building into $BIN"
mkdir -p "$BIN" "$WORK/runs"
go build -o "$BIN/" ./bench/sink ./bench/loadgen ./bench/report
if $want_mizuchi; then
	go build -o "$BIN/mizuchi" ./cmd/mizuchi ||
		die "cannot build ./cmd/mizuchi; run with BENCH_TARGETS=direct to bench the sink alone"
fi
log "built"

alive() { kill -0 "$1" 2>/dev/null; }

# --- sink ----------------------------------------------------------------------
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
log "sink pid $SINK_PID on $SINK_ADDR"

# --- mizuchi -------------------------------------------------------------------
# Client credentials of the auth routes. The SigV4 pair is loadgen's default;
# the JWT secret is fresh per run and only ever on 127.0.0.1.
SIGV4_REGION=us-east-1
SIGV4_AK=benchak
SIGV4_SK=benchsk
JWT_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
if $want_mizuchi; then
	read -r MZ_PORT ADMIN_PORT < <("$BIN/loadgen" -free-ports 2 | paste -sd' ')
	# Three routes to the same sink: the auth rows differ from the "mizuchi"
	# row only by their auth block.
	cat >"$WORK/mizuchi.yaml" <<YAML
server:
  address: "127.0.0.1:$MZ_PORT"
buckets:
  - name: uploads
    path_prefix: /uploads
    s3:
      bucket: sink
      region: us-east-1
      endpoint: http://$SINK_ADDR
      access_key: bench
      secret_key: bench
  - name: sigv4
    path_prefix: /sigv4
    s3:
      bucket: sink
      region: us-east-1
      endpoint: http://$SINK_ADDR
      access_key: bench
      secret_key: bench
    auth:
      enabled: true
      sigv4:
        region: $SIGV4_REGION
        access_key: $SIGV4_AK
        secret_key: $SIGV4_SK
  - name: jwt
    path_prefix: /jwt
    s3:
      bucket: sink
      region: us-east-1
      endpoint: http://$SINK_ADDR
      access_key: bench
      secret_key: bench
    auth:
      enabled: true
      jwt:
        algorithm: HS256
        secret: "$JWT_SECRET"
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
	$ready || { tail -n 30 "$WORK/mizuchi.log" >&2; die "mizuchi did not become ready on 127.0.0.1:$ADMIN_PORT/readyz"; }
	log "mizuchi pid $MZ_PID on 127.0.0.1:$MZ_PORT (admin $ADMIN_PORT)"
fi

url_of() {
	case $1 in
	direct) echo "http://$SINK_ADDR/sink/bench" ;;
	mizuchi) echo "http://127.0.0.1:$MZ_PORT/uploads/bench" ;;
	mizuchi-sigv4) echo "http://127.0.0.1:$MZ_PORT/sigv4/bench" ;;
	mizuchi-jwt) echo "http://127.0.0.1:$MZ_PORT/jwt/bench" ;;
	esac
}
pids_of() {
	case $1 in
	direct) echo "-pid sink=$SINK_PID" ;;
	mizuchi*) echo "-pid proxy=$MZ_PID -pid sink=$SINK_PID" ;;
	esac
}
# auth_of prints loadgen's auth flags for a target (no spaces in the values).
auth_of() {
	case $1 in
	mizuchi-sigv4) echo "-auth sigv4 -region $SIGV4_REGION -access-key $SIGV4_AK -secret-key $SIGV4_SK" ;;
	mizuchi-jwt) echo "-auth jwt -jwt-secret $JWT_SECRET" ;;
	*) echo "-auth none" ;;
	esac
}
check_alive() {
	alive "$SINK_PID" || { tail -n 30 "$WORK/sink.log" >&2; die "sink died"; }
	if $want_mizuchi && ! alive "$MZ_PID"; then
		tail -n 30 "$WORK/mizuchi.log" >&2
		die "mizuchi died"
	fi
}

# --- budget --------------------------------------------------------------------
ntargets=$(wc -w <<<"$TARGETS")
slack=2 # per run: start-up, tail requests in flight at the deadline, /proc reads
warmup=$((${#WORKLOADS[@]} * ntargets * 2))
left=$((BUDGET - SECONDS - warmup - 5))
if [[ -z $DURATION ]]; then
	# As long as fits ROUNDS rounds into what the builds left, 3 s to 10 s:
	# 10 s for two targets, about 4 s for four on a warm build cache.
	DURATION=$((left / (ROUNDS * ${#WORKLOADS[@]} * ntargets) - slack))
	DURATION=$((DURATION > 10 ? 10 : DURATION < 3 ? 3 : DURATION))
fi
per_run=$((DURATION + slack))
per_round=$((${#WORKLOADS[@]} * ntargets * per_run))
fit=$((left / per_round))
NOTE=""
if ((fit < ROUNDS)); then
	fit=$((fit < 1 ? 1 : fit))
	NOTE="ran $fit round(s) instead of $ROUNDS: ${BUDGET}s budget, ${SECONDS}s spent on builds and start-up, ${per_round}s per round"
	log "$NOTE"
	ROUNDS=$fit
fi
log "$ROUNDS round(s) x ${#WORKLOADS[@]} workloads x targets [$TARGETS], ${DURATION}s each"

# --- runs ----------------------------------------------------------------------
idx=0
for wl in "${WORKLOADS[@]}"; do
	read -r name size conns <<<"$wl"
	idx=$((idx + 1))
	# Short warm-up per target: fills pools and connection caches, not recorded.
	# A target that gets no 2xx answer (e.g. Mizuchi rejects the auth) stops
	# the script: its rows would be meaningless.
	for t in $TARGETS; do
		# shellcheck disable=SC2046
		"$BIN/loadgen" -url "$(url_of "$t")" $(auth_of "$t") -size "$size" -conns "$conns" -duration 1s -quiet \
			-json "$WORK/warmup.json" $(pids_of "$t") >/dev/null
		if grep -q '"requests": 0,' "$WORK/warmup.json"; then
			grep -A3 '"error_examples"' "$WORK/warmup.json" >&2 || true
			die "warm-up of $name $t got no 2xx answer"
		fi
	done
	for round in $(seq "$ROUNDS"); do
		ti=0
		for t in $TARGETS; do
			ti=$((ti + 1))
			check_alive
			# Named so that the glob lists a round's targets in BENCH_TARGETS
			# order, which is the order of the table's rows.
			out="$WORK/runs/$idx-$name-r$(printf %03d "$round")-$ti-$t.json"
			# shellcheck disable=SC2046
			"$BIN/loadgen" -url "$(url_of "$t")" $(auth_of "$t") -size "$size" -conns "$conns" -duration "${DURATION}s" \
				$(pids_of "$t") -tag "workload=$name-$size-c$conns" -tag "target=$t" -tag "round=$round" \
				-json "$out" >"$WORK/last.txt"
			log "$name $t round $round: $(sed -n 's/^throughput *//p' "$WORK/last.txt"), $(sed -n 's/^requests *//p' "$WORK/last.txt")"
		done
	done
done
check_alive

# --- report --------------------------------------------------------------------
mkdir -p "$OUT"
result="$OUT/$(date -u +%Y%m%dT%H%M%SZ).json"
echo
"$BIN/report" -out "$result" -note "$NOTE" "$WORK"/runs/*.json
echo
[[ -z $NOTE ]] || echo "note: $NOTE"
echo "host: $(nproc) cpus, $(uname -r); results: ${result#"$ROOT"/}; took ${SECONDS}s"
