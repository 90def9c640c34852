#!/usr/bin/env bash
# bench/sched.sh — syscalls, context switches and Go scheduler work per
# request on the small path, Mizuchi beside HAProxy. See bench/README.md.
#
# Builds mizuchi, the sink and loadgen into a temp dir, starts the sink and,
# in front of it on 127.0.0.1, Mizuchi (one anonymous route) and HAProxy
# (when found; as many threads as Mizuchi has event loops). For SCHED_ROUNDS
# rounds it runs loadgen against each (1 KiB keep-alive PUTs, 64
# connections, SCHED_DURATION seconds) under `perf stat` on the syscall
# tracepoints and prints, per request: syscalls by kind, context switches,
# CPU (user+sys) and the rate. Counts are what to trust on a busy machine;
# the CPU figures are rough (compare them within a round). Then one
# `perf record -g` run of Mizuchi attributes its syscalls to who makes them
# (the event loops' I/O and epoll_wait, gnet's Gosched waking an idle thread,
# sysmon, idle threads, preemption signals, other goroutines) by call stack.
#
# Needs perf with the syscalls:* tracepoints (root, or perf_event_paranoid
# -1 and a readable tracefs). Bounded: about (2 + rounds x targets) x
# SCHED_DURATION seconds after the builds.
#
# Environment:
#   SCHED_DURATION  seconds per run, default 4
#   SCHED_ROUNDS    rounds, default 3
#   SCHED_TARGETS   "mizuchi haproxy" (default; haproxy only when found)
#   MIZUCHI_FLAGS   extra flags for mizuchi (e.g. "-loops 1")
#   MIZUCHI_ENV     environment for mizuchi (e.g. "GOMAXPROCS=2")
#   MIZUCHI_BIN     a mizuchi binary to use instead of building ./cmd/mizuchi
#   HAPROXY         the haproxy binary; default from PATH, then /usr/sbin
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${SCHED_DURATION:-4}
ROUNDS=${SCHED_ROUNDS:-3}
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || { echo "SCHED_DURATION must be a positive integer" >&2; exit 1; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "SCHED_ROUNDS must be a positive integer" >&2; exit 1; }
command -v perf >/dev/null || { echo "perf not found" >&2; exit 1; }
HAPROXY=${HAPROXY:-$(command -v haproxy 2>/dev/null || true)}
[[ -z $HAPROXY && -x /usr/sbin/haproxy ]] && HAPROXY=/usr/sbin/haproxy
TARGETS=${SCHED_TARGETS:-mizuchi haproxy}
if [[ -z $HAPROXY ]]; then
	TARGETS=${TARGETS//haproxy/}
	echo "haproxy not found: Mizuchi only" >&2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mizuchi-sched.XXXXXX")
BIN=$WORK/bin
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '[sched %3ds] %s\n' "$SECONDS" "$*" >&2; }

perf stat -e syscalls:sys_enter_read -- true >/dev/null 2>&1 ||
	{ echo "perf cannot read the syscalls:* tracepoints (run as root?)" >&2; exit 1; }

log "building into $BIN"
mkdir -p "$BIN"
go build -o "$BIN/" ./bench/sink ./bench/loadgen
if [[ -n ${MIZUCHI_BIN:-} ]]; then
	cp "$MIZUCHI_BIN" "$BIN/mizuchi"
else
	go build -o "$BIN/mizuchi" ./cmd/mizuchi
fi

# wait_http PORT: until 127.0.0.1:PORT answers HTTP at all.
wait_http() {
	local code
	for _ in $(seq 100); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$1/" 2>/dev/null || true)
		[[ -n $code && $code != 000 ]] && return 0
		sleep 0.1
	done
	return 1
}

"$BIN/sink" -listen 127.0.0.1:0 >"$WORK/sink.out" 2>"$WORK/sink.log" &
PIDS+=($!)
SINK=
for _ in $(seq 100); do
	SINK=$(sed -n '1s/^listening on //p' "$WORK/sink.out" 2>/dev/null || true)
	[[ -n $SINK ]] && break
	sleep 0.05
done
[[ -n $SINK ]] || { cat "$WORK/sink.log" >&2; exit 1; }

read -r MZ_PORT HA_PORT < <("$BIN/loadgen" -free-ports 2 | paste -sd' ')
cat >"$WORK/mizuchi.yaml" <<YAML
server:
  address: "127.0.0.1:$MZ_PORT"
buckets:
  - name: uploads
    path_prefix: /uploads
    s3:
      bucket: sink
      region: us-east-1
      endpoint: http://$SINK
      access_key: bench
      secret_key: bench
YAML
# shellcheck disable=SC2086 # MIZUCHI_ENV and MIZUCHI_FLAGS are lists
env ${MIZUCHI_ENV:-} "$BIN/mizuchi" -config "$WORK/mizuchi.yaml" -listen "127.0.0.1:$MZ_PORT" \
	-admin-listen "" ${MIZUCHI_FLAGS:-} >"$WORK/mizuchi.log" 2>&1 &
MZ_PID=$!
PIDS+=("$MZ_PID")
wait_http "$MZ_PORT" || { tail -n 20 "$WORK/mizuchi.log" >&2; exit 1; }
LOOPS=$(sed -n 's/.*mizuchi started.* loops=\([0-9]*\).*/\1/p' "$WORK/mizuchi.log" | head -1)
log "mizuchi pid $MZ_PID, $(grep -o 'loops=[0-9]* gomaxprocs=[0-9]*' "$WORK/mizuchi.log" | head -1)"

HA_PID=
if [[ " $TARGETS " == *" haproxy "* ]]; then
	cat >"$WORK/haproxy.cfg" <<HAPROXY
global
    nbthread ${LOOPS:-2}
    maxconn 4096
defaults
    mode http
    option splice-request
    option splice-response
    http-reuse always
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 60s
frontend bench
    bind 127.0.0.1:$HA_PORT
    default_backend sink
backend sink
    server sink $SINK
HAPROXY
	"$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
	HA_PID=$!
	PIDS+=("$HA_PID")
	wait_http "$HA_PORT" || { tail -n 20 "$WORK/haproxy.log" >&2; exit 1; }
	log "haproxy pid $HA_PID, nbthread ${LOOPS:-2}"
fi

pid_of() { [[ $1 == mizuchi ]] && echo "$MZ_PID" || echo "$HA_PID"; }
url_of() { [[ $1 == mizuchi ]] && echo "http://127.0.0.1:$MZ_PORT/uploads" || echo "http://127.0.0.1:$HA_PORT/sink"; }

# requests_in JSON: loadgen's request count.
requests_in() { sed -n 's/^  "requests": \([0-9]*\),$/\1/p' "$1" | head -1; }

# Warm-up: fills Mizuchi's upstream links and HAProxy's server pool.
for t in $TARGETS; do
	"$BIN/loadgen" -url "$(url_of "$t")/warmup" -conns 64 -size 1KiB -duration 500ms -quiet >/dev/null
done

EVENTS=raw_syscalls:sys_enter,context-switches
KINDS="read write writev recvfrom sendto epoll_wait epoll_pwait epoll_ctl futex nanosleep sched_yield tgkill"
for k in $KINDS; do EVENTS+=",syscalls:sys_enter_$k"; done
TCK=$(getconf CLK_TCK)

printf '%-5s %-8s %7s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s\n' round target req/s cpu_us all \
	data epoll e_ctl futex nsleep yield tgkill other ctxsw
for round in $(seq "$ROUNDS"); do
	for t in $TARGETS; do
		pid=$(pid_of "$t")
		perf stat -x, -e "$EVENTS" -p "$pid" -o "$WORK/stat.csv" &
		spid=$!
		sleep 0.3
		read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
		"$BIN/loadgen" -url "$(url_of "$t")/r$round" -conns 64 -size 1KiB -duration "${DURATION}s" \
			-quiet -json "$WORK/run.json" >/dev/null
		read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
		kill -INT "$spid"
		wait "$spid" 2>/dev/null || true
		n=$(requests_in "$WORK/run.json")
		if [[ $t == mizuchi ]]; then rm -f "$WORK/kinds"; fi
		awk -F, -v n="$n" -v r="$round" -v t="$t" -v d="$DURATION" -v cpu=$((u1 - u0 + s1 - s0)) -v tck="$TCK" -v kinds="$WORK/kinds" '
			NF > 3 && $1 ~ /^[0-9]+$/ {
				e = $3; sub(/^syscalls:sys_enter_/, "", e)
				c[e] = $1
			}
			END {
				if (t == "mizuchi") for (e in c) printf "%s %.6f\n", e, c[e] / n > kinds
				data = c["read"] + c["write"] + c["writev"] + c["recvfrom"] + c["sendto"]
				ep = c["epoll_wait"] + c["epoll_pwait"]
				other = c["raw_syscalls:sys_enter"] - data - ep - c["epoll_ctl"] - c["futex"] - c["nanosleep"] - c["sched_yield"] - c["tgkill"]
				printf "%-5s %-8s %7.0f %6.1f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f\n", r, t, n / d,
					cpu / tck * 1e6 / n, c["raw_syscalls:sys_enter"] / n, data / n, ep / n, c["epoll_ctl"] / n, c["futex"] / n,
					c["nanosleep"] / n, c["sched_yield"] / n, c["tgkill"] / n, other / n, c["context-switches"] / n
			}' "$WORK/stat.csv"
	done
done

# Who makes Mizuchi's syscalls: one run under perf record -g on the same
# tracepoints, each call attributed by its stack to the first role that
# matches, innermost frame first. perf record drops events at these rates,
# so each role's share of a kind is scaled by the kind's per-request count
# in the last perf stat round.
log "attributing Mizuchi's syscalls by call stack"
REC=""
for k in read write writev epoll_pwait futex nanosleep sched_yield tgkill; do REC+="${REC:+,}syscalls:sys_enter_$k"; done
perf record -q -g -e "$REC" -p "$MZ_PID" -o "$WORK/who.data" >/dev/null 2>&1 &
spid=$!
sleep 0.3
"$BIN/loadgen" -url "$(url_of mizuchi)/who" -conns 64 -size 1KiB -duration "${DURATION}s" -quiet -json "$WORK/who.json" >/dev/null
kill -INT "$spid"
wait "$spid" 2>/dev/null || true
echo
echo "mizuchi syscalls per request by role (shares from perf record, scaled to the last round's counts):"
perf script -i "$WORK/who.data" -F event,ip,sym 2>/dev/null | awk -v kinds="$WORK/kinds" '
	function role(s) {
		if (s ~ / runtime\.sysmon /) return "sysmon"
		if (s ~ / runtime\.(preemptM|sigtramp|sighandler) /) return "preemption signal"
		if (s ~ / runtime\.gosched_m /) return "gnet Gosched -> wakep (loop)"
		if (s ~ / runtime\.exitsyscall/) return "loop back from a syscall (exitsyscall)"
		if (s ~ / runtime\.(findRunnable|stopm|schedule) /) return "idle thread (findRunnable/stopm)"
		if (s ~ /[Ee]pollWait/ && s ~ /Polling/) return "event loop: epoll_wait"
		if (s ~ /Polling/) return "event loop: I/O"
		if (s ~ / runtime\.(gcBgMarkWorker|bgsweep|bgscavenge|gcStart) /) return "GC"
		return "other goroutines"
	}
	BEGIN { while ((getline line < kinds) > 0) { split(line, f, " "); per[f[1]] = f[2] } }
	function flush() { if (ev != "") { cnt[ev " | " role(stack " ")]++; tot[ev]++ }; ev = ""; stack = "" }
	/^[[:space:]]*$/ { flush(); next }
	/syscalls:sys_enter_/ { flush(); ev = $0; sub(/.*sys_enter_/, "", ev); sub(/:.*/, "", ev); next }
	{ stack = stack " " $NF }
	END {
		flush()
		for (k in cnt) {
			e = substr(k, 1, index(k, " |") - 1)
			v = cnt[k] / tot[e] * per[e]
			if (v >= 0.001) printf "  %-12s %7.3f  %s\n", e, v, substr(k, index(k, "| ") + 2)
		}
	}' | sort -k1,1 -k2,2nr

# Where the CPU goes: one run under perf record -g (cpu-clock samples) per
# proxy, each sample put in the first category its stack matches (the awk
# function cat, given as $4). Rough (sampling, and the box is shared), but
# Mizuchi's Go runtime share is the floor that no change in the engine
# removes, and HAProxy's split is the anchor beside it.
HZ=999
cpu_split() { # name pid url awk-cat-function
	local name=$1 pid=$2 url=$3 catfn=$4 spid n
	log "sampling $name's CPU by call stack"
	perf record -q -F "$HZ" -g -p "$pid" -o "$WORK/cpu-$name.data" >/dev/null 2>&1 &
	spid=$!
	sleep 0.3
	"$BIN/loadgen" -url "$url/cpu" -conns 64 -size 1KiB -duration "${DURATION}s" -quiet -json "$WORK/cpu-$name.json" >/dev/null
	kill -INT "$spid"
	wait "$spid" 2>/dev/null || true
	n=$(requests_in "$WORK/cpu-$name.json")
	echo
	echo "$name CPU µs per request by category ($n requests, $HZ Hz samples; rough):"
	perf script -i "$WORK/cpu-$name.data" -F ip,sym 2>/dev/null | awk -v n="$n" -v hz="$HZ" "$catfn"'
	function flush() { if (st != "") { c[cat(st " ")]++; tot++ }; st = "" }
	/^[[:space:]]*$/ { flush(); next }
	{ st = st " " $NF }
	END {
		flush()
		us = 1e6 / hz / n
		for (k in c) printf "  %6.2f  %s\n", c[k] * us, k
		printf "  %6.2f  total sampled\n", tot * us
	}' | sort -k1,1nr
}

cpu_split mizuchi "$MZ_PID" "$(url_of mizuchi)" '
	function cat(s) {
		if (s ~ / runtime\.sysmon /) return "go runtime: sysmon"
		if (s ~ / runtime\.(gosched_m|findRunnable|stopm|startm|wakep|park_m|schedule|mcall) /) return "go runtime: scheduler (Gosched, wakep, idle threads)"
		if (s ~ / runtime\.(gcBgMarkWorker|bgsweep|bgscavenge|mallocgc) /) return "go runtime: GC and allocation"
		if (s ~ / runtime\.(sigtramp|sighandler|asyncPreempt) /) return "go runtime: preemption signals"
		if (s ~ /[Ee]pollWait/) return "event loop: epoll_wait"
		if (s ~ / (entry_SYSCALL_64[^ ]*|do_syscall_64) /) return "kernel: read/write/writev (TCP loopback)"
		if (s ~ / (runtime\.(entersyscall|exitsyscall|reentersyscall)[^ ]*|internal\/runtime\/syscall\/linux\.Syscall6|syscall\.Syscall6?(\.abi0)?|syscall\.RawSyscall6?) /) return "go runtime: syscall entry/exit"
		if (s ~ /sigv4|sha256|hmac/) return "user: SigV4 re-signing for the backend"
		if (s ~ /^ *runtime\./) return "go runtime: other"
		return "user: parsing, routing, gnet, metrics"
	}'

# HAProxy: its epoll_wait, its other system calls (the data calls;
# clock_gettime is the vDSO's) and its own code.
[[ -n $HA_PID ]] || exit 0
cpu_split haproxy "$HA_PID" "$(url_of haproxy)" '
	function cat(s) {
		if (s ~ / (do_epoll_wait|do_epoll_pwait|__x64_sys_epoll_wait|__x64_sys_epoll_pwait|ep_poll) /) return "event loop: epoll_wait"
		if (s ~ / (entry_SYSCALL_64[^ ]*|do_syscall_64) /) return "kernel: read/write/recv/send (TCP loopback)"
		return "user: haproxy (parsing, scheduler, libc)"
	}'
