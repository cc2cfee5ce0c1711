#!/usr/bin/env bash
# Makes a large Go execution trace for benchmarks from the `mixed` fixture
# program (fixtures/programs/mixed), built with Go 1.27.3.
#
#   scripts/big-trace.sh OUT_PATH SIZE_MB
#   e.g. scripts/big-trace.sh bench-data/mixed-50mb.trace 45
#        scripts/big-trace.sh bench-data/mixed-250mb.trace 250
#
# It runs the program with -min-bytes (repeat the whole mixed workload in one
# trace, GOMAXPROCS=2, until the runtime has written SIZE_MB MiB), so the
# result is the target size plus at most one round (~0.3-0.5 MB). Run time is
# roughly 10 s for 45 MB and 1 min for 250 MB. The output goes where the
# caller says (bench-data/ is git-ignored); never commit it.
set -euo pipefail

if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ]; then
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
OUT="$1"
TARGET=$(($2 * 1024 * 1024))

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/go-env.sh
. "$ROOT/scripts/go-env.sh"
V=1.27.3
goroscope_go_install "$V"

mkdir -p "$GOROSCOPE_CACHE"
WORK="$(mktemp -d "$GOROSCOPE_CACHE/big-trace.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/tmp" "$(dirname "$OUT")"

(cd "$ROOT/fixtures/programs/mixed" && goroscope_go "$V" build -trimpath -o "$WORK/mixed" .)

env -u GODEBUG -u GOGC -u GOMEMLIMIT GOMAXPROCS=2 TZ=UTC TMPDIR="$WORK/tmp" \
    "$WORK/mixed" -min-bytes "$TARGET" "$OUT"
size=$(wc -c <"$OUT")
if [ "$size" -lt "$TARGET" ]; then
    echo "big-trace: $OUT is only $size bytes (target $TARGET)" >&2
    exit 1
fi
echo "big-trace: wrote $OUT ($size bytes, target $TARGET)" >&2
