#!/usr/bin/env bash
# Cairn against etcd, side by side, on this machine, in one run.
#
#   Benchmarks/compare/run.sh            # as root on Debian bookworm (apt-get installs what is missing)
#
# What it does, in order, each step bounded in time:
#   1. installs what is missing: etcd-server, etcd-client, fio, golang-go, golang-etcd-server-dev,
#      openssl, python3 (apt-get; needs root);
#   2. fetches Debian's `etcd` source package through a private apt configuration (a deb-src line in
#      a temporary directory: the machine's apt configuration is not touched) and builds etcd's own
#      load generator, tools/benchmark, offline in GOPATH mode against /usr/share/gocode;
#   3. builds `cairn` in release mode;
#   4. measures the disk's raw fdatasync rate with fio (the floor of any durable write), and the
#      floor of a replicated single-client write with Benchmarks/floor (a C relay of the same
#      shape: client, leader, two followers, fdatasync on all three; TLS 1.3 and plain TCP);
#   5. starts a three-node Cairn cluster (mutual TLS, fsync on), runs every workload with
#      `cairn bench`, stops it; starts a three-node etcd cluster with mutual TLS on client and peer
#      URLs, runs the same workloads with `benchmark`, stops it; does the same for a plain-HTTP
#      etcd cluster, for reference. One cluster runs at a time, all data directories on one disk;
#   5c. starts a fresh Cairn cluster and a fresh etcd (TLS) cluster side by side and runs the
#      single-client put on each in turn, PUT1_ROUNDS times: the machine's speed drifts by more
#      than a tenth within minutes, and rounds taken in turn give a ratio that drift cannot bias;
#   6. writes Benchmarks/results/latest.{md,json} and a timestamped copy of each.
#
# Only 127.0.0.0/8 is used. Every process it starts is recorded by PID and stopped on exit (also on
# Ctrl-C); its scratch directory is removed (COMPARE_KEEP=1 keeps it).
#
# Environment (defaults in brackets):
#   COMPARE_TMPDIR      where the scratch directory (data dirs, fio file, logs) goes [/var/tmp];
#                       must be a real disk, not tmpfs
#   CAIRN               a cairn binary to use instead of building one
#   SWIFT_BUILD_ARGS    extra `swift build` arguments, e.g. "--scratch-path /path/.build-release"
#   ETCD_BENCHMARK      an etcd `benchmark` binary to use instead of building one
#   COMPARE_SKIP_INSTALL=1  never call apt-get install (fail if something is missing)
#   COMPARE_RESULTS     where the report goes [Benchmarks/results]
#   COMPARE_SYSTEMS     which clusters to measure ["cairn etcd-tls etcd-plain"]; the others' columns
#                       stay empty (for trying the script out, not for publishing)
#   CLIENTS [100] CONNS [10] VALUE_SIZE [256] KEY_SPACE [10000]
#   PUT_TOTAL [100000]  PUT1_TOTAL [5000]  GET_TOTAL [100000]  WARMUP_TOTAL [5000]
#   WATCHERS [10000]  WATCH_RATE [10] (writes/s)  WATCH_TOTAL [100] (writes)
#   PHASE_TIMEOUT [150] seconds per workload run;  FIO_SECONDS [10];  FLOOR_RUNS [3] (0: skip)
#   PUT1_ROUNDS [5]     rounds of the single-client put run alternately on Cairn and etcd (TLS),
#                       both clusters up, after the main runs (0: skip) — see "Alternating rounds"
#   CAIRN_PORT_BASE [28300]  ETCD_CLIENT_PORT [23790]  ETCD_PEER_PORT [23800]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
results_dir="${COMPARE_RESULTS:-$root/Benchmarks/results}"

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
fi
if [[ $# -gt 0 ]]; then
    echo "run.sh: no arguments expected (configure with environment variables; see --help)" >&2
    exit 2
fi

clients="${CLIENTS:-100}"
conns="${CONNS:-10}"
value_size="${VALUE_SIZE:-256}"
key_space="${KEY_SPACE:-10000}"
put_total="${PUT_TOTAL:-100000}"
put1_total="${PUT1_TOTAL:-5000}"
get_total="${GET_TOTAL:-100000}"
warmup_total="${WARMUP_TOTAL:-5000}"
watchers="${WATCHERS:-10000}"
watch_rate="${WATCH_RATE:-10}"
watch_total="${WATCH_TOTAL:-100}"
phase_timeout="${PHASE_TIMEOUT:-150}"
fio_seconds="${FIO_SECONDS:-10}"
floor_runs="${FLOOR_RUNS:-3}"
put1_rounds="${PUT1_ROUNDS:-5}"
[[ "$floor_runs" =~ ^[0-9]+$ ]] || { echo "run.sh: FLOOR_RUNS must be a whole number, not '$floor_runs'" >&2; exit 2; }
cairn_port_base="${CAIRN_PORT_BASE:-28300}"
etcd_client_port="${ETCD_CLIENT_PORT:-23790}"
systems=" ${COMPARE_SYSTEMS:-cairn etcd-tls etcd-plain} "
wants() { [[ "$systems" == *" $1 "* ]]; }
etcd_peer_port="${ETCD_PEER_PORT:-23800}"

say() { echo "compare: $*" >&2; }
die() { echo "compare: error: $*" >&2; exit 1; }

started_at="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

# ---------------------------------------------------------------------------------------------
# Scratch directory and cleanup

scratch_parent="${COMPARE_TMPDIR:-/var/tmp}"
mkdir -p "$scratch_parent"
work="$(mktemp -d "$scratch_parent/cairn-compare.XXXXXX")"
mkdir -p "$work/out" "$work/logs"

pids=()          # every long-running process this script started

stop_pid() {     # SIGTERM, up to 15 s, then SIGKILL; only PIDs this script recorded
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 75; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "PID $pid did not stop within 15 s of SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

stop_all() {
    local pid
    for pid in "${pids[@]}"; do stop_pid "$pid"; done
    pids=()
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_all
    if [[ "${COMPARE_KEEP:-0}" == 1 ]]; then
        say "kept $work"
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

fs_type="$(df -T "$work" | awk 'NR == 2 { print $2 }')"
[[ "$fs_type" == tmpfs || "$fs_type" == ramfs ]] && die "$work is on $fs_type: fsync would cost nothing there; set COMPARE_TMPDIR to a directory on a real disk"

# ---------------------------------------------------------------------------------------------
# 1. What the run needs

need_packages=()
command -v etcd >/dev/null 2>&1 || need_packages+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need_packages+=(etcd-client)
command -v fio >/dev/null 2>&1 || need_packages+=(fio)
if [[ "$floor_runs" -gt 0 ]]; then  # Benchmarks/floor is C with OpenSSL
    command -v cc >/dev/null 2>&1 || need_packages+=(gcc)
    [[ -e /usr/include/openssl/ssl.h ]] || need_packages+=(libssl-dev)
fi
command -v openssl >/dev/null 2>&1 || need_packages+=(openssl)
command -v python3 >/dev/null 2>&1 || need_packages+=(python3)
if [[ -z "${ETCD_BENCHMARK:-}" ]]; then
    command -v go >/dev/null 2>&1 || need_packages+=(golang-go)
    [[ -d /usr/share/gocode/src/go.etcd.io/etcd/clientv3 ]] || need_packages+=(golang-etcd-server-dev)
fi
if [[ ${#need_packages[@]} -gt 0 ]]; then
    [[ "${COMPARE_SKIP_INSTALL:-0}" == 1 ]] && die "missing: ${need_packages[*]} (and COMPARE_SKIP_INSTALL=1)"
    [[ "$(id -u)" == 0 ]] || die "missing: ${need_packages[*]}; run as root so apt-get can install them"
    say "installing ${need_packages[*]} (apt-get)"
    timeout 300 apt-get update -qq || say "apt-get update failed; trying the install with the lists already present"
    DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >"$work/logs/apt-install.log" 2>&1 \
        || { tail -20 "$work/logs/apt-install.log" >&2; die "apt-get install failed"; }
fi
# Debian starts the packaged etcd service on machines that run systemd. It listens on
# 127.0.0.1:2379/2380, which this script does not use; it is not ours to stop, but it costs CPU.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
    say "WARNING: the system's etcd service is running (not started by this script); it shares the CPU with the benchmark. 'systemctl stop etcd' before running gives cleaner numbers"
fi

# ---------------------------------------------------------------------------------------------
# 2. etcd's own load generator, from Debian's source package, built offline

etcd_benchmark=""
etcd_benchmark_note=""
build_etcd_benchmark() {
    local apt_dir="$work/apt" src="$work/etcd-src" gopath="$work/gopath" version mirror suite
    version="$(dpkg-query -W -f='${source:Version}' golang-etcd-server-dev 2>/dev/null || true)"
    [[ -n "$version" ]] || { say "golang-etcd-server-dev is not installed"; return 1; }
    suite="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
    mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d" "$src"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$apt_dir/sources.list"
    local apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
                    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
                    -o "Dir::Cache::Archives=$apt_dir/cache/archives" -o "APT::Sandbox::User=root")
    say "fetching Debian's etcd source $version (private apt configuration in $apt_dir)"
    timeout 300 apt-get -qq "${apt_opts[@]}" update >"$work/logs/apt-src.log" 2>&1 || { say "apt-get update (deb-src) failed"; return 1; }
    (cd "$src" && timeout 300 apt-get -qq "${apt_opts[@]}" source --download-only "etcd=$version" >>"$work/logs/apt-src.log" 2>&1) \
        || { say "apt-get source etcd=$version failed"; return 1; }
    local orig
    orig="$(ls "$src"/etcd_*.orig.tar.* 2>/dev/null | head -1)"
    [[ -n "$orig" ]] || { say "no upstream tarball in the source package"; return 1; }
    tar -xf "$orig" -C "$src"
    local tree
    tree="$(find "$src" -mindepth 1 -maxdepth 1 -type d -name 'etcd-*' | head -1)"
    [[ -d "$tree/tools/benchmark" ]] || { say "tools/benchmark not found in the source"; return 1; }
    # tools/ is not in golang-etcd-server-dev (the package excludes it); everything it imports is.
    mkdir -p "$gopath/src/go.etcd.io/etcd/tools"
    cp -r "$tree/tools/benchmark" "$gopath/src/go.etcd.io/etcd/tools/"
    say "building tools/benchmark (GOPATH mode, offline)"
    (cd "$gopath/src/go.etcd.io/etcd/tools/benchmark" &&
        env GOPATH="$gopath:/usr/share/gocode" GO111MODULE=off GOFLAGS= GOPROXY=off GOCACHE="$gopath/cache" \
            timeout 900 go build -o "$work/benchmark" . >"$work/logs/go-build.log" 2>&1) \
        || { tail -20 "$work/logs/go-build.log" >&2; say "go build of tools/benchmark failed"; return 1; }
    etcd_benchmark="$work/benchmark"
    etcd_benchmark_note="etcd tools/benchmark from Debian source etcd $version, built with $(go version | awk '{print $3}') in GOPATH mode against /usr/share/gocode"
}
if ! wants etcd-tls && ! wants etcd-plain; then
    say "COMPARE_SYSTEMS leaves etcd out"
elif [[ -n "${ETCD_BENCHMARK:-}" ]]; then
    [[ -x "$ETCD_BENCHMARK" ]] || die "ETCD_BENCHMARK=$ETCD_BENCHMARK is not executable"
    etcd_benchmark="$ETCD_BENCHMARK"
    etcd_benchmark_note="etcd benchmark binary given as ETCD_BENCHMARK=$ETCD_BENCHMARK"
elif ! build_etcd_benchmark; then
    etcd_benchmark=""
    etcd_benchmark_note="COULD NOT BUILD etcd's tools/benchmark (see above): no etcd workload numbers; only 'etcdctl check perf' as a rough reference"
    say "WARNING: $etcd_benchmark_note"
fi

# ---------------------------------------------------------------------------------------------
# 3. Cairn, release build

if ! wants cairn; then
    say "COMPARE_SYSTEMS leaves Cairn out"
elif [[ -z "${CAIRN:-}" ]]; then
    say "building cairn (swift build -c release --product cairn ${SWIFT_BUILD_ARGS:-})"
    # shellcheck disable=SC2086 # SWIFT_BUILD_ARGS is a list of words on purpose
    (cd "$root" && timeout 3600 swift build -c release --product cairn ${SWIFT_BUILD_ARGS:-} >"$work/logs/swift-build.log" 2>&1) \
        || { tail -30 "$work/logs/swift-build.log" >&2; die "swift build failed"; }
    # shellcheck disable=SC2086
    CAIRN="$(cd "$root" && swift build -c release --show-bin-path ${SWIFT_BUILD_ARGS:-})/cairn"
fi
cairn_has_watch=0
wants cairn && { [[ -x "$CAIRN" ]] || die "no cairn binary at $CAIRN"; }
if wants cairn && "$CAIRN" bench --help 2>&1 | grep -q -- '--watchers'; then cairn_has_watch=1; fi

# ---------------------------------------------------------------------------------------------
# 4. The disk's floor

say "fio: ${fio_seconds}s of 4 KiB writes, fdatasync after each, in $work"
mkdir -p "$work/fio"
timeout $((fio_seconds + 60)) fio --name=fsync --rw=write --bs=4k --size=64m --fdatasync=1 --ioengine=sync \
    --directory="$work/fio" --runtime="$fio_seconds" --time_based --output-format=json >"$work/out/fio.json" 2>"$work/logs/fio.err" \
    || say "WARNING: fio failed (see the results)"
rm -rf "$work/fio"

if [[ "$floor_runs" -gt 0 ]]; then
    say "floor: the relay of Benchmarks/floor, $floor_runs runs of each kind, in $work"
    FLOOR_DIR="$work/floor" timeout $((floor_runs * 4 * 130)) bash "$root/Benchmarks/floor/run.sh" "$floor_runs" \
        >"$work/out/floor.txt" 2>"$work/logs/floor.err" || say "WARNING: the floor run failed (see the results)"
    rm -rf "$work/floor"
fi

# ---------------------------------------------------------------------------------------------
# Helpers

# run_phase SYSTEM WORKLOAD COMMAND...: runs one measured command under `timeout`, keeping its
# stdout, stderr, exit status, wall time and command line for the report.
# cpu_ticks PID...: the CPU time (clock ticks, user + system) the live processes among PID... used so far.
cpu_ticks() {
    local p v total=0
    for p in "$@"; do
        v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || continue
        total=$((total + v))
    done
    echo "$total"
}

# wait_quiet: waits until the running cluster's servers (the live entries of `pids`) used under a
# tenth of a core over one second, at most QUIET_MAX seconds (default 30); prints how long it
# waited. Each measured run then starts from a quiet cluster, not from the tail of the run before
# it (a follower still catching up, a snapshot or a compaction still being written) — the same
# rule for Cairn and for etcd.
wait_quiet() {
    local start deadline a b hz
    hz=$(getconf CLK_TCK)
    start=$(date +%s.%N)
    deadline=$(( $(date +%s) + ${QUIET_MAX:-30} ))
    while (( $(date +%s) < deadline )); do
        a=$(cpu_ticks "${pids[@]}")
        sleep 1
        b=$(cpu_ticks "${pids[@]}")
        (( (b - a) * 10 <= hz )) && break
    done
    echo "$start $(date +%s.%N)" | awk '{ printf "%.1f\n", $2 - $1 }'
}

run_phase() {
    local system=$1 workload=$2; shift 2
    local base="$work/out/$system-$workload" t0 t1 rc=0
    local arg line=""
    for arg in "$@"; do
        if [[ "$arg" =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then line+="$arg "; else line+="$(printf '%q' "$arg") "; fi
    done
    echo "${line% }" | sed "s#$work#\$WORK#g" >"$base.cmd"
    wait_quiet >"$base.quiet"
    cut -d' ' -f1-3 /proc/loadavg >"$base.load"
    say "$system $workload: $(cat "$base.cmd")"
    t0=$(date +%s.%N)
    timeout --kill-after=10 "$phase_timeout" "$@" >"$base.out" 2>"$base.err" || rc=$?
    t1=$(date +%s.%N)
    echo "$rc" >"$base.rc"
    echo "$t0 $t1" | awk '{ printf "%.2f\n", $2 - $1 }' >"$base.wall"
    if [[ $rc -ne 0 ]]; then
        say "  exit status $rc$([[ $rc == 124 ]] && echo " (timed out after ${phase_timeout}s)")"
        tail -5 "$base.err" >&2 || true
    fi
    return 0
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND (which must bound itself) until it succeeds.
wait_until() {
    local seconds=$1 what=$2 deadline; shift 2
    deadline=$(( $(date +%s) + seconds ))
    while (( $(date +%s) < deadline )); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    say "$what: not ready after ${seconds}s"
    return 1
}

port_free() { ! ss -Hltn "sport = :$2" 2>/dev/null | awk '{print $4}' | grep -q "^$1:$2\$"; }

# ---------------------------------------------------------------------------------------------
# 5a. Cairn

cairn_certs="$work/cairn-certs"
mkdir -p "$cairn_certs"
make_cairn_certs() {
    "$CAIRN" tls ca create --dir "$cairn_certs"
    for i in 1 2 3; do
        "$CAIRN" tls cert create --server --dc dc1 --node "n$i" --additional-ipaddress "127.0.0.$i" --dir "$cairn_certs"
    done
    "$CAIRN" tls cert create --client --dc dc1 --dir "$cairn_certs"
}
if wants cairn; then
    make_cairn_certs >"$work/logs/cairn-certs.log" 2>&1 || { cat "$work/logs/cairn-certs.log" >&2; die "cairn tls failed"; }
fi

cairn_peer() { echo "127.0.0.$1:$((cairn_port_base + 1))"; }
cairn_client_addr() { echo "127.0.0.$1:$((cairn_port_base + 2))"; }
cairn_addrs="$(cairn_client_addr 1),$(cairn_client_addr 2),$(cairn_client_addr 3)"
cairn_conn=(--addr "$cairn_addrs" --ca-file "$cairn_certs/cairn-agent-ca.pem"
            --client-cert "$cairn_certs/dc1-client-cairn-0.pem" --client-key "$cairn_certs/dc1-client-cairn-0-key.pem")

start_cairn() {
    local i j args
    for i in 1 2 3; do
        port_free "127.0.0.$i" $((cairn_port_base + 1)) && port_free "127.0.0.$i" $((cairn_port_base + 2)) \
            || die "127.0.0.$i:$((cairn_port_base + 1)) or :$((cairn_port_base + 2)) is in use; set CAIRN_PORT_BASE"
    done
    for i in 1 2 3; do
        args=(agent --server --bootstrap-expect 3 --node "n$i" --datacenter dc1 --data-dir "$work/cairn-data/n$i"
              --bind "$(cairn_peer "$i")" --client-addr "$(cairn_client_addr "$i")" --log-level warning
              --ca-file "$cairn_certs/cairn-agent-ca.pem"
              --cert-file "$cairn_certs/dc1-server-cairn-$((i - 1)).pem" --key-file "$cairn_certs/dc1-server-cairn-$((i - 1))-key.pem")
        for j in 1 2 3; do [[ $j != "$i" ]] && args+=(--retry-join "$(cairn_peer "$j")"); done
        mkdir -p "$work/cairn-data/n$i"
        "$CAIRN" "${args[@]}" >"$work/logs/cairn-n$i.log" 2>&1 &
        pids+=($!)
    done
    wait_until 90 "Cairn cluster" timeout 10 "$CAIRN" kv put "${cairn_conn[@]}" compare/ready 1
}

cairn_bench() {   # cairn_bench WORKLOAD-NAME FLAGS...
    local name=$1; shift
    run_phase cairn "$name" "$CAIRN" bench "${cairn_conn[@]}" --format json --warmup 0s --value-size "$value_size" "$@"
}

cairn_ok=0
if ! wants cairn; then
    :
elif say "starting the Cairn cluster (127.0.0.1-3, ports $((cairn_port_base + 1))/$((cairn_port_base + 2)))" && start_cairn; then
    cairn_ok=1
    cairn_bench warmup --workload put --clients "$clients" --connections "$conns" --key-space "$key_space" --requests "$warmup_total"
    cairn_bench put-100 --workload put --clients "$clients" --connections "$conns" --key-space "$key_space" --requests "$put_total"
    cairn_bench put-1 --workload put --clients 1 --connections 1 --key-space "$key_space" --requests "$put1_total"
    cairn_bench get-100 --workload get --clients "$clients" --connections "$conns" --key-space 1 --requests "$get_total"
    if [[ $cairn_has_watch == 1 ]]; then
        cairn_bench watch --workload watch --watchers "$watchers" --clients 1 --connections "$conns" --key-space 1 \
            --rate "$watch_rate" --requests "$watch_total"
    else
        say "TODO: 'cairn bench --help' shows no --watchers: the watch row stays empty"
    fi
else
    say "WARNING: the Cairn cluster did not come up; logs:"
    tail -n 5 "$work"/logs/cairn-n*.log >&2 || true
fi
stop_all

# ---------------------------------------------------------------------------------------------
# 5b. etcd, with mutual TLS and plain

etcd_certs="$work/etcd-certs"
make_etcd_certs() {
    local d=$etcd_certs i
    mkdir -p "$d"
    openssl ecparam -name prime256v1 -genkey -noout -out "$d/ca-key.pem"
    openssl req -x509 -new -key "$d/ca-key.pem" -sha256 -days 7 -subj "/CN=cairn-compare etcd CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$d/ca.pem"
    for i in 1 2 3; do
        openssl ecparam -name prime256v1 -genkey -noout -out "$d/e$i-key.pem"
        openssl req -new -key "$d/e$i-key.pem" -subj "/CN=e$i" -out "$d/e$i.csr"
        printf 'subjectAltName=IP:127.0.0.1%s,IP:127.0.0.2%s,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n' "$i" "$i" >"$d/e$i.ext"
        openssl x509 -req -in "$d/e$i.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial -days 7 -sha256 \
            -extfile "$d/e$i.ext" -out "$d/e$i.pem"
    done
    openssl ecparam -name prime256v1 -genkey -noout -out "$d/client-key.pem"
    openssl req -new -key "$d/client-key.pem" -subj "/CN=bench" -out "$d/client.csr"
    printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' >"$d/client.ext"
    openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial -days 7 -sha256 \
        -extfile "$d/client.ext" -out "$d/client.pem"
}
make_etcd_certs >"$work/logs/etcd-certs.log" 2>&1 || { cat "$work/logs/etcd-certs.log" >&2; die "openssl failed"; }

# etcd_ip KIND N: TLS members on 127.0.0.11-13, plain ones on 127.0.0.21-23.
etcd_ip() { if [[ $1 == tls ]]; then echo "127.0.0.1$2"; else echo "127.0.0.2$2"; fi; }
etcd_scheme() { if [[ $1 == tls ]]; then echo https; else echo http; fi; }
etcd_endpoints() { echo "$(etcd_ip "$1" 1):$etcd_client_port,$(etcd_ip "$1" 2):$etcd_client_port,$(etcd_ip "$1" 3):$etcd_client_port"; }
etcd_client_tls() { [[ $1 == tls ]] && echo "--cacert $etcd_certs/ca.pem --cert $etcd_certs/client.pem --key $etcd_certs/client-key.pem" || true; }

etcdctl_for() {   # etcdctl_for KIND ARGS...
    local kind=$1 s; shift
    s=$(etcd_scheme "$kind")
    # shellcheck disable=SC2046 # the TLS flags are words on purpose
    ETCDCTL_API=3 timeout 10 etcdctl --endpoints "$s://$(etcd_ip "$kind" 1):$etcd_client_port,$s://$(etcd_ip "$kind" 2):$etcd_client_port,$s://$(etcd_ip "$kind" 3):$etcd_client_port" \
        $(etcd_client_tls "$kind") --command-timeout 5s "$@"
}

start_etcd() {    # start_etcd KIND
    local kind=$1 s i ip cluster="" args
    s=$(etcd_scheme "$kind")
    for i in 1 2 3; do
        ip=$(etcd_ip "$kind" "$i")
        port_free "$ip" "$etcd_client_port" && port_free "$ip" "$etcd_peer_port" \
            || die "$ip:$etcd_client_port or :$etcd_peer_port is in use; set ETCD_CLIENT_PORT / ETCD_PEER_PORT"
        cluster+="${cluster:+,}e$i=$s://$ip:$etcd_peer_port"
    done
    for i in 1 2 3; do
        ip=$(etcd_ip "$kind" "$i")
        args=(--name "e$i" --data-dir "$work/etcd-$kind-data/e$i"
              --listen-client-urls "$s://$ip:$etcd_client_port" --advertise-client-urls "$s://$ip:$etcd_client_port"
              --listen-peer-urls "$s://$ip:$etcd_peer_port" --initial-advertise-peer-urls "$s://$ip:$etcd_peer_port"
              --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "cairn-compare-$kind-$$"
              --logger zap --log-level warn)
        if [[ $kind == tls ]]; then
            args+=(--client-cert-auth --trusted-ca-file "$etcd_certs/ca.pem"
                   --cert-file "$etcd_certs/e$i.pem" --key-file "$etcd_certs/e$i-key.pem"
                   --peer-client-cert-auth --peer-trusted-ca-file "$etcd_certs/ca.pem"
                   --peer-cert-file "$etcd_certs/e$i.pem" --peer-key-file "$etcd_certs/e$i-key.pem")
        fi
        mkdir -p "$work/etcd-$kind-data"
        env -u ETCDCTL_API etcd "${args[@]}" >"$work/logs/etcd-$kind-e$i.log" 2>&1 &
        pids+=($!)
    done
    wait_until 90 "etcd ($kind) cluster" etcdctl_for "$kind" put compare/ready 1
}

etcd_bench() {    # etcd_bench KIND WORKLOAD-NAME ARGS...
    local kind=$1 name=$2; shift 2
    # shellcheck disable=SC2046
    run_phase "etcd-$kind" "$name" "$etcd_benchmark" --endpoints "$(etcd_endpoints "$kind")" $(etcd_client_tls "$kind") \
        --dial-timeout 10s --precise "$@"
}

value_text="$(head -c $(( (value_size * 3 + 3) / 4 )) /dev/urandom | base64 -w0 | head -c "$value_size")"
for kind in tls plain; do
    wants "etcd-$kind" || continue
    say "starting the etcd cluster ($kind, $(etcd_endpoints "$kind"))"
    if ! start_etcd "$kind"; then
        say "WARNING: the etcd ($kind) cluster did not come up; logs:"
        tail -n 5 "$work"/logs/etcd-$kind-e*.log >&2 || true
        stop_all
        continue
    fi
    etcdctl_for "$kind" endpoint status -w table >"$work/out/etcd-$kind-status.txt" 2>&1 || true
    if [[ -n "$etcd_benchmark" ]]; then
        common=(--clients "$clients" --conns "$conns")
        etcd_bench "$kind" warmup --target-leader "${common[@]}" put --total "$warmup_total" --val-size "$value_size" --key-size 10 --key-space-size "$key_space"
        etcd_bench "$kind" put-100 --target-leader "${common[@]}" put --total "$put_total" --val-size "$value_size" --key-size 10 --key-space-size "$key_space"
        etcd_bench "$kind" put-1 --target-leader --clients 1 --conns 1 put --total "$put1_total" --val-size "$value_size" --key-size 10 --key-space-size "$key_space"
        etcdctl_for "$kind" put bench/0 "$value_text" >/dev/null
        etcd_bench "$kind" get-100 --target-leader "${common[@]}" range bench/0 --consistency l --total "$get_total"
        etcd_bench "$kind" watch --clients "$watchers" --conns "$conns" watch-latency --put-rate "$watch_rate" --total "$watch_total" \
            --val-size "$value_size" --key-size 10
    else
        # Fallback, loudly marked in the results: etcd's own built-in check, not the same workloads.
        run_phase "etcd-$kind" check-perf env ETCDCTL_API=3 etcdctl --endpoints "$(etcd_endpoints "$kind" | sed "s#\([^,]*\)#$(etcd_scheme "$kind")://\1#g")" \
            $(etcd_client_tls "$kind") check perf --load s
    fi
    stop_all
done

# ---------------------------------------------------------------------------------------------
# 5c. The single-client put in alternating rounds, both clusters up (each idle while the other
#     is measured; wait_quiet waits for both)

if (( put1_rounds > 0 )) && wants cairn && wants etcd-tls && [[ -n "$etcd_benchmark" ]]; then
    rm -rf "$work/cairn-data" "$work/etcd-tls-data"
    say "alternating single-client rounds: starting a fresh Cairn cluster and a fresh etcd (TLS) cluster"
    if start_cairn && start_etcd tls; then
        for ((round = 1; round <= put1_rounds; round++)); do
            cairn_bench "put1-round$round" --workload put --clients 1 --connections 1 --key-space "$key_space" --requests "$put1_total"
            etcd_bench tls "put1-round$round" --target-leader --clients 1 --conns 1 put --total "$put1_total" \
                --val-size "$value_size" --key-size 10 --key-space-size "$key_space"
        done
    else
        say "WARNING: a cluster did not come up for the alternating rounds; they are left out"
    fi
    stop_all
fi

# ---------------------------------------------------------------------------------------------
# 6. The report

mkdir -p "$results_dir"
machine_cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
machine_mem="$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)"
device="$(df "$work" | awk 'NR == 2 { print $1 }')"
git_rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git_dirty="$(git -C "$root" status --porcelain --untracked-files=no -- Sources Package.swift 2>/dev/null | head -1)"

export COMPARE_WORK="$work" COMPARE_RESULTS="$results_dir" COMPARE_STAMP="$stamp" COMPARE_STARTED="$started_at"
export COMPARE_FINISHED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
export COMPARE_NPROC="$(nproc)" COMPARE_CPU="${machine_cpu:-unknown}" COMPARE_MEM="$machine_mem"
export COMPARE_KERNEL="$(uname -r)" COMPARE_OS="$(. /etc/os-release && echo "$PRETTY_NAME")"
export COMPARE_FS="$fs_type" COMPARE_DEVICE="$device"
export COMPARE_ETCD_VERSION="$(etcd --version 2>/dev/null | awk -F': ' '/etcd Version/ { print $2 }')"
export COMPARE_GO_VERSION="$(go version 2>/dev/null | awk '{ print $3 }' || true)"
export COMPARE_FIO_VERSION="$(fio --version 2>/dev/null || true)"
export COMPARE_SWIFT_VERSION="$(swift --version 2>/dev/null | head -1 || true)"
export COMPARE_CAIRN_REV="$git_rev${git_dirty:+ (with uncommitted changes)}"
export COMPARE_BENCH_NOTE="$etcd_benchmark_note" COMPARE_CAIRN_OK="$cairn_ok" COMPARE_CAIRN_WATCH="$cairn_has_watch"
export COMPARE_PARAMS="clients=$clients conns=$conns value_size=$value_size key_space=$key_space put_total=$put_total put1_total=$put1_total get_total=$get_total warmup_total=$warmup_total watchers=$watchers watch_rate=$watch_rate watch_total=$watch_total phase_timeout=$phase_timeout fio_seconds=$fio_seconds floor_runs=$floor_runs put1_rounds=$put1_rounds"

python3 - <<'PY'
import json, os, re, glob

env = os.environ
work, out_dir = env["COMPARE_WORK"], env["COMPARE_RESULTS"]
params = dict(kv.split("=", 1) for kv in env["COMPARE_PARAMS"].split())

def read(path, default=""):
    try:
        return open(path).read()
    except OSError:
        return default

def phase(system, workload):
    base = f"{work}/out/{system}-{workload}"
    if not os.path.exists(base + ".rc"):
        return None
    rc = int(read(base + ".rc", "1").strip() or 1)
    p = {"command": read(base + ".cmd").strip(), "exitStatus": rc, "wallSeconds": float(read(base + ".wall", "0") or 0),
         "loadAverageBefore": read(base + ".load").strip(),
         "quietWaitSeconds": float(read(base + ".quiet", "0").strip() or 0)}
    text, err = read(base + ".out"), read(base + ".err")
    if rc == 124:
        p["failure"] = f"timed out after {params['phase_timeout']} s"
    elif rc != 0:
        p["failure"] = f"exit status {rc}: " + " | ".join(err.strip().splitlines()[-3:])[:300]
    if system == "cairn":
        line = next((l for l in reversed(text.splitlines()) if l.startswith("{")), None)
        if line:
            d = json.loads(line)
            p["raw"] = d
            p["opsPerSec"] = d.get("throughput")
            # For the watch workload `latencyMs` is the delivery delay (write acknowledged → event
            # received, every watcher); the writes' own latency is in watch.writeLatencyMs.
            lat = d.get("latencyMs", {})
            p["p50Ms"], p["p99Ms"] = lat.get("p50"), lat.get("p99")
            p["count"] = d.get("operations")
            errs = d.get("errors", {})
            p["errors"] = errs.get("total", 0) if isinstance(errs, dict) else errs
            w = d.get("watch")
            if isinstance(w, dict):
                p["errors"] += (w.get("missed") or 0) + (w.get("watcherErrors") or 0)
        elif rc == 0:
            p["failure"] = "no JSON summary in the output"
    else:
        m = re.search(r"Requests/sec:\s*([0-9.]+)", text)
        pct = {float(a): float(b) * 1000 for a, b in re.findall(r"^\s*([0-9.]+)% in ([0-9.]+) secs", text, re.M)}
        errs = sum(int(n) for n in re.findall(r"^\s*\[(\d+)\]\t", text.split("Error distribution:")[1], re.M)) if "Error distribution:" in text else 0
        if m:
            p["opsPerSec"] = float(m.group(1))
            p["p50Ms"], p["p99Ms"] = pct.get(50.0), pct.get(99.0)
            p["percentilesMs"] = {str(k): v for k, v in sorted(pct.items())}
            tot = re.search(r"Total:\s*([0-9.]+) secs", text)
            if tot:
                p["elapsedSeconds"] = float(tot.group(1))
        elif "check-perf" in base:
            lines = re.split(r"[\r\n]+", text)
            p["raw"] = "\n".join(l for l in lines if l.strip() and not re.match(r"^\s*\d+ / \d+\s", l))
        elif rc == 0:
            p["failure"] = "no summary in the output"
        p["errors"] = errs
        if "Error distribution:" in text:
            p["errorDistribution"] = text.split("Error distribution:")[1].strip()[:1000]
    return p

fio = {}
try:
    job = json.load(open(f"{work}/out/fio.json"))["jobs"][0]
    sync = job.get("sync", {}).get("lat_ns", {})
    fio = {"fdatasyncPerSec": round(job["write"]["iops"], 1),
           "meanSyncMicros": round(sync["mean"] / 1000, 1) if "mean" in sync else None,
           "p99SyncMicros": round(sync.get("percentile", {}).get("99.000000", 0) / 1000, 1) or None,
           "command": f"fio --name=fsync --rw=write --bs=4k --size=64m --fdatasync=1 --ioengine=sync --runtime={params['fio_seconds']} --time_based"}
except Exception as e:  # noqa: BLE001 - reported, not hidden
    fio = {"failure": f"fio produced no result ({e})"}

# The relay floor: median p50 of each kind over the runs.
floor = {}
if int(params["floor_runs"]) > 0:
    try:
        runs = {}
        for line in open(f"{work}/out/floor.txt"):
            m = re.match(r"tls=(\d) sync=(\d) requests=\d+ p50 ([\d.]+) ms", line)
            if m:
                runs.setdefault(("tls" if m[1] == "1" else "plain") + ("Sync" if m[2] == "1" else "NoSync"), []).append(float(m[3]))
        if not runs:
            raise ValueError("no result lines")
        floor = {k + "P50Ms": sorted(v)[len(v) // 2] for k, v in runs.items()}
        floor["runs"] = int(params["floor_runs"])
        floor["command"] = f"Benchmarks/floor/run.sh {params['floor_runs']}"
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        floor = {"failure": f"the floor run produced no result ({e})"}

c, w = params["clients"], params["conns"]
workloads = [
    ("put-100", f"put, {c} clients / {w} connections", "throughput, p99",
     f"{params['put_total']} puts, {params['value_size']}-byte values, random keys over {params['key_space']}"),
    ("put-1", "put, 1 client", "p50",
     f"{params['put1_total']} puts, one at a time"),
    ("get-100", f"linearizable get, {c} clients / {w} connections", "throughput",
     f"{params['get_total']} reads of one {params['value_size']}-byte key"),
    ("watch", f"watch, {params['watchers']} watchers", "p99 delivery delay",
     f"{params['watch_total']} writes at {params['watch_rate']}/s, every watcher gets every write; delay = write acknowledged → event received"),
]
rows = []
for name, title, target, detail in workloads:
    row = {"workload": name, "title": title, "targetMetric": target, "detail": detail,
           "cairn": phase("cairn", name), "etcdTLS": phase("etcd-tls", name), "etcdPlain": phase("etcd-plain", name)}
    if name == "watch" and env["COMPARE_CAIRN_OK"] == "1" and env["COMPARE_CAIRN_WATCH"] != "1":
        row["cairn"] = {"failure": "TODO: `cairn bench --workload watch` not available in this build"}
    a, b = row["cairn"] or {}, row["etcdTLS"] or {}
    if a.get("opsPerSec") and b.get("opsPerSec") and name != "watch":
        row["throughputRatio"] = round(a["opsPerSec"] / b["opsPerSec"], 2)
    if a.get("p99Ms") and b.get("p99Ms"):
        row["p99Ratio"] = round(a["p99Ms"] / b["p99Ms"], 2)
    if a.get("p50Ms") and b.get("p50Ms"):
        row["p50Ratio"] = round(a["p50Ms"] / b["p50Ms"], 2)
    rows.append(row)

# The alternating single-client rounds: each round's p50 on both, the ratio of each round, and
# the median ratio (rounds taken in turn, so the machine's drift does not bias the ratio).
rounds = []
for n in range(1, int(params["put1_rounds"]) + 1):
    a, b = phase("cairn", f"put1-round{n}"), phase("etcd-tls", f"put1-round{n}")
    if not a and not b:
        continue
    r = {"round": n, "cairn": a, "etcdTLS": b}
    if a and b and a.get("p50Ms") and b.get("p50Ms"):
        r["p50Ratio"] = round(a["p50Ms"] / b["p50Ms"], 3)
    rounds.append(r)
ratios = sorted(r["p50Ratio"] for r in rounds if "p50Ratio" in r)
put1_rounds = {"rounds": rounds}
if ratios:
    put1_rounds["medianP50Ratio"] = ratios[len(ratios) // 2] if len(ratios) % 2 else round((ratios[len(ratios) // 2 - 1] + ratios[len(ratios) // 2]) / 2, 3)
    put1_rounds["p50RatioRange"] = [ratios[0], ratios[-1]]

check_perf = {k: phase(f"etcd-{k}", "check-perf") for k in ("tls", "plain")}
machine = {"nproc": int(env["COMPARE_NPROC"]), "cpu": env["COMPARE_CPU"], "memory": env["COMPARE_MEM"],
           "os": env["COMPARE_OS"], "kernel": env["COMPARE_KERNEL"], "filesystem": env["COMPARE_FS"], "device": env["COMPARE_DEVICE"]}
versions = {"cairn": env["COMPARE_CAIRN_REV"], "swift": env["COMPARE_SWIFT_VERSION"], "etcd": env["COMPARE_ETCD_VERSION"],
            "go": env["COMPARE_GO_VERSION"], "fio": env["COMPARE_FIO_VERSION"], "etcdBenchmark": env["COMPARE_BENCH_NOTE"]}
result = {"started": env["COMPARE_STARTED"], "finished": env["COMPARE_FINISHED"], "command": "Benchmarks/compare/run.sh",
          "parameters": params, "machine": machine, "versions": versions, "fio": fio, "floor": floor, "workloads": rows,
          "put1AlternatingRounds": put1_rounds}
if any(check_perf.values()):
    result["etcdctlCheckPerfFallback"] = check_perf

def num(x, digits=0):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}".replace(",", " ")

def cell_ops(p):
    if not p:
        return "–"
    if p.get("failure") and p.get("opsPerSec") is None:
        return "**failed**"
    return num(p.get("opsPerSec"))

def cell_lat(p):
    if not p or p.get("p50Ms") is None:
        return "**failed**" if p and p.get("failure") else "–"
    return f"{p['p50Ms']:.2f} / {p['p99Ms']:.2f}"

def cell_lat3(p):
    if not p or p.get("p50Ms") is None:
        return "**failed**" if p and p.get("failure") else "–"
    return f"{p['p50Ms']:.3f} / {p['p99Ms']:.3f}"

def cell_err(p):
    return "" if not p or not p.get("errors") else f" ({p['errors']} errors)"

md = [
    "# Cairn vs etcd — latest side-by-side run",
    "",
    f"Generated by `Benchmarks/compare/run.sh`, {env['COMPARE_STARTED']} → {env['COMPARE_FINISHED']}.",
    "",
    f"Machine: {machine['nproc']} cores ({machine['cpu']}), {machine['memory']}, {machine['os']}, kernel {machine['kernel']}, "
    f"{machine['filesystem']} on {machine['device']}. Client and all three servers of each cluster share it.",
    "",
    f"Versions: Cairn {versions['cairn']} ({versions['swift']}, release build); etcd {versions['etcd']} (Debian's etcd-server); "
    f"{versions['etcdBenchmark']}.",
    "",
    "Both clusters: 3 members on loopback, fsync on, mutual TLS on client and peer connections; "
    f"{params['value_size']}-byte values; same concurrency and request count. \"plain etcd\" is the same etcd cluster without TLS.",
    "",
]
if fio.get("fdatasyncPerSec"):
    md += [f"Disk floor (fio, 4 KiB write + fdatasync, {params['fio_seconds']} s): **{num(fio['fdatasyncPerSec'])} fdatasync/s**, "
           f"mean {fio['meanSyncMicros']} µs, p99 {fio['p99SyncMicros']} µs per sync.", ""]
else:
    md += [f"Disk floor: {fio.get('failure')}", ""]
if floor.get("tlsSyncP50Ms") is not None:
    md += [f"Write floor ([`Benchmarks/floor`](../floor/README.md): a C relay of one write's shape — client, leader, two followers, "
           f"fdatasync on all three, answered after the leader's sync and one follower's ack — median of {floor['runs']} runs, "
           f"single client): p50 **{floor['tlsSyncP50Ms']:.3f} ms** with TLS 1.3, {floor.get('plainSyncP50Ms', 0):.3f} ms over plain TCP; "
           f"without fdatasync {floor.get('tlsNoSyncP50Ms', 0):.3f} / {floor.get('plainNoSyncP50Ms', 0):.3f} ms.", ""]
elif floor:
    md += [f"Write floor: {floor.get('failure')}", ""]
md += [
    "| workload | compared on | Cairn ops/s | etcd (TLS) ops/s | ratio Cairn/etcd | Cairn p50 / p99 ms | etcd (TLS) p50 / p99 ms | plain etcd ops/s | plain etcd p50 / p99 ms |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
]
for r in rows:
    a, b, p = r["cairn"], r["etcdTLS"], r["etcdPlain"]
    if r["workload"] == "watch":
        ratio = f"delay p99 ×{r['p99Ratio']}" if "p99Ratio" in r else "–"
        def watch_cell(x):
            if not x:
                return "–"
            if str(x.get("failure", "")).startswith("TODO"):
                return "**TODO**"
            return "**failed**" if x and x.get("failure") and x.get("p50Ms") is None else "n/a"
        md.append(f"| {r['title']} | {r['targetMetric']} | {watch_cell(a)} | {watch_cell(b)} | {ratio} "
                  f"| {cell_lat(a)}{cell_err(a)} | {cell_lat(b)}{cell_err(b)} | {watch_cell(p)} | {cell_lat(p)}{cell_err(p)} |")
    else:
        if r["targetMetric"] == "p50":
            # Judged on latency: the ratio of the p50s (Cairn's over etcd's), not of throughput.
            ratio = f"p50 ×{r['p50Ratio']}" if "p50Ratio" in r else "–"
        else:
            ratio = f"×{r['throughputRatio']}" if "throughputRatio" in r else "–"
        md.append(f"| {r['title']} | {r['targetMetric']} | {cell_ops(a)}{cell_err(a)} | {cell_ops(b)}{cell_err(b)} | {ratio} "
                  f"| {cell_lat(a)} | {cell_lat(b)} | {cell_ops(p)}{cell_err(p)} | {cell_lat(p)} |")
if rounds:
    md += ["", f"**Single-client put, {len(rounds)} alternating rounds** (a fresh Cairn cluster and a fresh etcd TLS cluster both up, "
           f"{params['put1_total']} puts per round on each in turn, each idle while the other is measured): "
           + (f"p50 ratio Cairn/etcd median **×{put1_rounds['medianP50Ratio']:.3f}**, range ×{ratios[0]:.3f}–×{ratios[-1]:.3f}." if ratios else "no complete round."),
           "", "| round | Cairn p50 / p99 ms | etcd (TLS) p50 / p99 ms | p50 ratio |", "|---:|---:|---:|---:|"]
    for r in rounds:
        md.append(f"| {r['round']} | {cell_lat3(r['cairn'])} | {cell_lat3(r['etcdTLS'])} | "
                  + (f"×{r['p50Ratio']:.3f}" if "p50Ratio" in r else "–") + " |")
md += ["", "Workloads:", ""]
for r in rows:
    md.append(f"- **{r['title']}**: {r['detail']}.")
cw = ((rows[3].get("cairn") or {}).get("raw") or {}).get("watch")
if cw:
    wl = cw.get("writeLatencyMs") or {}
    md += ["", f"Cairn watch run details: {cw.get('eventsDelivered')} of {cw.get('eventsExpected')} events delivered, "
               f"{cw.get('missed')} missed, {cw.get('resumes')} stream resumes, {cw.get('resnapshots')} re-snapshots; "
               f"all watchers ready after {cw.get('readySeconds', 0):.1f} s; the writes' own latency p50 {wl.get('p50')} ms, p99 {wl.get('p99')} ms."]
failures = [(r["workload"], s, r[k]["failure"]) for r in rows for k, s in (("cairn", "Cairn"), ("etcdTLS", "etcd (TLS)"), ("etcdPlain", "plain etcd"))
            if r[k] and r[k].get("failure")]
if failures:
    md += ["", "Failures (no number is shown for these):", ""]
    md += [f"- {w} / {s}: {f}" for w, s, f in failures]
if any(check_perf.values()):
    md += ["", "**etcd's tools/benchmark could not be built: the etcd columns are empty. `etcdctl check perf --load s` output, for reference only (a different workload):**", ""]
    for k, v in check_perf.items():
        if v:
            md += [f"{k}:", "```", v.get("raw", v.get("failure", "")), "```"]
md += ["", "Before each measured run the script waits until the cluster's servers use under a tenth of a core over one second "
       "(at most 30 s), so no run starts in the tail of the one before; the wait, and the load average (1/5/15 min) just before "
       "each run — the machine is shared, so read the numbers with it:", ""]
for r in rows:
    loads = [f"{s} {r[k]['loadAverageBefore']} after {r[k].get('quietWaitSeconds', 0):.1f} s" for k, s in (("cairn", "Cairn"), ("etcdTLS", "etcd TLS"), ("etcdPlain", "plain etcd"))
             if r[k] and r[k].get("loadAverageBefore")]
    if loads:
        md.append(f"- {r['workload']}: " + "; ".join(loads))
md += ["", "Commands (`$WORK` is the run's scratch directory):", ""]
for r in rows:
    for k in ("cairn", "etcdTLS", "etcdPlain"):
        if r[k] and r[k].get("command"):
            md.append(f"- `{r[k]['command']}`")
md.append("")

text = "\n".join(md)
stamp = env["COMPARE_STAMP"]
for name in ("latest", stamp):
    open(f"{out_dir}/{name}.md", "w").write(text)
    json.dump(result, open(f"{out_dir}/{name}.json", "w"), indent=2, sort_keys=True)
print(text)
PY
say "results: $results_dir/latest.md, $results_dir/latest.json ($stamp copies beside them)"
