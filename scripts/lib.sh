# Shared by the scripts in this folder: paths, the cache outside the checkout, phase timing.
# Sourced, not run.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Everything expensive lives here, outside the checkout, so a second run (or a second clone)
# reuses it: tools, the cargo target dir, npm's cache, the lab image.
CACHE="${STACKLAB_CACHE:-$HOME/.cache/stacklab}"
TOOLS="$CACHE/tools"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
# One-off builds gain nothing from incremental caches, which grow by gigabytes a build.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export PATH="$TOOLS/bin:$HOME/.cargo/bin:$PATH"
SITE="$CARGO_TARGET_DIR/site"
export STACKLAB_SITE_ROOT="${STACKLAB_SITE_ROOT:-$SITE}"
# The lab image sandboxes start from, and debootstrap's package cache for rebuilding it.
export STACKLAB_IMAGE="${STACKLAB_IMAGE:-$CACHE/image}"
export STACKLAB_PACKAGE_CACHE="${STACKLAB_PACKAGE_CACHE:-$CACHE/debs}"
# The offline cluster provider's Kubernetes, built from Debian's source package
# (scripts/build-kubernetes); `stacklab image build` puts it into the lab image.
KUBERNETES_DEB="1.20.5+really1.20.2-1.1+deb12u1"
KUBERNETES_VERSION="v1.20.2"
export STACKLAB_KUBERNETES="${STACKLAB_KUBERNETES:-$CACHE/kubernetes/$KUBERNETES_VERSION}"
mkdir -p "$CACHE" "$TOOLS"

# Pinned in Cargo.toml; the CLI must be the very same version.
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' "$ROOT/Cargo.toml")"
# The book's tools, installed by `scripts/install --test`. LinkChecker drops root for nobody,
# so it lives, and reads the book, where nobody can read (not under /root).
MDBOOK_VERSION=0.5.4
LINKCHECKER_VERSION=10.6.0
LINKCHECKER_VENV=/var/cache/stacklab/linkchecker
# The LMS of the LTI browser tests (end2end/lti/platform.py: PyPI's lti1p3platform, pinned in
# end2end/lti/requirements.txt).
export STACKLAB_LTI_VENV=/var/cache/stacklab/lti-platform

# Phase times go to one file shared with the scripts this one calls, so the outermost script
# prints them all at the end.
if [ -z "${STACKLAB_PHASES:-}" ]; then
    export STACKLAB_PHASES
    STACKLAB_PHASES=$(mktemp /tmp/stacklab-phases.XXXXXX)
    PHASES_OWNER=1
    PHASES_T0=$(date +%s.%N)
else
    PHASES_OWNER=0
fi
phase_start=0
phase_name=""

# phase NAME: starts timing a phase (ending the previous one).
phase() {
    phase_end
    phase_name="$1"
    phase_start=$(date +%s.%N)
    printf '\n\033[1m==> %s\033[0m\n' "$phase_name"
}

phase_end() {
    if [ -n "$phase_name" ]; then
        local now took
        now=$(date +%s.%N)
        took=$(awk -v a="$phase_start" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
        printf '\033[1m<== %s: %ss\033[0m\n' "$phase_name" "$took"
        printf '%s%-44s %8ss\n' "${STACKLAB_PHASE_MARK:-}" "$phase_name" "$took" >> "$STACKLAB_PHASES"
        phase_name=""
    fi
}

# Prints how long each phase took; call at the end (also on failure, through the trap).
phase_summary() {
    phase_end
    if [ "$PHASES_OWNER" = 1 ] && [ -s "$STACKLAB_PHASES" ]; then
        printf '\n\033[1mPhase times\033[0m\n'
        sed 's/^/  /' "$STACKLAB_PHASES"
        # Phases run in the background (marked "| ") overlap others: the total is the wall clock.
        awk -v wall="$(awk -v a="$PHASES_T0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" \
            '!/^\| / { gsub("s$", "", $NF); t += $NF }
             END { printf "  %-44s %8.1fs\n  %-44s %8.1fs\n", "sum of the phases in the foreground", t, "total (wall clock)", wall }' \
            "$STACKLAB_PHASES"
        rm -f "$STACKLAB_PHASES"
    fi
}

# in_background LOG COMMAND...: runs COMMAND (a script or a function) in the background, its
# output in LOG and its phases marked as overlapping; BACKGROUND_PID is its pid. For work that
# mostly waits on the network and disks, or that fills the cores a serial build leaves idle.
in_background() {
    local log="$1"
    shift
    STACKLAB_PHASE_MARK="| " "$@" > "$log" 2>&1 &
    BACKGROUND_PID=$!
}

# await_background PID LOG WHAT: waits for it; prints LOG's phase lines, or on failure its end.
await_background() {
    if ! wait "$1"; then
        tail -40 "$2" >&2
        echo "$3 failed (its whole log: $2)" >&2
        return 1
    fi
    grep -a -e '==>' -e '<==' -e 'skip:' "$2" | sed 's/^/    /' || true
}

say() { printf '    %s\n' "$*"; }
skip() { printf '    skip: %s\n' "$*"; }

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "This needs root (it installs packages and creates namespaces); run it as root." >&2
        exit 1
    fi
}

# stamp_ok NAME KEY: true when the step NAME last ran with the same KEY (a hash of its inputs).
stamp_ok() { [ -f "$CACHE/stamps/$1" ] && [ "$(cat "$CACHE/stamps/$1")" = "$2" ]; }
stamp_set() { mkdir -p "$CACHE/stamps"; printf '%s' "$2" > "$CACHE/stamps/$1"; }
hash_files() { { cat "$@" 2>/dev/null || true; } | sha256sum | cut -c1-16; }

# kill_tree PID: stops a background job and everything it started.
kill_tree() {
    local child
    for child in $(pgrep -P "$1"); do kill_tree "$child"; done
    kill "$1" 2>/dev/null || true
}

# build_debug: the debug binaries (stacklab, its sandbox helper, crictl, the bench) and every test
# binary, in one cargo invocation over one selection. Cargo resolves features per selection, and
# tests' dev-dependencies add some (reqwest's TLS, the sandbox crate's fake backend): building
# `-p server` first and testing the workspace after would compile the server's whole dependency
# chain twice, and `-p bench` or `-p sandbox --test X` a third and fourth time on a cold cache.
# The build is also the lint: see linted_cargo.
build_debug() {
    phase "build: stacklab, crictl, the bench and every test (debug, linted by clippy)"
    debug_cargo build --all-targets
}

# debug_cargo SUBCOMMAND ARGS...: every cargo command over the debug build goes through here, so
# each uses build_debug's one selection (every crate but hydrate, which only builds for wasm32)
# and the same lint wrapper; with another selection or without the wrapper cargo compiles again.
debug_cargo() {
    local subcommand="$1"
    shift
    linted_cargo "$subcommand" --workspace --exclude hydrate --locked "$@"
}

# linted_cargo ARGS...: cargo with the workspace's own crates compiled by clippy-driver, as `cargo
# clippy` runs it (the same wrapper, and `-D warnings` in its own argument variable), so they are
# linted while they compile and a warning fails the build. A separate `cargo clippy` made a check
# build of every dependency before the build compiled each again. Cargo compiles the workspace's
# crates again when the wrapper or its arguments change: a linted build and a plain one of the same
# profile and target take turns rebuilding them (the dependencies stay).
linted_cargo() {
    RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)" \
        CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" cargo "$@"
}

# test_binary PACKAGE SUITE: the path of PACKAGE's tests/SUITE.rs binary as build_debug made it.
# (`cargo test -p PACKAGE --test SUITE` would resolve features for a smaller selection and
# rebuild; running the binary itself does not.)
test_binary() {
    debug_cargo test --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
package, suite = sys.argv[1:]
for line in sys.stdin:
    m = json.loads(line)
    t = m.get("target", {})
    if m.get("executable") and t.get("name") == suite and "test" in t.get("kind", []) \
            and "/" + package + "#" in m.get("package_id", ""):
        print(m["executable"])' "$1" "$2" | tail -1
}

# lab_image BINARY: builds the lab image with that stacklab binary (it skips a current one).
lab_image() {
    phase "build: lab image (debootstrap) in ${STACKLAB_IMAGE#$HOME/}"
    "$1" image build
}

# A dockerd of our own (Debian's docker.io), on its own socket and data root, for the Docker
# peer in the bench and the Docker backend's tests. `dockerd_stop` stops it again.
DOCKER_SOCK=/run/stacklab/docker.sock
export DOCKER_HOST="unix://$DOCKER_SOCK"
dockerd_start() {
    if docker info >/dev/null 2>&1; then
        skip "dockerd already answers on $DOCKER_SOCK"
        return
    fi
    mkdir -p /run/stacklab "$CACHE/docker"
    # No bridge and no iptables: sandboxes run without a network (--network none).
    dockerd --host "$DOCKER_HOST" --data-root "$CACHE/docker" --exec-root /run/stacklab/docker \
        --pidfile /run/stacklab/docker.pid --bridge none --iptables=false --ip-masq=false \
        > "$CACHE/dockerd.log" 2>&1 &
    for _ in $(seq 1 100); do
        docker info >/dev/null 2>&1 && { say "dockerd started (log: $CACHE/dockerd.log)"; return; }
        sleep 0.2
    done
    echo "dockerd did not start; see $CACHE/dockerd.log" >&2
    tail -20 "$CACHE/dockerd.log" >&2
    return 1
}
dockerd_stop() {
    if [ -f /run/stacklab/docker.pid ]; then
        kill "$(cat /run/stacklab/docker.pid)" 2>/dev/null || true
        for _ in $(seq 1 50); do [ -f /run/stacklab/docker.pid ] || break; sleep 0.2; done
    fi
}
# A second dockerd, with user-namespace remapping, for the Docker backend's tests: a sandbox's
# root is then an unprivileged host uid (Docker's standard `dockremap` user, which dockerd adds
# the first time). Its data root is outside /root, which the remapped root cannot traverse.
DOCKER_USERNS_SOCK=/run/stacklab/docker-userns.sock
DOCKER_USERNS_OURS=0
dockerd_userns_start() {
    if DOCKER_HOST="unix://$DOCKER_USERNS_SOCK" docker info >/dev/null 2>&1; then
        skip "dockerd (userns-remap) already answers on $DOCKER_USERNS_SOCK (left running after)"
        return
    fi
    DOCKER_USERNS_OURS=1
    mkdir -p /run/stacklab /var/lib/stacklab/docker-userns
    dockerd --host "unix://$DOCKER_USERNS_SOCK" --data-root /var/lib/stacklab/docker-userns \
        --exec-root /run/stacklab/docker-userns --pidfile /run/stacklab/docker-userns.pid \
        --userns-remap=default --bridge none --iptables=false --ip-masq=false \
        > "$CACHE/dockerd-userns.log" 2>&1 &
    for _ in $(seq 1 100); do
        DOCKER_HOST="unix://$DOCKER_USERNS_SOCK" docker info >/dev/null 2>&1 && { say "dockerd (userns-remap) started"; return; }
        sleep 0.2
    done
    echo "dockerd (userns-remap) did not start; see $CACHE/dockerd-userns.log" >&2
    tail -20 "$CACHE/dockerd-userns.log" >&2
    return 1
}
# Stops the userns dockerd if dockerd_userns_start started it.
dockerd_userns_stop() {
    if [ "$DOCKER_USERNS_OURS" = 1 ] && [ -f /run/stacklab/docker-userns.pid ]; then
        kill "$(cat /run/stacklab/docker-userns.pid)" 2>/dev/null || true
        for _ in $(seq 1 50); do [ -f /run/stacklab/docker-userns.pid ] || break; sleep 0.2; done
    fi
}
# postgres_start: a throwaway PostgreSQL (Debian's postgresql-15) for the store's tests, in a
# fresh directory, listening on loopback only, trusting local connections; sets
# STACKLAB_TEST_POSTGRES to its URL. postgres_stop ends it and deletes its data.
POSTGRES_PORT=55432
postgres_start() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -x "$bin/initdb" ] || { echo "PostgreSQL is not installed (scripts/install --test installs it)" >&2; return 1; }
    POSTGRES_DIR=$(mktemp -d /tmp/stacklab-postgres.XXXXXX)
    chown postgres: "$POSTGRES_DIR"
    # initdb and postgres refuse to run as root: the package's own user runs them.
    runuser -u postgres -- "$bin/initdb" -D "$POSTGRES_DIR/data" --auth=trust -U postgres >"$POSTGRES_DIR/initdb.log" 2>&1 \
        || { cat "$POSTGRES_DIR/initdb.log" >&2; return 1; }
    runuser -u postgres -- "$bin/pg_ctl" -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $POSTGRES_PORT -k $POSTGRES_DIR -c fsync=on" start >/dev/null \
        || { tail -20 "$POSTGRES_DIR/postgres.log" >&2; return 1; }
    export STACKLAB_TEST_POSTGRES="postgres://postgres@127.0.0.1:$POSTGRES_PORT/postgres" STACKLAB_REQUIRE_POSTGRES=1
    say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$POSTGRES_PORT"
    POSTGRES_BIN=$bin
}
postgres_stop() {
    [ -n "${POSTGRES_DIR:-}" ] || return 0
    runuser -u postgres -- "$POSTGRES_BIN/pg_ctl" -D "$POSTGRES_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$POSTGRES_DIR"
    POSTGRES_DIR=
}

# lab_recipe_hash: the built lab image's recipe hash (its image.json), which names its copies.
lab_recipe_hash() {
    sed -n 's/.*"recipe_hash": "\(.*\)".*/\1/p' "$STACKLAB_IMAGE/image.json"
}

# docker_lab_image: imports the lab image's rootfs into dockerd as stacklab/lab:<recipe hash>.
docker_lab_image() {
    local hash tag
    hash=$(lab_recipe_hash)
    tag="stacklab/lab:$hash"
    if docker image inspect "$tag" >/dev/null 2>&1; then
        skip "docker image $tag present"
    else
        tar -C "$STACKLAB_IMAGE/rootfs" -c . | docker import - "$tag" >/dev/null
        say "imported $tag"
    fi
    export STACKLAB_DOCKER_IMAGE="$tag"
}

# Builds the book and checks every link in it (between pages, to anchors, to images) and in the
# README, offline; a broken one fails. Both are copied where LinkChecker, as nobody, can read them.
book_check() {
    local out
    out=$(mktemp -d /tmp/stacklab-book.XXXXXX)
    chmod 755 "$out"
    mdbook build "$ROOT/docs" --dest-dir "$out/book"
    mkdir -p "$out/repo/docs"
    cp -r "$ROOT/README.md" "$ROOT/SECURITY.md" "$out/repo/"
    cp -r "$ROOT/docs/src" "$out/repo/docs/"
    chmod -R a+rX "$out"
    local status=0
    "$LINKCHECKER_VENV/bin/linkchecker" --config "$ROOT/docs/linkcheckerrc" --no-status \
        "$out/book/index.html" "$out/repo/README.md" || status=$?
    rm -rf "$out"
    return "$status"
}

# pod_image_archive: the lab image as a docker-archive tar (what `ctr images import` reads), for
# the Kubernetes backend's self-test on the test cluster, which has no registry to pull from.
# Made once per image recipe; exports STACKLAB_POD_IMAGE_ARCHIVE.
pod_image_archive() {
    local hash out
    hash=$(lab_recipe_hash)
    out="$CACHE/pod-image/lab-$hash.tar"
    if [ -f "$out.name" ]; then
        skip "the lab image as a pod image ($hash) present"
    else
        rm -rf "$CACHE/pod-image" && mkdir -p "$CACHE/pod-image"
        python3 "$ROOT/sandbox/image/files/oci-archive.py" "$STACKLAB_IMAGE/rootfs" "$out" \
            "localhost/stacklab-lab:$hash" '["/usr/bin/catatonit", "-P"]' null
        say "packed $(du -h "$out" | cut -f1) as localhost/stacklab-lab:$hash"
    fi
    export STACKLAB_POD_IMAGE_ARCHIVE="$out"
}

# npm_install DIR: `npm ci` unless node_modules already matches package-lock.json.
npm_install() {
    local dir="$1" key
    key=$(hash_files "$dir/package-lock.json")
    if [ -d "$dir/node_modules" ] && stamp_ok "npm-$(echo "$dir" | sha256sum | cut -c1-8)" "$key"; then
        skip "npm packages in ${dir#$ROOT/} up to date"
        return
    fi
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    stamp_set "npm-$(echo "$dir" | sha256sum | cut -c1-8)" "$key"
}

# serve_release ARGS...: runs the release build's `stacklab serve` with the embedded defaults
# (scripts/run). The defaults go through the environment, so an --addr or --data-dir among ARGS
# overrides them instead of being given twice (clap refuses a flag given twice).
serve_release() {
    export STACKLAB_ADDR="${STACKLAB_ADDR:-0.0.0.0:3000}" STACKLAB_DATA_DIR="${STACKLAB_DATA_DIR:-/var/lib/stacklab}"
    local addr=$STACKLAB_ADDR i j
    for ((i = 1; i <= $#; i++)); do
        case "${!i}" in
            --addr) j=$((i + 1)); addr=${!j:-$addr} ;;
            --addr=*) addr=${!i#--addr=} ;;
        esac
    done
    printf '\nServing on http://%s (Ctrl-C stops)\n' "${addr/0.0.0.0/localhost}"
    exec "$CARGO_TARGET_DIR/release/stacklab" serve "$@"
}
