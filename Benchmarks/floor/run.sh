#!/usr/bin/env bash
# Benchmarks/floor/run.sh — the floor of a replicated, fsynced single-client write on this machine.
#
# Builds floor.c with the system C compiler and runs it: four processes on loopback (a client, a
# leader, two followers), each write sent to both followers, written and fdatasync'ed by all
# three, answered after the leader's sync and the first follower's ack — the shape of one Raft
# write, with no encoding and no consensus state, in plain TCP and in TLS 1.3 (OpenSSL). See
# README.md in this directory.
#
# usage: Benchmarks/floor/run.sh [RUNS]        (default 3 runs of each kind: fsync on/off, TLS on/off)
# env:   FLOOR_DIR   where the log files go (default: a fresh directory under /var/tmp, i.e. the
#                    disk the Cairn and etcd data directories of Benchmarks/compare use)
#        REQUESTS    requests per run (default 5000, after 500 warm-up requests)
#        PORT        first of the four loopback ports used (default 28600)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
runs="${1:-3}"
requests="${REQUESTS:-5000}"
port="${PORT:-28600}"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: RUNS must be a positive number, not '$runs'" >&2; exit 2; }
if ! command -v cc >/dev/null || ! command -v openssl >/dev/null || [[ ! -e /usr/include/openssl/ssl.h ]]; then
    echo "run.sh: installing gcc, openssl and libssl-dev"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc openssl libssl-dev >/dev/null
fi

work="$(mktemp -d /var/tmp/cairn-floor.XXXXXX)"
trap 'rm -rf "$work"' EXIT
dir="${FLOOR_DIR:-$work/data}"
mkdir -p "$dir"
cc -O2 -Wall -Wextra -Werror -o "$work/floor" "$here/floor.c" -lssl -lcrypto
# A throw-away P-256 certificate for the TLS runs (the handshakes are not timed).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=floor \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

echo "floor: $requests requests per run, data in $dir ($(df -T "$dir" | awk 'NR==2 {print $2 " on " $1}'))"
tls=(--cert "$work/cert.pem" --key "$work/key.pem")
for ((i = 1; i <= runs; i++)); do
    for sync in 1 0; do
        timeout 120 "$work/floor" --dir "$dir" --requests "$requests" --port "$port" --sync $sync
        timeout 120 "$work/floor" --dir "$dir" --requests "$requests" --port "$port" --sync $sync "${tls[@]}"
    done
done
