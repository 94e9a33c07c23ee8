#!/usr/bin/env bash
# scripts/run's arguments reach `stacklab serve` once each, over the embedded defaults: a stand-in
# binary prints what it was given (the real one refuses a flag given twice).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

fake=$(mktemp -d /tmp/stacklab-run-test.XXXXXX)
trap 'rm -rf "$fake"' EXIT
mkdir -p "$fake/release"
cat > "$fake/release/stacklab" <<'STANDIN'
#!/usr/bin/env bash
printf 'args:%s\n' "$*"
printf 'addr:%s data:%s\n' "$STACKLAB_ADDR" "$STACKLAB_DATA_DIR"
STANDIN
chmod +x "$fake/release/stacklab"

check() { # check WANT GOT
    if [[ "$2" != *"$1"* ]]; then
        printf 'scripts/run: expected %q in:\n%s\n' "$1" "$2" >&2
        exit 1
    fi
}

out=$(env -u STACKLAB_ADDR -u STACKLAB_DATA_DIR CARGO_TARGET_DIR="$fake" ROOT="$ROOT" bash -c 'source "$ROOT/scripts/lib.sh"; serve_release --addr 127.0.0.1:4000 --data-dir /tmp/x')
check "args:serve --addr 127.0.0.1:4000 --data-dir /tmp/x" "$out"
check "Serving on http://127.0.0.1:4000" "$out"
[ "$(grep -o -- '--addr' <<<"$out" | wc -l)" = 1 ] || { echo "--addr given twice: $out" >&2; exit 1; }

out=$(env -u STACKLAB_ADDR -u STACKLAB_DATA_DIR CARGO_TARGET_DIR="$fake" ROOT="$ROOT" bash -c 'source "$ROOT/scripts/lib.sh"; serve_release')
check "args:serve" "$out"
check "addr:0.0.0.0:3000 data:/var/lib/stacklab" "$out"
check "Serving on http://localhost:3000" "$out"
echo "scripts/run arguments: ok"
