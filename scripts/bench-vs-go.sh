#!/usr/bin/env bash
# Times goroscope and Go's own trace reader on the same trace, in one run, and prints
# wall time, peak memory (max RSS) and the ratios.
#
#   scripts/bench-vs-go.sh TRACE...        (default: bench-data/*.trace; make them with
#                                           `just big-traces`)
#
# Go's side is bench/go-reader, built against a copy of the reference toolchain's
# internal/trace made in the cache folder (never in the repository). goroscope's side is
# the release build of `goroscope bench`. Each measurement is the best of 3 runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/go-env.sh
. scripts/go-env.sh

traces=("$@")
if [ "${#traces[@]}" -eq 0 ]; then
    traces=(bench-data/*.trace)
fi

# Go's reader, built against a copy of internal/trace.
src="$GOROSCOPE_CACHE/go-reader/src"
bin="$GOROSCOPE_CACHE/go-reader/bin/go-reader"
rm -rf "$src"
mkdir -p "$src/internal" "$(dirname "$bin")"
cp -R "$GOROSCOPE_GOROOT/src/internal/trace" "$src/internal/trace"
rm -rf "$src/internal/trace/testtrace" "$src/internal/trace/traceviewer" "$src/internal/trace/internal/testgen"
find "$src/internal" -type d -name testdata -prune -exec rm -rf {} +
find "$src/internal" -name '*_test.go' -delete
find "$src/internal" -name '*.go' -exec sed -i -E 's#"internal/trace([/"])#"goreader/internal/trace\1#g' {} +
cp bench/go-reader/main.go "$src/main.go"
printf 'module goreader\n\ngo 1.27\n' >"$src/go.mod"
(cd "$src" && goroscope_go "$GOROSCOPE_GO_VERSION" build -trimpath -o "$bin" .)

cargo build --release -q -p goroscope

# best_of CMD...: prints "seconds maxrss_kb" of the fastest of 3 runs.
best_of() {
    local best_s="" best_kb=""
    for _ in 1 2 3; do
        local out
        out=$( { /usr/bin/time -f '%e %M' "$@" >/dev/null; } 2>&1 | tail -1)
        local s=${out% *} kb=${out#* }
        if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s; fi
        if [ -z "$best_kb" ] || [ "$kb" -lt "$best_kb" ]; then best_kb=$kb; fi
    done
    echo "$best_s $best_kb"
}

printf '%-28s %-8s %10s %10s %10s %10s %8s %8s\n' trace mode "go s" "ours s" "go MB" "ours MB" speedup mem
for t in "${traces[@]}"; do
    size_mb=$(( $(stat -c %s "$t") / 1000000 ))
    for mode in events summary; do
        read -r gs gkb < <(best_of "$bin" "$mode" "$t")
        read -r os okb < <(best_of target/release/goroscope bench --mode "$mode" "$t")
        printf '%-28s %-8s %10s %10s %10d %10d %7.1fx %7.1fx\n' "$(basename "$t") (${size_mb} MB)" "$mode" \
            "$gs" "$os" $((gkb / 1000)) $((okb / 1000)) \
            "$(awk "BEGIN{print $gs / ($os > 0 ? $os : 0.001)}")" \
            "$(awk "BEGIN{print $gkb / ($okb > 0 ? $okb : 1)}")"
    done
done
