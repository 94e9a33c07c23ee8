# Test hosts: real Debian hosts with systemd as init (so cgroup v2 is set up exactly as systemd
# sets it up on a server), booted under QEMU, with the suites run inside them. Sourced by
# scripts/test (the Debian 13 guest) and scripts/test-hosts (the whole matrix), after lib.sh.
#
# Three disks per guest, all virtio (faster than 9p under TCG, and no daemon to run):
#   vda  the host's root: debootstrap of the release with its own kernel, made once per
#        release (cached), used through a throwaway qcow2 overlay so every run starts clean;
#   vdb  the payload: the binaries under test, the content, the units, the runner (each run);
#   vdc  the lab image, read-only (made once per image recipe).
# The runner (scripts/guest/run) prints its phases on the serial console and powers off; the
# console goes to a log the host reads.

GUESTS="$CACHE/hosts"
GUEST_MIRROR="${STACKLAB_GUEST_MIRROR:-http://deb.debian.org/debian}"
# What a minimal Debian host needs here, beyond minbase: systemd as init, its kernel, and the
# tools the server uses (mkfs.ext4, nsenter, ip, iptables); python3 is the network suite's
# stand-in for the outside world.
GUEST_PACKAGES=systemd,systemd-sysv,udev,dbus,linux-image-amd64,e2fsprogs,util-linux,iproute2,procps,kmod,iptables,ca-certificates,python3

# guest_root NAME SUITE [EXTRA_SUITES]: a bootable root disk of Debian SUITE in
# $GUESTS/NAME/root.img, with its kernel and initrd beside it. EXTRA_SUITES (comma-separated,
# e.g. bookworm-updates,bookworm-security) are added and upgraded from: bookworm's current
# kernel comes from bookworm-security.
guest_root() {
    local name="$1" suite="$2" extra="${3:-}" dir="$GUESTS/$1" key
    key=$(printf '%s\n' "$suite" "$extra" "$GUEST_PACKAGES" "$GUEST_MIRROR" "$(hash_files "$ROOT"/scripts/guest/{boot,stacklab-guest.service})" | sha256sum | cut -c1-16)
    if [ -f "$dir/root.img" ] && stamp_ok "guest-$name" "$key"; then
        skip "Debian $suite root disk ($name) up to date"
        return
    fi
    rm -rf "$dir" && mkdir -p "$dir" "$GUESTS/debs"
    local tree="$dir/tree"
    # The packages are kept between builds (debootstrap's own cache).
    debootstrap --variant=minbase --include="$GUEST_PACKAGES" --cache-dir="$GUESTS/debs" \
        "$suite" "$tree" "$GUEST_MIRROR" > "$dir/debootstrap.log" 2>&1 \
        || { tail -20 "$dir/debootstrap.log" >&2; return 1; }
    if [ -n "$extra" ]; then
        # apt's sources anew: the release and the extra suites (security ones from their own
        # archive), so the upgrade below brings the kernel operators run.
        rm -f "$tree/etc/apt/sources.list"
        local sources="$tree/etc/apt/sources.list.d/debian.sources" s
        printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "$GUEST_MIRROR" "$suite $(tr ',' '\n' <<<"$extra" | grep -v -- '-security$' | tr '\n' ' ')" > "$sources"
        for s in $(tr ',' '\n' <<<"$extra" | grep -- '-security$'); do
            printf '\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
                "$s" >> "$sources"
        done
        chroot "$tree" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -y -qq full-upgrade' > "$dir/upgrade.log" 2>&1 \
            || { tail -20 "$dir/upgrade.log" >&2; return 1; }
        # Only the newest kernel stays: it is the one booted.
        local old
        for old in $(ls "$tree/boot" | sed -n 's/^vmlinuz-//p' | sort -V | head -n -1); do
            chroot "$tree" apt-get -y -qq purge "linux-image-$old" > /dev/null 2>&1 || true
        done
        chroot "$tree" apt-get clean
    fi
    echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" > "$tree/etc/fstab"
    echo "$name" > "$tree/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$name" > "$tree/etc/hosts"
    # Nobody logs in: the runner is the only thing on the console.
    chroot "$tree" systemctl mask serial-getty@ttyS0.service getty@tty1.service > /dev/null 2>&1
    install -D -m 755 "$ROOT/scripts/guest/boot" "$tree/usr/local/sbin/stacklab-guest-boot"
    install -D -m 644 "$ROOT/scripts/guest/stacklab-guest.service" "$tree/etc/systemd/system/stacklab-guest.service"
    chroot "$tree" systemctl enable stacklab-guest.service > /dev/null 2>&1
    cp "$tree"/boot/vmlinuz-* "$dir/vmlinuz"
    cp "$tree"/boot/initrd.img-* "$dir/initrd.img"
    ls "$tree/boot" | sed -n 's/^vmlinuz-//p' > "$dir/kernel"
    mkfs.ext4 -q -F -L root -d "$tree" "$dir/root.img" 8G
    rm -rf "$tree"
    stamp_set "guest-$name" "$key"
    say "Debian $suite with Linux $(cat "$dir/kernel") in ${dir#$HOME/}"
}

# guest_lab_disk: the lab image as a disk (read-only in the guest), once per image recipe.
guest_lab_disk() {
    local hash out
    hash=$(lab_recipe_hash)
    out="$GUESTS/lab-$hash.img"
    GUEST_LAB_DISK="$out"
    if [ -f "$out" ]; then
        skip "the lab image as a disk ($hash) present"
        return
    fi
    rm -f "$GUESTS"/lab-*.img
    local size
    size=$(du -sm "$STACKLAB_IMAGE" | cut -f1)
    mkfs.ext4 -q -F -L lab -d "$STACKLAB_IMAGE" "$out.part" "$((size * 13 / 10 + 256))M"
    mv "$out.part" "$out"
    say "the lab image as a disk: $(du -h --apparent-size "$out" | cut -f1)"
}

# guest_payload DIR SUITES...: what the guest runs, on a disk of its own ($DIR/payload.img): the
# debug binaries (without their debug info), the test binaries of SUITES (sandbox tests by
# name), the content and site, the systemd units, and the runner.
guest_payload() {
    local dir="$1"
    shift
    local stage="$dir/payload"
    rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/tests" "$stage/share"
    local bin
    for bin in stacklab stacklab-sandbox-helper crictl stacklab-bench; do
        objcopy --strip-debug "$CARGO_TARGET_DIR/debug/$bin" "$stage/bin/$bin"
    done
    local suite exe
    for suite in "$@"; do
        exe=$(test_binary sandbox "$suite")
        [ -x "$exe" ] || { echo "no test binary for sandbox/tests/$suite.rs" >&2; return 1; }
        objcopy --strip-debug "$exe" "$stage/tests/$suite"
    done
    cp -r "$ROOT/labs/workshop" "$stage/share/workshop"
    cp -r "$SITE" "$stage/share/site"
    cp "$ROOT"/deploy/*.service "$stage/share/"
    cp "$ROOT/scripts/guest/run" "$stage/run"
    # The test binaries look for the helper where cargo built it (a path compiled in).
    printf 'CARGO_TARGET_DIR=%q\n' "$CARGO_TARGET_DIR" > "$stage/env"
    local size
    size=$(du -sm "$stage" | cut -f1)
    mkfs.ext4 -q -F -L payload -d "$stage" "$dir/payload.img" "$((size * 13 / 10 + 256))M"
    rm -rf "$stage"
}

# guest_run NAME DIR PLAN: boots guest NAME with the payload in DIR, the runner doing PLAN
# (words: suites, labs, service, class; see scripts/guest/run), its console in $DIR/console.log.
# KVM where the host's own probe says it boots guests, TCG otherwise. True when every phase passed.
guest_run() {
    local name="$1" dir="$2" plan="$3" base="$GUESTS/$1"
    qemu-img create -q -f qcow2 -F raw -b "$base/root.img" "$dir/root.qcow2"
    local accel="tcg,thread=multi" cpu=max
    if [ "${STACKLAB_GUEST_KVM:-0}" = 1 ]; then
        accel=kvm cpu=host
    fi
    local timeout="${STACKLAB_GUEST_TIMEOUT:-3600}"
    # There before `tail` below looks for it: the redirection happens in the background job,
    # which may come second (then tail gave up and the console went unshown).
    : > "$dir/console.log"
    # The plan reaches the runner on the kernel's command line (the runner reads /proc/cmdline).
    timeout --foreground "$timeout" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -smp "${STACKLAB_GUEST_CPUS:-2}" \
        -m "${STACKLAB_GUEST_MEMORY:-6G}" -nographic -no-reboot -nic none \
        -kernel "$base/vmlinuz" -initrd "$base/initrd.img" \
        -append "root=/dev/vda rw console=ttyS0 quiet stacklab.plan=${plan// /,}" \
        -drive "file=$dir/root.qcow2,format=qcow2,if=virtio,cache=unsafe" \
        -drive "file=$dir/payload.img,format=raw,if=virtio,cache=unsafe" \
        -drive "file=$GUEST_LAB_DISK,format=raw,if=virtio,readonly=on" \
        < /dev/null >> "$dir/console.log" 2>&1 &
    local qemu=$!
    # The console as it comes, less the firmware's screen control codes.
    tail -n +1 -f "$dir/console.log" --pid "$qemu" | sed -u 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' | grep -a --line-buffered -v '^\s*$' | sed -u 's/^/    │ /' &
    local follow=$!
    wait "$qemu" || true
    wait "$follow" 2>/dev/null || true
    rm -f "$dir/root.qcow2"
    grep -aq '^STACKLAB-GUEST: PASS' "$dir/console.log"
}

# guest_phases DIR: the runner's phase lines ("name: seconds"), for the summary.
guest_phases() {
    sed -n 's/^STACKLAB-PHASE: //p' "$1/console.log" | tr -d '\r'
}
