#!/usr/bin/env bash
# Makes every certificate a three-server Cairn cluster needs, in DIR:
#   the CA, three server certificates (nodes n1, n2, n3 on 127.0.0.1, .2, .3),
#   one client certificate and one CLI certificate.
#
# Usage: Certs/make-cluster-certs.sh DIR [DC]
#   DIR  where to write the files (created if missing; must not already hold a CA)
#   DC   the datacenter (default dc1)
#
# Environment:
#   CAIRN            use this cairn binary instead of building one
#   CAIRN_BUILD      release (default) or debug: the configuration `swift build` uses
#   SWIFT_BUILD_ARGS extra arguments for `swift build` (e.g. --scratch-path DIR)
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 || "${1:-}" == -* ]]; then
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit 2
fi
dir=$1
dc=${2:-dc1}

if [[ -z "${CAIRN:-}" ]]; then
    root=$(cd "$(dirname "$0")/.." && pwd)
    configuration=${CAIRN_BUILD:-release}
    case "$configuration" in
        release|debug) ;;
        *) echo "CAIRN_BUILD must be release or debug, not $configuration" >&2; exit 2 ;;
    esac
    # shellcheck disable=SC2086 # SWIFT_BUILD_ARGS is a list of words on purpose
    (cd "$root" && swift build -c "$configuration" --product cairn ${SWIFT_BUILD_ARGS:-} >&2)
    # shellcheck disable=SC2086
    CAIRN="$(cd "$root" && swift build -c "$configuration" --show-bin-path ${SWIFT_BUILD_ARGS:-})/cairn"
fi

mkdir -p "$dir"
cairn() { "$CAIRN" "$@"; }

cairn tls ca create --dir "$dir"
cairn tls cert create --server --dc "$dc" --node n1 --dir "$dir"
cairn tls cert create --server --dc "$dc" --node n2 --additional-ipaddress 127.0.0.2 --dir "$dir"
cairn tls cert create --server --dc "$dc" --node n3 --additional-ipaddress 127.0.0.3 --dir "$dir"
cairn tls cert create --client --dc "$dc" --dir "$dir"
cairn tls cert create --cli --dc "$dc" --dir "$dir"

cat <<SUMMARY

Made in $dir:
  n1:     cairn-agent-ca.pem  $dc-server-cairn-0.pem  $dc-server-cairn-0-key.pem
  n2:     cairn-agent-ca.pem  $dc-server-cairn-1.pem  $dc-server-cairn-1-key.pem
  n3:     cairn-agent-ca.pem  $dc-server-cairn-2.pem  $dc-server-cairn-2-key.pem
  client: cairn-agent-ca.pem  $dc-client-cairn-0.pem  $dc-client-cairn-0-key.pem
  CLI:    cairn-agent-ca.pem  $dc-cli-cairn-0.pem     $dc-cli-cairn-0-key.pem
Keep cairn-agent-ca-key.pem off the nodes.
SUMMARY
