#!/usr/bin/env bash
# Builds and runs the libFuzzer target for the wire codec (Fuzz/FuzzWire.swift).
#
#   Fuzz/run.sh [seconds] [extra libFuzzer flags...]     # default: 600 seconds
#
# libFuzzer brings its own `main`, so the fuzzer is built outside the package:
#   1. `swift build -c release --target CairnWire` in a scratch directory compiles NIOCore and its
#      dependencies (the package's own build is untouched; nothing in Package.swift knows of this);
#   2. the CairnRaft files the codec needs, the CairnWire sources and FuzzWire.swift are compiled
#      here with `-sanitize=fuzzer,address` (so the codec is instrumented for coverage and checked
#      by AddressSanitizer), importing NIOCore's module from step 1 with the same clang module
#      flags SwiftPM used (read from its build manifest);
#   3. everything is linked with NIOCore's object files from step 1.
# The corpus is seeded from Protocol/vectors (each vector as binary). Crashes are written to
# $WORK/artifacts; reproduce one with `$WORK/fuzz-wire <file>`.
#
# Environment: CAIRN_FUZZ_SCRATCH (default <repo>/.build-fuzz) — the scratch directory;
#              CAIRN_FUZZ_JOBS (default 1) — parallel fuzzing processes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRATCH="${CAIRN_FUZZ_SCRATCH:-$ROOT/.build-fuzz}"
SECONDS_TO_RUN="${1:-600}"
shift || true
WORK="$SCRATCH/fuzz-wire"
mkdir -p "$WORK/obj" "$WORK/corpus" "$WORK/artifacts"

echo "== 1. NIOCore (release) in $SCRATCH"
swift build -c release --target CairnWire --scratch-path "$SCRATCH" --package-path "$ROOT" >"$WORK/swift-build.log" 2>&1 ||
    { tail -30 "$WORK/swift-build.log"; exit 1; }
RELEASE="$(cd "$SCRATCH/release" && pwd -P)"

# The -I / -Xcc flags SwiftPM passed when compiling CairnWire: where NIOCore's module and the
# clang modules it imports (CNIOLinux, CNIOAtomics, _AtomicsShims...) live.
mapfile -t IMPORT_FLAGS < <(python3 - "$SCRATCH/release.yaml" <<'EOF'
import json, sys
manifest = open(sys.argv[1]).read()
start = manifest.index('"C.CairnWire-')
args_line = next(l for l in manifest[start:].splitlines() if l.strip().startswith("args:"))
args = json.loads(args_line.split("args:", 1)[1])
out, i = [], 0
while i < len(args):
    if args[i] in ("-Xcc", "-I"):
        out += [args[i], args[i + 1]]
        i += 2
    else:
        i += 1
print("\n".join(out))
EOF
)

# NIOCore's dependency closure: its object files are linked into the fuzzer.
MODULES=(NIOCore NIOConcurrencyHelpers _NIOBase64 _NIODataStructures CNIOLinux CNIODarwin CNIOWindows CNIOWASI
    CNIOFreeBSD CNIOOpenBSD CNIOAtomics Atomics _AtomicsShims DequeModule InternalCollectionsUtilities ContainersPreview)
OBJECTS=()
for module in "${MODULES[@]}"; do
    [ -d "$RELEASE/$module.build" ] || continue
    while IFS= read -r -d '' object; do OBJECTS+=("$object"); done < <(find "$RELEASE/$module.build" -name '*.o' -print0)
done

SANITIZE=(-sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6)
RAFT="$ROOT/Sources/CairnRaft"

echo "== 2. Compile CairnRaft (message types), CairnWire and the entry point with -sanitize=fuzzer,address"
swiftc "${SANITIZE[@]}" -wmo -module-name CairnRaft -emit-module -emit-module-path "$WORK/obj/CairnRaft.swiftmodule" \
    -c "$RAFT/Message.swift" "$RAFT/Entry.swift" "$RAFT/Snapshot.swift" "$RAFT/Membership.swift" "$RAFT/Identifiers.swift" \
    -o "$WORK/obj/CairnRaft.o"
swiftc "${SANITIZE[@]}" -wmo -module-name CairnWire -emit-module -emit-module-path "$WORK/obj/CairnWire.swiftmodule" \
    -I "$WORK/obj" "${IMPORT_FLAGS[@]}" -c "$ROOT"/Sources/CairnWire/*.swift "$ROOT"/Sources/CairnWire/Model/*.swift -o "$WORK/obj/CairnWire.o"
swiftc "${SANITIZE[@]}" -module-name FuzzWire -I "$WORK/obj" "${IMPORT_FLAGS[@]}" \
    -c "$ROOT/Fuzz/FuzzWire.swift" -o "$WORK/obj/FuzzWire.o"

echo "== 3. Link"
# lld (shipped with the toolchain) rather than gold, which warns about the ASan runtime's symbols.
swiftc -sanitize=fuzzer,address -use-ld=lld "$WORK/obj/FuzzWire.o" "$WORK/obj/CairnWire.o" "$WORK/obj/CairnRaft.o" "${OBJECTS[@]}" \
    -o "$WORK/fuzz-wire"

echo "== Seed the corpus from Protocol/vectors"
for vector in "$ROOT"/Protocol/vectors/*.hex; do
    python3 -c 'import sys
text = "".join(l for l in open(sys.argv[1]) if not l.startswith("#"))
open(sys.argv[2], "wb").write(bytes.fromhex("".join(text.split())))' "$vector" "$WORK/corpus/$(basename "$vector" .hex).bin"
done

echo "== Fuzz for $SECONDS_TO_RUN s"
cd "$WORK"
PARALLEL=()
if [ "${CAIRN_FUZZ_JOBS:-1}" -gt 1 ]; then PARALLEL=(-jobs="$CAIRN_FUZZ_JOBS" -workers="$CAIRN_FUZZ_JOBS"); fi
./fuzz-wire -max_total_time="$SECONDS_TO_RUN" "${PARALLEL[@]}" -artifact_prefix="$WORK/artifacts/" \
    -print_final_stats=1 "$@" "$WORK/corpus"
