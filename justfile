# goroscope's everyday commands. Every recipe is a plain cargo or shell line, so CI
# (.ci/run) and people without `just` can run the same thing by hand.

# List the recipes.
default:
    @just --list

# Run every test, Go conformance included (installs the reference Go toolchain if missing).
test *ARGS:
    scripts/test.sh {{ARGS}}

# Formatting, lints and API docs, as CI checks them.
check:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc -q --no-deps --workspace

# Only the tests that run Go's own tools live beside goroscope.
conformance:
    scripts/test.sh conformance

# Criterion benchmarks (make the large traces first: `just big-traces`).
bench:
    cargo bench --workspace

# Large traces for benchmarks, made by the fixture programs (not committed).
big-traces:
    scripts/big-trace.sh bench-data/big-45mb.trace 45
    scripts/big-trace.sh bench-data/big-285mb.trace 285

# goroscope's reader beside Go's on the same traces, in one run (make them with `just big-traces`).
bench-vs-go *TRACES:
    scripts/bench-vs-go.sh {{TRACES}}

# Regenerate every fixture and its reference outputs with the pinned Go toolchains.
fixtures *ARGS:
    scripts/fixtures.sh {{ARGS}}

# Open the viewer on a bundled fixture (or any trace).
viewer FILE="fixtures/traces/mixed-go1.27.3.trace":
    cargo run --release -p goroscope -- {{FILE}}

# Everything CI runs.
ci:
    .ci/run
