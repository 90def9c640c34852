#!/usr/bin/env bash
# bench/run.sh — what `make bench` runs. See bench/README.md.
#
# Builds mizuchi, the sink, loadgen, relay and report into a temp dir, starts
# the sink and, in front of that same sink on 127.0.0.1, every target listed:
# Mizuchi (one process, up to seven routes: /uploads without auth, /sigv4 and
# /jwt with it, and four SigV4 routes that also authorize every request with
# embedded OPA or an OpenFGA server, cached and not), nginx (two
# configurations), HAProxy and a bare splice relay. For two workloads (1 KiB
# PUTs at 64 connections, 64 MiB PUTs at 4 connections; the authorization
# targets run in the 1 KiB one only) it alternates the targets for up to 3
# rounds, bounded to about BENCH_BUDGET seconds in all. Prints one table (and
# one for the HTTPS targets) and writes bench/results/<timestamp>.json.
#
# HTTPS targets (opt-in through BENCH_TARGETS): mizuchi-tls (a second Mizuchi
# process with server.tls and the anonymous route), nginx-tls and haproxy-tls,
# all with one ECDSA P-256 certificate generated into the temp dir and TLS 1.3
# TLS_AES_128_GCM_SHA256 with X25519; the backend side stays plain HTTP. They
# get their own table, compared with nginx-tls and haproxy-tls only.
#
# Environment:
#   BENCH_TARGETS   targets to run; default "direct mizuchi mizuchi-sigv4
#                   mizuchi-jwt mizuchi-opa mizuchi-opa-nocache mizuchi-fga
#                   mizuchi-fga-nocache nginx nginx-buf1m haproxy relay",
#                   without nginx, haproxy and the OpenFGA targets when their
#                   binaries are missing (a note says so); "direct" alone
#                   skips Mizuchi. Also: mizuchi-tls nginx-tls haproxy-tls
#                   (never in the default; `make bench-tls` runs these three)
#   BENCH_ROUNDS    rounds wanted, default 3 (fewer if the budget does not allow)
#   BENCH_DURATION  seconds per run; default: what fits BENCH_ROUNDS rounds of
#                   all targets into the budget after the builds, 2 to 10
#   BENCH_BUDGET    seconds for the whole script including builds, default 240
#   BENCH_OUT       results directory, default bench/results
#   BENCH_WORKLOADS "small" (1 KiB x 64 connections), "large" (64 MiB x 4)
#                   or both, the default
#   BENCH_PROXY_WORKERS  nginx worker processes and HAProxy threads; default
#                   Mizuchi's event loops: -loops N from MIZUCHI_FLAGS, else
#                   its default GOMAXPROCS, i.e. the CPUs Go sees
#   MIZUCHI_FLAGS   extra flags for mizuchi (e.g. "-loops 1 -pipe-size 256KiB")
#   MIZUCHI_BIN     a mizuchi binary to bench instead of building ./cmd/mizuchi
#   NGINX, HAPROXY  the binaries; default from PATH, then /usr/sbin
#   MIZUCHI_OPENFGA the openfga server of the mizuchi-fga targets; default
#                   openfga in MIZUCHI_TOOLS (default ~/.cache/mizuchi/bin),
#                   where `make authz-servers` installs it; never built here
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

find_bin() { # name: prints the binary's path, or nothing
	local p
	p=$(command -v "$1" 2>/dev/null || true)
	[[ -z $p && -x /usr/sbin/$1 ]] && p=/usr/sbin/$1
	echo "$p"
}
NGINX=${NGINX:-$(find_bin nginx)}
HAPROXY=${HAPROXY:-$(find_bin haproxy)}
# find_openfga prints the openfga server's path, or nothing: MIZUCHI_OPENFGA,
# then the tools cache of scripts/install-authz-servers.sh.
find_openfga() {
	local p
	for p in "${MIZUCHI_OPENFGA:-}" "${MIZUCHI_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/mizuchi/bin}/openfga"; do
		if [[ -n $p && -x $p ]]; then
			echo "$p"
			return 0
		fi
	done
}
OPENFGA=$(find_openfga)

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-} # empty: chosen after the builds, see "budget"
BUDGET=${BENCH_BUDGET:-240}
OUT=${BENCH_OUT:-$ROOT/bench/results}
# name size conns
WORKLOADS=()
for w in ${BENCH_WORKLOADS:-small large}; do
	case $w in
	small) WORKLOADS+=("small 1KiB 64") ;;
	large) WORKLOADS+=("large 64MiB 4") ;;
	*) echo "bench: BENCH_WORKLOADS: unknown workload '$w' (want small, large)" >&2; exit 1 ;;
	esac
done
NOTES=() # joined into the report's note

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
note() { NOTES+=("$*"); log "note: $*"; }

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
[[ -z $DURATION || $DURATION =~ ^[1-9][0-9]*$ ]] || die "BENCH_DURATION must be a positive integer"

# --- targets -------------------------------------------------------------------
if [[ -n ${BENCH_TARGETS:-} ]]; then
	asked=$BENCH_TARGETS
else
	asked="direct mizuchi mizuchi-sigv4 mizuchi-jwt mizuchi-opa mizuchi-opa-nocache"
	[[ -n $OPENFGA ]] && asked+=" mizuchi-fga mizuchi-fga-nocache"
	[[ -n $NGINX ]] && asked+=" nginx nginx-buf1m"
	[[ -n $HAPROXY ]] && asked+=" haproxy"
	asked+=" relay"
	[[ -n $NGINX ]] || note "nginx not found: no nginx rows (make bench-deps installs it)"
	[[ -n $HAPROXY ]] || note "haproxy not found: no haproxy row (make bench-deps installs it)"
	[[ -n $OPENFGA ]] || note "openfga not found: no OpenFGA rows (make authz-servers installs it)"
fi
TARGETS=""
want_mizuchi=false want_nginx=false want_haproxy=false want_relay=false
want_opa=false want_fga=false want_mizuchi_tls=false want_haproxy_tls=false
for t in $asked; do
	case $t in
	direct) ;;
	mizuchi | mizuchi-sigv4 | mizuchi-jwt) want_mizuchi=true ;;
	mizuchi-opa | mizuchi-opa-nocache) want_mizuchi=true want_opa=true ;;
	mizuchi-fga | mizuchi-fga-nocache)
		if [[ -z $OPENFGA ]]; then
			note "skipped $t: openfga not found (make authz-servers installs it)"
			continue
		fi
		want_mizuchi=true want_fga=true
		;;
	mizuchi-tls) want_mizuchi_tls=true ;;
	nginx | nginx-buf1m | nginx-tls)
		if [[ -z $NGINX ]]; then
			note "skipped $t: nginx not found (make bench-deps installs it)"
			continue
		fi
		want_nginx=true
		;;
	haproxy | haproxy-signed | haproxy-tls)
		if [[ -z $HAPROXY ]]; then
			note "skipped $t: haproxy not found (make bench-deps installs it)"
			continue
		fi
		if [[ $t == haproxy-tls ]]; then want_haproxy_tls=true; else want_haproxy=true; fi
		;;
	relay) want_relay=true ;;
	*) die "unknown target '$t' in BENCH_TARGETS (want direct, mizuchi, mizuchi-sigv4, mizuchi-jwt, mizuchi-opa, mizuchi-opa-nocache, mizuchi-fga, mizuchi-fga-nocache, nginx, nginx-buf1m, haproxy, haproxy-signed, relay, mizuchi-tls, nginx-tls, haproxy-tls)" ;;
	esac
	TARGETS+="${TARGETS:+ }$t"
done
[[ -n $TARGETS ]] || die "no target left to run"

# authz_of TARGET prints the authorization engine of a target, which is also
# its "authz" tag for the report: opa, fga, or nothing.
authz_of() {
	case $1 in
	mizuchi-opa*) echo opa ;;
	mizuchi-fga*) echo fga ;;
	esac
}
# targets_for WORKLOAD prints the targets that run in it: all of them in the
# small one; the authorization targets are left out of the large one, where
# one decision per 64 MiB body is lost in the splicing.
targets_for() {
	local t out=""
	for t in $TARGETS; do
		[[ $1 == large && -n $(authz_of "$t") ]] && continue
		out+="${out:+ }$t"
	done
	echo "$out"
}

# Mizuchi runs GOMAXPROCS event loops unless told otherwise; the external
# proxies get as many workers/threads so that each side may use every core.
if [[ -n ${BENCH_PROXY_WORKERS:-} ]]; then
	WORKERS=$BENCH_PROXY_WORKERS
elif [[ ${MIZUCHI_FLAGS:-} =~ -loops[=\ ]+([1-9][0-9]*) ]]; then
	WORKERS=${BASH_REMATCH[1]}
else
	WORKERS=$(nproc)
fi
[[ $WORKERS =~ ^[1-9][0-9]*$ ]] || die "BENCH_PROXY_WORKERS must be a positive integer"

# --- build -------------------------------------------------------------------
log "building into $BIN"
mkdir -p "$BIN" "$WORK/runs"
go build -o "$BIN/" ./bench/sink ./bench/loadgen ./bench/report ./bench/relay
if $want_mizuchi || $want_mizuchi_tls; then
	if [[ -n ${MIZUCHI_BIN:-} ]]; then
		cp "$MIZUCHI_BIN" "$BIN/mizuchi" || die "cannot copy MIZUCHI_BIN=$MIZUCHI_BIN"
	else
		go build -o "$BIN/mizuchi" ./cmd/mizuchi ||
			die "cannot build ./cmd/mizuchi; set MIZUCHI_BIN, or leave the mizuchi targets out of BENCH_TARGETS"
	fi
fi
log "built"

# --- tls -----------------------------------------------------------------------
# One certificate for every HTTPS target: ECDSA P-256, self-signed for
# 127.0.0.1 and localhost, fresh per script run, only ever in the temp dir
# (removed on exit). loadgen verifies it (-cacert) and fails any handshake
# that does not negotiate TLS_CIPHER (-tls-cipher); it offers TLS 1.3 only,
# with X25519 only.
TLS_CIPHER=TLS_AES_128_GCM_SHA256
if [[ " $TARGETS " == *-tls\ * ]]; then
	TLS_DIR=$WORK/tls
	"$BIN/loadgen" -gen-cert "$TLS_DIR" || die "cannot generate the bench certificate"
	TLS_CERT=$TLS_DIR/cert.pem TLS_KEY=$TLS_DIR/key.pem
	# HAProxy wants the key in the certificate's file.
	(umask 077 && cat "$TLS_CERT" "$TLS_KEY" >"$TLS_DIR/haproxy.pem")
fi

alive() { kill -0 "$1" 2>/dev/null; }
free_port() { "$BIN/loadgen" -free-ports 1; }

# first_line_addr FILE PID: waits for "listening on ADDR" as FILE's first line.
first_line_addr() {
	local addr=
	for _ in $(seq 100); do
		addr=$(sed -n '1s/^listening on //p' "$1" 2>/dev/null || true)
		[[ -n $addr ]] && break
		alive "$2" || break
		sleep 0.05
	done
	echo "$addr"
}

# wait_http PORT PID LOG [https]: waits until 127.0.0.1:PORT answers HTTP (or
# HTTPS, verified with the bench certificate) at all (the sink behind it
# answers a GET with 501, which is fine).
wait_http() {
	local code url=http://127.0.0.1:$1/ tls=()
	if [[ ${4:-} == https ]]; then
		url=https://127.0.0.1:$1/ tls=(--cacert "$TLS_CERT")
	fi
	for _ in $(seq 100); do
		code=$(curl -s "${tls[@]}" -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null || true)
		[[ -n $code && $code != 000 ]] && return 0
		alive "$2" || break
		sleep 0.1
	done
	tail -n 30 "$3" >&2
	return 1
}

# children PID: the PIDs whose parent is PID.
children() {
	local f rest
	for f in /proc/[0-9]*/stat; do
		read -r rest 2>/dev/null <"$f" || continue
		rest=${rest##*) } # fields from 3 on; comm may hold spaces
		read -r _ ppid _ <<<"$rest"
		[[ $ppid == "$1" ]] && echo "${f//[^0-9]/}"
	done
	return 0
}

# --- sink ----------------------------------------------------------------------
"$BIN/sink" -listen 127.0.0.1:0 >"$WORK/sink.out" 2>"$WORK/sink.log" &
SINK_PID=$!
PIDS+=("$SINK_PID")
SINK_ADDR=$(first_line_addr "$WORK/sink.out" "$SINK_PID")
[[ -n $SINK_ADDR ]] || { cat "$WORK/sink.log" >&2; die "sink did not start"; }
log "sink pid $SINK_PID on $SINK_ADDR"

# The proxies are all launched first, then waited for together (see "ready").
# SERVICE_PIDS[name] is every process of a started proxy ("pid pid ..."), all
# measured as role "proxy"; SERVICE_PORT[name] its port; SERVICE_LOG[name] its log.
declare -A SERVICE_PIDS SERVICE_PORT SERVICE_LOG
SERVICES=() # names in launch order

# Client credentials of the auth routes. The SigV4 pair is loadgen's default;
# the JWT secret is fresh per run and only ever on 127.0.0.1.
SIGV4_REGION=us-east-1
SIGV4_AK=benchak
SIGV4_SK=benchsk
JWT_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
# Routes with more than one identity (the JWT route: one per subject) need a
# secret that binds multipart upload ids to their identity; fresh per run.
UPLOAD_ID_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')

# authz_route NAME AUTHZ: prints a route NAME at /NAME, the "sigv4" route with
# an authz block: enabled, then the lines of AUTHZ.
authz_route() {
	cat <<YAML
  - name: $1
    path_prefix: /$1
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
    authz:
      enabled: true
YAML
	sed 's/^/      /' <<<"$2"
}

# --- openfga -------------------------------------------------------------------
# The OpenFGA server of the mizuchi-fga targets, with the memory datastore: one
# store, a model in which users write buckets, and the tuples that let the
# SigV4 subject (its access key, benchak) write the two routes' buckets. Its
# CPU is measured as role "authz", apart from the proxy's.
FGA_PID=""
if $want_fga; then
	read -r FGA_PORT FGA_GRPC < <("$BIN/loadgen" -free-ports 2 | paste -sd' ')
	"$OPENFGA" run --datastore-engine=memory --playground-enabled=false --metrics-enabled=false \
		--profiler-enabled=false --log-level=error --http-addr="127.0.0.1:$FGA_PORT" \
		--grpc-addr="127.0.0.1:$FGA_GRPC" >"$WORK/openfga.log" 2>&1 &
	FGA_PID=$!
	PIDS+=("$FGA_PID")
	FGA_URL=http://127.0.0.1:$FGA_PORT
	ready=false
	for _ in $(seq 150); do
		if curl -fsS -o /dev/null --max-time 1 "$FGA_URL/healthz" 2>/dev/null; then
			ready=true
			break
		fi
		alive "$FGA_PID" || break
		sleep 0.1
	done
	$ready || { tail -n 30 "$WORK/openfga.log" >&2; die "openfga did not become ready on $FGA_URL/healthz"; }
	# fga_post PATH JSON: POSTs to the OpenFGA HTTP API, prints the answer.
	fga_post() {
		curl -fsS --max-time 10 -X POST -H 'Content-Type: application/json' -d "$2" "$FGA_URL$1" ||
			die "openfga: POST $1 failed"
	}
	FGA_STORE=$(fga_post /stores '{"name":"mizuchi-bench"}' | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
	[[ -n $FGA_STORE ]] || die "openfga: no store id in the answer to POST /stores"
	# type user; type bucket: relations: define writer: [user]
	FGA_MODEL=$(fga_post "/stores/$FGA_STORE/authorization-models" '{"schema_version":"1.1","type_definitions":[
		{"type":"user"},
		{"type":"bucket","relations":{"writer":{"this":{}}},
		 "metadata":{"relations":{"writer":{"directly_related_user_types":[{"type":"user"}]}}}}]}' |
		sed -n 's/.*"authorization_model_id": *"\([^"]*\)".*/\1/p')
	[[ -n $FGA_MODEL ]] || die "openfga: no authorization_model_id in the answer to POST /stores/$FGA_STORE/authorization-models"
	fga_post "/stores/$FGA_STORE/write" '{"authorization_model_id":"'"$FGA_MODEL"'","writes":{"tuple_keys":[
		{"user":"user:'"$SIGV4_AK"'","relation":"writer","object":"bucket:fga"},
		{"user":"user:'"$SIGV4_AK"'","relation":"writer","object":"bucket:fganc"}]}}' >/dev/null
	log "openfga pid $FGA_PID on $FGA_URL, store $FGA_STORE, model $FGA_MODEL"
fi

# --- mizuchi -------------------------------------------------------------------
if $want_mizuchi; then
	read -r MZ_PORT ADMIN_PORT < <("$BIN/loadgen" -free-ports 2 | paste -sd' ')
	# Three routes to the same sink: the auth rows differ from the "mizuchi"
	# row only by their auth block. The authorization routes follow.
	cat >"$WORK/mizuchi.yaml" <<YAML
server:
  address: "127.0.0.1:$MZ_PORT"
  upload_id_secret: "$UPLOAD_ID_SECRET"
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
YAML
	# The authorization routes are the "sigv4" route (same credentials, one
	# identity each) plus an authz block: their rows differ from
	# mizuchi-sigv4's only by it. timeout_ms is raised
	# from its 100 ms default so that a decision queued behind 64 connections
	# on a busy box is measured, not refused with a 503.
	if $want_opa; then
		authz_route opa "type: opa
opa:
  policy_file: $ROOT/config/testdata/policy/mizuchi.rego
  query: data.mizuchi.allow
  timeout_ms: 1000
  cache_ttl_seconds: 300" >>"$WORK/mizuchi.yaml"
		authz_route opanc "type: opa
opa:
  policy_file: $ROOT/config/testdata/policy/mizuchi.rego
  query: data.mizuchi.allow
  timeout_ms: 1000
  cache_ttl_seconds: 0
  cache_deny_ttl_seconds: 0" >>"$WORK/mizuchi.yaml"
	fi
	if $want_fga; then
		for r in fga fganc; do
			ttl=300
			[[ $r == fganc ]] && ttl=0
			authz_route "$r" "type: openfga
openfga:
  api_url: $FGA_URL
  store_id: $FGA_STORE
  authorization_model_id: $FGA_MODEL
  object: \"bucket:{bucket}\"
  relation: writer
  user_type: user
  timeout_ms: 1000
  cache_ttl_seconds: $ttl
  cache_deny_ttl_seconds: $ttl" >>"$WORK/mizuchi.yaml"
		done
	fi
	cat >>"$WORK/mizuchi.yaml" <<YAML
metrics:
  enabled: true
  port: $ADMIN_PORT
YAML
	# shellcheck disable=SC2086 # MIZUCHI_FLAGS is a list of flags
	"$BIN/mizuchi" -config "$WORK/mizuchi.yaml" -listen "127.0.0.1:$MZ_PORT" \
		-admin-listen "127.0.0.1:$ADMIN_PORT" ${MIZUCHI_FLAGS:-} >"$WORK/mizuchi.log" 2>&1 &
	MZ_PID=$!
	PIDS+=("$MZ_PID")
	SERVICE_PIDS[mizuchi]=$MZ_PID SERVICE_PORT[mizuchi]=$MZ_PORT SERVICE_LOG[mizuchi]=$WORK/mizuchi.log
	SERVICES+=(mizuchi)
fi

# --- mizuchi-tls ---------------------------------------------------------------
# server.tls applies to the whole S3 listener, so the HTTPS row is a second
# process: the anonymous "uploads" route of the first, same flags, with the
# bench certificate. Go's crypto/tls picks the TLS 1.3 suite itself (there is
# no knob); loadgen checks it is TLS_CIPHER on every connection.
if $want_mizuchi_tls; then
	read -r MZT_PORT MZT_ADMIN < <("$BIN/loadgen" -free-ports 2 | paste -sd' ')
	cat >"$WORK/mizuchi-tls.yaml" <<YAML
server:
  address: "127.0.0.1:$MZT_PORT"
  upload_id_secret: "$UPLOAD_ID_SECRET"
  tls:
    cert_file: $TLS_CERT
    key_file: $TLS_KEY
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
  port: $MZT_ADMIN
YAML
	# shellcheck disable=SC2086 # MIZUCHI_FLAGS is a list of flags
	"$BIN/mizuchi" -config "$WORK/mizuchi-tls.yaml" -listen "127.0.0.1:$MZT_PORT" \
		-admin-listen "127.0.0.1:$MZT_ADMIN" ${MIZUCHI_FLAGS:-} >"$WORK/mizuchi-tls.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	SERVICE_PIDS[mizuchi-tls]=$pid SERVICE_PORT[mizuchi-tls]=$MZT_PORT SERVICE_LOG[mizuchi-tls]=$WORK/mizuchi-tls.log
	SERVICES+=(mizuchi-tls)
fi

# --- nginx ---------------------------------------------------------------------
# start_nginx NAME EXTRA [tls]: a master with WORKERS worker processes; all of
# them are measured (the master does next to nothing; its workers are found
# once it is ready). EXTRA goes into http {}. With "tls" the listener is
# HTTPS with the bench certificate, TLS 1.3 and TLS_CIPHER only, X25519.
start_nginx() {
	local name=$1 extra=$2 dir=$WORK/$1 port pid user="" ssl="" tls=""
	port=$(free_port)
	if [[ ${3:-} == tls ]]; then
		ssl=" ssl"
		tls="ssl_certificate $TLS_CERT;
        ssl_certificate_key $TLS_KEY;
        ssl_protocols TLSv1.3;
        ssl_conf_command Ciphersuites $TLS_CIPHER;
        ssl_ecdh_curve X25519;"
	fi
	mkdir -p "$dir"
	# As root nginx would switch its workers to "nobody", which cannot enter
	# the private temp dir; keep them as the invoking user instead.
	((EUID != 0)) || user="user $(id -un) $(id -gn);"
	cat >"$dir/nginx.conf" <<NGINX
# generated by bench/run.sh
$user
worker_processes $WORKERS;
master_process on;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events {
    worker_connections 1024;
}
http {
    access_log off;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    client_max_body_size 0;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    $extra
    upstream sink {
        server $SINK_ADDR;
        keepalive 64;
        keepalive_requests 1000000;
        keepalive_timeout 60s;
    }
    server {
        # reuseport: the kernel spreads connections over the workers as
        # Mizuchi spreads them over its loops.
        listen 127.0.0.1:$port$ssl reuseport;
        $tls
        location / {
            proxy_pass http://sink;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_request_buffering off;
        }
    }
}
NGINX
	"$NGINX" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	SERVICE_PIDS[$name]=$pid SERVICE_PORT[$name]=$port SERVICE_LOG[$name]=$dir/error.log
	SERVICES+=("$name")
}
if $want_nginx; then
	[[ " $TARGETS " == *" nginx "* ]] && start_nginx nginx ""
	[[ " $TARGETS " == *" nginx-buf1m "* ]] && start_nginx nginx-buf1m "client_body_buffer_size 1m;"
	[[ " $TARGETS " == *" nginx-tls "* ]] && start_nginx nginx-tls "" tls
fi

# --- haproxy -------------------------------------------------------------------
# One process (no master-worker) with WORKERS threads. splice-request and
# splice-response engage in HTTP mode for bodies past the head (content-length
# or chunked); splice-auto would never engage in HTTP mode.
if $want_haproxy; then
	dir=$WORK/haproxy
	mkdir -p "$dir"
	read -r HA_PORT HA_STATS < <("$BIN/loadgen" -free-ports 2 | paste -sd' ')
	cat >"$dir/haproxy.cfg" <<HAPROXY
# generated by bench/run.sh
global
    nbthread $WORKERS
    maxconn 4096
    tune.pipesize 1048576
    stats socket ipv4@127.0.0.1:$HA_STATS level operator

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
    server sink $SINK_ADDR
HAPROXY
	"$HAPROXY" -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
	HA_PID=$!
	PIDS+=("$HA_PID")
	SERVICE_PIDS[haproxy]=$HA_PID SERVICE_PORT[haproxy]=$HA_PORT SERVICE_LOG[haproxy]=$dir/haproxy.log
	SERVICES+=(haproxy)
fi

# --- haproxy-tls ---------------------------------------------------------------
# A second process, as the plain one: the same threads, reuse and timeouts,
# terminating TLS with the bench certificate, TLS 1.3 and TLS_CIPHER only,
# X25519. No splice options: HAProxy cannot splice from or to a TLS socket.
if $want_haproxy_tls; then
	dir=$WORK/haproxy-tls
	mkdir -p "$dir"
	port=$(free_port)
	cat >"$dir/haproxy.cfg" <<HAPROXY
# generated by bench/run.sh
global
    nbthread $WORKERS
    maxconn 4096

defaults
    mode http
    http-reuse always
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 60s

frontend bench
    bind 127.0.0.1:$port ssl crt $TLS_DIR/haproxy.pem ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3 ciphersuites $TLS_CIPHER curves X25519
    default_backend sink

backend sink
    server sink $SINK_ADDR
HAPROXY
	"$HAPROXY" -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	SERVICE_PIDS[haproxy-tls]=$pid SERVICE_PORT[haproxy-tls]=$port SERVICE_LOG[haproxy-tls]=$dir/haproxy.log
	SERVICES+=(haproxy-tls)
fi

# --- relay ---------------------------------------------------------------------
if $want_relay; then
	port=$(free_port)
	"$BIN/relay" -listen "127.0.0.1:$port" -upstream "$SINK_ADDR" >/dev/null 2>"$WORK/relay.log" &
	pid=$!
	PIDS+=("$pid")
	SERVICE_PIDS[relay]=$pid SERVICE_PORT[relay]=$port SERVICE_LOG[relay]=$WORK/relay.log
	SERVICES+=(relay)
fi

# --- ready ---------------------------------------------------------------------
for name in "${SERVICES[@]}"; do
	pid=${SERVICE_PIDS[$name]} port=${SERVICE_PORT[$name]}
	scheme=http
	[[ $name == *-tls ]] && scheme=https
	case $name in
	mizuchi | mizuchi-tls)
		admin=${ADMIN_PORT:-}
		[[ $name == mizuchi-tls ]] && admin=$MZT_ADMIN
		ready=false
		for _ in $(seq 150); do
			if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$admin/readyz" 2>/dev/null; then
				ready=true
				break
			fi
			alive "$pid" || break
			sleep 0.1
		done
		$ready || { tail -n 30 "${SERVICE_LOG[$name]}" >&2; die "$name did not become ready on 127.0.0.1:$admin/readyz"; }
		# The S3 listener itself answers (over TLS, with the bench certificate).
		wait_http "$port" "$pid" "${SERVICE_LOG[$name]}" "$scheme" || die "$name does not answer $scheme on 127.0.0.1:$port"
		log "$name pid $pid on $scheme://127.0.0.1:$port (admin $admin)"
		;;
	nginx*)
		wait_http "$port" "$pid" "${SERVICE_LOG[$name]}" "$scheme" || die "$name did not start"
		workers=()
		for _ in $(seq 50); do
			mapfile -t workers < <(children "$pid")
			((${#workers[@]} >= WORKERS)) && break
			sleep 0.1
		done
		((${#workers[@]} == WORKERS)) || die "$name: expected $WORKERS workers, found ${#workers[@]}"
		SERVICE_PIDS[$name]="$pid ${workers[*]}"
		log "$name master $pid, workers ${workers[*]} on $scheme://127.0.0.1:$port"
		;;
	*)
		# haproxy and the relay: the sink behind them answers.
		wait_http "$port" "$pid" "${SERVICE_LOG[$name]}" "$scheme" || die "$name did not start"
		log "$name pid $pid on $scheme://127.0.0.1:$port"
		;;
	esac
done

service_of() { # target -> the started process group serving it
	case $1 in
	mizuchi-tls) echo mizuchi-tls ;;
	mizuchi*) echo mizuchi ;;
	haproxy-signed) echo haproxy ;;
	*) echo "$1" ;;
	esac
}
url_of() {
	case $1 in
	direct) echo "http://$SINK_ADDR/sink/bench" ;;
	mizuchi) echo "http://127.0.0.1:$MZ_PORT/uploads/bench" ;;
	mizuchi-sigv4) echo "http://127.0.0.1:$MZ_PORT/sigv4/bench" ;;
	mizuchi-jwt) echo "http://127.0.0.1:$MZ_PORT/jwt/bench" ;;
	# The example policy lets a subject write keys under "<subject>/" only.
	mizuchi-opa) echo "http://127.0.0.1:$MZ_PORT/opa/$SIGV4_AK/bench" ;;
	mizuchi-opa-nocache) echo "http://127.0.0.1:$MZ_PORT/opanc/$SIGV4_AK/bench" ;;
	mizuchi-fga) echo "http://127.0.0.1:$MZ_PORT/fga/$SIGV4_AK/bench" ;;
	mizuchi-fga-nocache) echo "http://127.0.0.1:$MZ_PORT/fganc/$SIGV4_AK/bench" ;;
	mizuchi-tls) echo "https://127.0.0.1:${SERVICE_PORT[$1]}/uploads/bench" ;;
	*-tls) echo "https://127.0.0.1:${SERVICE_PORT[$1]}/sink/bench" ;;
	*) echo "http://127.0.0.1:${SERVICE_PORT[$(service_of "$1")]}/sink/bench" ;;
	esac
}
# tls_of prints loadgen's TLS flags for a target: the HTTPS ones verify the
# bench certificate and require TLS_CIPHER on every connection.
tls_of() {
	case $1 in
	*-tls) echo "-cacert $TLS_CERT -tls-cipher $TLS_CIPHER" ;;
	esac
}
pids_of() {
	local p out=""
	if [[ $1 != direct ]]; then
		for p in ${SERVICE_PIDS[$(service_of "$1")]}; do
			out+=" -pid proxy=$p"
		done
	fi
	# The authorization server is measured apart, like the sink.
	[[ $(authz_of "$1") == fga ]] && out+=" -pid authz=$FGA_PID"
	echo "$out -pid sink=$SINK_PID"
}
# tags_of prints a target's report tags besides workload, target and round.
tags_of() {
	local a
	a=$(authz_of "$1")
	[[ -z $a ]] || echo "-tag authz=$a"
}
# keys_of prints loadgen's key flags: the cached authorization targets cycle
# over 16 keys per connection set, so their decisions repeat and hit the
# decision cache (keyed by the whole decision input, key included); every
# other target PUTs a fresh key per request.
keys_of() {
	case $1 in
	mizuchi-opa | mizuchi-fga) echo "-keys 16" ;;
	esac
}
# auth_of prints loadgen's auth flags for a target (no spaces in the values).
# haproxy-signed gets mizuchi-sigv4's load: the generator signs every request
# (its CPU shares the cores with the proxy) and HAProxy forwards the signed
# requests without checking them, so mizuchi-sigv4 can be compared with an
# anchor under the very same load.
auth_of() {
	case $1 in
	mizuchi-sigv4 | mizuchi-opa* | mizuchi-fga* | haproxy-signed) echo "-auth sigv4 -region $SIGV4_REGION -access-key $SIGV4_AK -secret-key $SIGV4_SK" ;;
	mizuchi-jwt) echo "-auth jwt -jwt-secret $JWT_SECRET" ;;
	*) echo "-auth none" ;;
	esac
}
check_alive() {
	local name p
	alive "$SINK_PID" || { tail -n 30 "$WORK/sink.log" >&2; die "sink died"; }
	[[ -z $FGA_PID ]] || alive "$FGA_PID" || { tail -n 30 "$WORK/openfga.log" >&2; die "openfga died"; }
	for name in "${SERVICES[@]}"; do
		for p in ${SERVICE_PIDS[$name]}; do
			if ! alive "$p"; then
				tail -n 30 "${SERVICE_LOG[$name]}" >&2
				die "$name (pid $p) died"
			fi
		done
	done
}

# --- budget --------------------------------------------------------------------
# Per run: DURATION plus about 1 s for loadgen's start, the requests in flight
# at the deadline (a 64 MiB one takes from 0.1 s on a quiet machine to over a
# second on a busy one) and the /proc reads. Per workload and target: about
# 0.7 s of warm-up. The rounds may overrun the budget by a tenth ("about 4
# minutes") before fewer are run: with all twelve targets (20 runs a round, as
# the authorization targets skip the large workload), three rounds of the
# shortest runs (2 s) come to about 4 minutes.
ntargets=$(wc -w <<<"$TARGETS")
nruns=0 # per round
for wl in "${WORKLOADS[@]}"; do
	read -r name _ <<<"$wl"
	nruns=$((nruns + $(targets_for "$name" | wc -w)))
done
slack_ms=1000
limit=$((BUDGET * 11 / 10)) # seconds
warmup_ms=$((nruns * 700))
left_ms=$(((limit - SECONDS - 5) * 1000 - warmup_ms))
if [[ -z $DURATION ]]; then
	# As long as fits ROUNDS rounds into what the builds left, 2 s to 10 s:
	# 10 s for two targets, 2 s for all twelve.
	d=$(((BUDGET - SECONDS - 5) * 1000 - warmup_ms))
	d=$((d / (ROUNDS * nruns) - slack_ms))
	d=$((d > 10000 ? 10000 : d < 2000 ? 2000 : d))
	DURATION=$((d / 1000))
fi
per_round_ms=$((nruns * (DURATION * 1000 + slack_ms)))
fit=$((left_ms / per_round_ms))
if ((fit < ROUNDS)); then
	fit=$((fit < 1 ? 1 : fit))
	note "ran $fit round(s) instead of $ROUNDS: ${BUDGET}s budget, ${SECONDS}s spent on builds and start-up, about $((per_round_ms / 1000))s per round of $ntargets targets at ${DURATION}s per run"
	ROUNDS=$fit
fi
log "$ROUNDS round(s) x ${#WORKLOADS[@]} workloads x targets [$TARGETS] ($nruns runs a round; authorization targets in the small workload only), ${DURATION}s each; proxies with $WORKERS workers/threads"

# --- warm-up -------------------------------------------------------------------
# Short and unrecorded: fills pools and connection caches. A target that gets
# no 2xx answer (e.g. Mizuchi rejects the auth, or a policy denies) stops the
# script: its rows would be meaningless.
# Every loadgen run PUTs <url>/<conn>-<seq> numbered alike, so the warm-up and
# each round get their own folder (<url>/warmup, <url>/r<round>): no run
# repeats another's keys, and the decision caches of the authorization routes
# (keyed by the whole decision input, the object key included) get no hits
# left over from an earlier run.
# The small workload runs for 0.3 s on all its connections (filling upstream
# connection pools); a large one sends a single body, which is enough to
# check the path and fill pipe pools without spending seconds. On a loaded
# machine a 0.3 s run may start no request at all, so a run without 2xx is
# tried twice more before giving up.
for wl in "${WORKLOADS[@]}"; do
	read -r name size conns <<<"$wl"
	wconns=$conns
	[[ $name == large ]] && wconns=1
	for t in $(targets_for "$name"); do
		for try in 1 2 3; do
			# shellcheck disable=SC2046
			"$BIN/loadgen" -url "$(url_of "$t")/warmup" $(auth_of "$t") $(keys_of "$t") $(tls_of "$t") -size "$size" -conns "$wconns" -duration 300ms -quiet \
				-json "$WORK/warmup.json" $(pids_of "$t") >/dev/null
			grep -q '"requests": 0,' "$WORK/warmup.json" || break
			if ((try == 3)); then
				grep -A3 '"error_examples"' "$WORK/warmup.json" >&2 || true
				die "warm-up of $name $t got no 2xx answer in 3 tries"
			fi
		done
	done
done
log "warmed up"

# --- runs ----------------------------------------------------------------------
# Round after round, each workload's targets back to back, so that every round
# compares the targets under the same machine load.
done_rounds=0
for round in $(seq "$ROUNDS"); do
	t0=$SECONDS
	idx=0
	for wl in "${WORKLOADS[@]}"; do
		read -r name size conns <<<"$wl"
		idx=$((idx + 1))
		ti=0
		for t in $(targets_for "$name"); do
			ti=$((ti + 1))
			check_alive
			# Named so that the glob lists workloads in order and a round's
			# targets in BENCH_TARGETS order, which is the order of the rows.
			out="$WORK/runs/$idx-$name-r$(printf %03d "$round")-$(printf %02d "$ti")-$t.json"
			# shellcheck disable=SC2046
			"$BIN/loadgen" -url "$(url_of "$t")/r$round" $(auth_of "$t") $(keys_of "$t") $(tls_of "$t") -size "$size" -conns "$conns" -duration "${DURATION}s" \
				$(pids_of "$t") -tag "workload=$name-$size-c$conns" -tag "target=$t" -tag "round=$round" $(tags_of "$t") \
				-json "$out" >"$WORK/last.txt"
			log "$name $t round $round: $(sed -n 's/^throughput *//p' "$WORK/last.txt"), $(sed -n 's/^requests *//p' "$WORK/last.txt")"
		done
	done
	done_rounds=$round
	# Stop early if the machine is slower than the estimate and another
	# round would overrun the budget.
	if ((round < ROUNDS && SECONDS + (SECONDS - t0) > limit)); then
		note "stopped after $round of $ROUNDS rounds: a round took $((SECONDS - t0))s and another would overrun the ${BUDGET}s budget by more than a tenth"
		break
	fi
done
check_alive

# How the authorization routes decided, from Mizuchi's metrics (warm-up
# included): engine calls and decision-cache hits. A cached route whose cache
# did not answer is measuring misses, and the note says so.
if $want_opa || $want_fga; then
	metrics=$(curl -fsS --max-time 2 "http://127.0.0.1:$ADMIN_PORT/metrics" 2>/dev/null || true)
	# sum_series NAME ROUTE: the sum of NAME's series of route ROUTE.
	sum_series() {
		awk -v n="$1{" -v l="route=\"$2\"" 'index($0, n) == 1 && index($0, l) { s += $NF } END { printf "%d", s }' <<<"$metrics"
	}
	missed=()
	for t in $TARGETS; do
		case $t in
		mizuchi-opa) r=opa ;;
		mizuchi-opa-nocache) r=opanc ;;
		mizuchi-fga) r=fga ;;
		mizuchi-fga-nocache) r=fganc ;;
		*) continue ;;
		esac
		calls=$(sum_series mizuchi_authz_decisions_total "$r")
		hits=$(sum_series mizuchi_authz_cache_hits_total "$r")
		log "$t (route $r): $calls engine calls, $hits decision-cache hits"
		[[ $r == *nc ]] || ((hits * 100 >= calls + hits)) || missed+=("$t")
	done
	if ((${#missed[@]} > 0)); then
		note "${missed[*]}: under 1% decision-cache hits: the cache is keyed by the whole decision input, the object key included, and loadgen PUTs a fresh key every request, so these rows measure cache misses (lookup, engine call, insert), not hits"
	fi
fi
((done_rounds >= 3)) || NOTES+=("fewer than 3 rounds: the spreads are not meaningful; raise BENCH_BUDGET")

if $want_haproxy; then
	# PipesUsed/PipesFree above 0 show that HAProxy spliced.
	pipes=$(exec 3<>"/dev/tcp/127.0.0.1/$HA_STATS" && echo "show info" >&3 && grep -E '^Pipes(Used|Free):' <&3 | paste -sd' ' || true)
	log "haproxy ${pipes:-pipes: unknown (stats socket did not answer)}"
fi

# --- report --------------------------------------------------------------------
NOTE=""
for n in "${NOTES[@]}"; do
	NOTE+="${NOTE:+; }$n"
done
mkdir -p "$OUT"
result="$OUT/$(date -u +%Y%m%dT%H%M%SZ).json"
echo
"$BIN/report" -out "$result" -note "$NOTE" "$WORK"/runs/*.json
echo
[[ -z $NOTE ]] || echo "note: $NOTE"
echo "host: $(nproc) cpus, $(uname -r); proxies: $WORKERS workers/threads; results: ${result#"$ROOT"/}; took ${SECONDS}s"
