#!/usr/bin/env bash
# Times goroscope's and Go's own trace reader on the same traces, in one run, and prints
# wall time, events/s, MB/s, peak memory (max RSS) and the ratios.
#
#   scripts/bench-vs-go.sh [TRACE...]     (default: bench-data/*.trace; make them with
#                                          `just big-traces`)
#   RUNS=5 scripts/bench-vs-go.sh ...     (best of RUNS runs, default 3)
#
# Go's side is bench/go-reader, built against a copy of the reference toolchain's
# internal/trace made in the cache folder (never in the repository).
#
# goroscope's side is the release build of goroscope-trace's `count` example: it maps the
# file (as `Trace::open` does) and reads every event of the ordered stream, in bulk
# (`next_events`), as `go-reader events` reads every event from the open file.
# Both times are of the whole process (reading the file included), measured by
# /usr/bin/time: wall ("s") and CPU ("cpu", user + system over all threads; Go's includes
# its garbage collector, ours the decoding thread of the pipeline).
#
# Mode `summary` times Go's reader feeding Go's Summarizer beside goroscope's reader feeding
# its Summarizer (goroscope-analysis's `summarize` example), the goroutine analysis of
# `go tool trace`.
#
# The machine's load changes the numbers a lot; the load average is printed before and
# after. Compare runs made under the same load only.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/go-env.sh
. scripts/go-env.sh

RUNS="${RUNS:-3}"
traces=("$@")
if [ "${#traces[@]}" -eq 0 ]; then
    shopt -s nullglob
    traces=(bench-data/*.trace)
    shopt -u nullglob
fi
if [ "${#traces[@]}" -eq 0 ]; then
    echo "bench-vs-go: no traces (make them with \`just big-traces\`)" >&2
    exit 2
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

# goroscope's reader, and its reader feeding its Summarizer.
cargo build --release -q -p goroscope-trace --example count
cargo build --release -q -p goroscope-analysis --example summarize
ours="${CARGO_TARGET_DIR:-target}/release/examples/count"
ours_summary="${CARGO_TARGET_DIR:-target}/release/examples/summarize"

# best_of CMD...: prints "seconds cpu_seconds maxrss_kb": the wall time of the fastest of
# $RUNS runs with its CPU time (user + system, all threads), and the smallest max RSS.
best_of() {
    local best_s="" best_cpu="" best_kb=""
    for _ in $(seq "$RUNS"); do
        local out s cpu kb
        out=$( { /usr/bin/time -f '%e %U %S %M' "$@" >/dev/null; } 2>&1 | tail -1)
        read -r s user sys kb <<<"$out"
        cpu=$(awk "BEGIN{print $user + $sys}")
        if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then
            best_s=$s
            best_cpu=$cpu
        fi
        if [ -z "$best_kb" ] || [ "$kb" -lt "$best_kb" ]; then best_kb=$kb; fi
    done
    echo "$best_s $best_cpu $best_kb"
}

rate() { # rate COUNT SECONDS SCALE: COUNT / SECONDS / SCALE, or - without a time
    awk "BEGIN{ if ($2 > 0) printf \"%.1f\", $1 / $2 / $3; else print \"-\" }"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs); best of $RUNS runs"
printf '%-20s %-7s %10s %7s %7s %7s %7s %9s %9s %8s %8s %7s %7s %7s\n' \
    trace mode events "go s" "ours s" "go cpu" "our cpu" "go Mev/s" "our Mev/s" \
    "go MB/s" "our MB/s" "go RSS" "our RSS" speedup
for t in "${traces[@]}"; do
    bytes=$(stat -c %s "$t")
    events=$("$bin" events "$t" | awk '{print $2}')
    name="$(basename "$t" .trace)"
    for mode in events summary; do
        read -r gs gcpu gkb < <(best_of "$bin" "$mode" "$t")
        if [ "$mode" = events ]; then
            read -r os ocpu okb < <(best_of "$ours" "$t")
        else
            read -r os ocpu okb < <(best_of "$ours_summary" "$t" 1 summary)
        fi
        printf '%-20s %-7s %10d %7s %7s %7s %7s %9s %9s %8s %8s %6dM %6dM %7s\n' "$name" \
            "$mode" "$events" "$gs" "$os" "$gcpu" "$ocpu" \
            "$(rate "$events" "$gs" 1e6)" "$(rate "$events" "$os" 1e6)" \
            "$(rate "$bytes" "$gs" 1e6)" "$(rate "$bytes" "$os" 1e6)" \
            $((gkb / 1000)) $((okb / 1000)) \
            "$(awk "BEGIN{printf \"%.1fx\", $gs / ($os > 0 ? $os : 0.001)}")"
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
