#!/usr/bin/env bash
# Builds and tests the WebAssembly module the browser loads: the E2EE client
# core (crates/securechat-e2ee), which carries the crypto crate's bindings too.
#
#   scripts/wasm.sh build   # installs the wasm32 target and the matching
#                           # wasm-bindgen-cli if missing, builds a size-optimized
#                           # release .wasm, runs wasm-bindgen --target web into
#                           # web/wasm/securechat_e2ee*, and reports the gzip size
#   scripts/wasm.sh test    # build, then `node --test` checks every crypto JSON
#                           # vector and runs the core's lying-server scenarios
#                           # against web/wasm/
#   scripts/wasm.sh check   # the same checks against web/wasm/ as it is, without
#                           # building (`make test-wasm` builds through `make wasm`,
#                           # which rebuilds only when the sources changed)
#
# Environment: CARGO_TARGET_DIR (default: <repo>/target), WASM_OUT_DIR
# (default: <repo>/web/wasm).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRATE_DIR="$ROOT/crates/securechat-crypto"
CORE_DIR="$ROOT/crates/securechat-e2ee"
TARGET=wasm32-unknown-unknown
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT_DIR="${WASM_OUT_DIR:-$ROOT/web/wasm}"

log() { printf '[wasm] %s\n' "$*" >&2; }

# The wasm-bindgen version pinned in Cargo.lock; the CLI must match it exactly
# or the generated JS glue refuses the module.
bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' \
        "$ROOT/Cargo.lock"
}

ensure_target() {
    if ! rustup target list --installed | grep -qx "$TARGET"; then
        log "installing rust target $TARGET"
        rustup target add "$TARGET"
    fi
}

ensure_bindgen() {
    local want have
    want="$(bindgen_version)"
    if [ -z "$want" ]; then
        log "resolving dependencies to find the wasm-bindgen version"
        (cd "$ROOT" && cargo fetch --target "$TARGET" >/dev/null)
        want="$(bindgen_version)"
    fi
    have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
    if [ "$have" != "$want" ]; then
        log "installing wasm-bindgen-cli $want (found: ${have:-none})"
        cargo install wasm-bindgen-cli --version "$want"
    fi
}

build() {
    ensure_target
    ensure_bindgen
    log "building securechat-e2ee (with securechat-crypto) for $TARGET (opt-level z, fat LTO)"
    # Size profile applied through the environment: the workspace's release
    # profile is tuned for the server, and only the root manifest may hold
    # profiles.
    (cd "$ROOT" && \
        CARGO_TARGET_DIR="$TARGET_DIR" \
        CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
        CARGO_PROFILE_RELEASE_LTO=fat \
        CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
        CARGO_PROFILE_RELEASE_PANIC=abort \
        cargo build --release -p securechat-e2ee --target "$TARGET")
    local wasm="$TARGET_DIR/$TARGET/release/securechat_e2ee.wasm"
    mkdir -p "$OUT_DIR"
    # The name section (function names, ~100 KB) only helps debugging.
    wasm-bindgen --target web --remove-name-section --remove-producers-section \
        --out-dir "$OUT_DIR" "$wasm"
    if command -v wasm-opt >/dev/null 2>&1; then
        log "wasm-opt -Oz"
        wasm-opt -Oz --all-features -o "$OUT_DIR/opt.wasm" "$OUT_DIR/securechat_e2ee_bg.wasm" \
            && mv "$OUT_DIR/opt.wasm" "$OUT_DIR/securechat_e2ee_bg.wasm" \
            || { rm -f "$OUT_DIR/opt.wasm"; log "wasm-opt failed; keeping the unoptimized module"; }
    fi
    local raw gz
    raw=$(wc -c < "$OUT_DIR/securechat_e2ee_bg.wasm")
    gz=$(gzip -9 -c "$OUT_DIR/securechat_e2ee_bg.wasm" | wc -c)
    log "web/wasm/securechat_e2ee_bg.wasm: $raw bytes, $gz bytes gzip -9"
}

run_tests() {
    build
    check
}

check() {
    [ -f "$OUT_DIR/securechat_e2ee_bg.wasm" ] || { log "no WASM build in $OUT_DIR: run \`scripts/wasm.sh build\`"; exit 1; }
    log "checking the JSON vectors and the lying-server scenarios against the WASM build (node --test)"
    WASM_OUT_DIR="$OUT_DIR" VECTORS_DIR="$CRATE_DIR/vectors" SCENARIOS_DIR="$CORE_DIR/scenarios" \
        node --test "$CRATE_DIR/tests-wasm/" "$CORE_DIR/tests-wasm/"
}

case "${1:-}" in
    build) build ;;
    test) run_tests ;;
    check) check ;;
    *)
        echo "usage: $0 build|test|check" >&2
        exit 2
        ;;
esac
