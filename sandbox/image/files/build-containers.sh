#!/bin/sh
# Runs inside the image being built (chroot), after its packages and files: the base images the
# containers tier's labs build FROM, made here from Debian's packages so no registry is needed:
#   docker.io/library/debian:bookworm-slim       debootstrap's minbase, without docs, man pages
#                                                 and locales (what Docker Hub's -slim drops)
#   docker.io/library/golang:1.19-bookworm       that, plus Debian's Go 1.19 (a second layer),
#                                                 its standard library precompiled for CGO_ENABLED=0
#   gcr.io/distroless/static-debian12:nonroot    no shell, no package manager: users, CA
#                                                 certificates, /tmp; runs as nonroot (65532)
# They carry the upstream names so the workshop's Dockerfiles work unchanged offline; their
# labels say who built them. They go into a read-only image store that every sandbox's Podman
# lists as an additional store (/etc/containers/storage.conf): 30 learners share one copy.
set -eu
store=/usr/lib/containers/storage
mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list)
suite=bookworm
work=/var/tmp/build-containers
rm -rf "$work"
mkdir -p "$work"

# Podman reads /proc; mounts made here must not outlive the script, whatever happens.
cleanup() {
    for m in "$work/self/proc" "$work/self" "$work/go/root/proc" "$work/go/root/dev" "$work/go/root" /proc; do
        umount "$m" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
mount -t proc proc /proc

label='"Labels": {"org.opencontainers.image.vendor": "Stacklab", "org.opencontainers.image.description": "built by stacklab image build from Debian bookworm packages, not pulled from a registry"}'

echo "build-containers: debian:bookworm-slim (debootstrap minbase from $mirror)"
debootstrap --variant=minbase "$suite" "$work/slim" "$mirror" >/dev/null
# What Docker Hub's slim images leave out, and the dpkg rules that keep it out of later installs.
cat > "$work/slim/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
find "$work/slim/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
rm -rf "$work/slim/usr/share/man/"* "$work/slim/usr/share/info/"* "$work/slim/var/cache/apt/archives/"*.deb \
    "$work/slim/var/lib/apt/lists/"* "$work/slim/var/log/"*.log "$work/slim/var/cache/debconf/"*-old
find "$work/slim/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
# An image's /dev is the runtime's to fill.
rm -rf "$work/slim/dev/"*

echo "build-containers: golang:1.19-bookworm (Debian's golang-go on top, as a second layer)"
mkdir -p "$work/go/upper" "$work/go/work" "$work/go/root"
mount -t overlay overlay -o "lowerdir=$work/slim,upperdir=$work/go/upper,workdir=$work/go/work" "$work/go/root"
mount -t proc proc "$work/go/root/proc"
mount --bind /dev "$work/go/root/dev"
cp /etc/resolv.conf "$work/go/root/etc/resolv.conf"
chroot "$work/go/root" /bin/sh -eu -c '
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends golang-go ca-certificates >/dev/null
    # The standard library compiled once for static binaries, so every learner build does not.
    mkdir -p /go
    CGO_ENABLED=0 GOCACHE=/root/.cache/go-build GOPATH=/go go build std
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/log/*.log /var/cache/debconf/*-old
'
umount "$work/go/root/dev" "$work/go/root/proc" "$work/go/root"
# The mount points and the resolver are not part of the layer. Removed from the upper folder,
# not inside the mount: a removal there leaves a whiteout, and the layer must have none (see
# oci-archive.py).
rm -rf "$work/go/upper/dev" "$work/go/upper/proc" "$work/go/upper/etc/resolv.conf"

echo "build-containers: distroless/static-debian12:nonroot"
d="$work/distroless"
mkdir -p "$d/etc/ssl/certs" "$d/tmp" "$d/home/nonroot" "$d/root"
chmod 1777 "$d/tmp"
chmod 700 "$d/root"
chown 65532:65532 "$d/home/nonroot"
cp /etc/ssl/certs/ca-certificates.crt "$d/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$d/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' > "$d/etc/group"
echo 'hosts: files dns' > "$d/etc/nsswitch.conf"

pack=/usr/local/lib/stacklab/oci-archive.py
path='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'
python3 "$pack" "$work/slim" "$work/slim.tar" docker.io/library/debian:bookworm-slim 'null' '["bash"]' "{$label}"
python3 "$pack" "$work/slim:$work/go/upper" "$work/golang.tar" docker.io/library/golang:1.19-bookworm 'null' '["bash"]' \
    "{$label, \"Env\": [\"PATH=/go/bin:/usr/lib/go-1.19/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"GOPATH=/go\", \"GOLANG_VERSION=1.19\"], \"WorkingDir\": \"/go\"}"
python3 "$pack" "$d" "$work/distroless.tar" gcr.io/distroless/static-debian12:nonroot 'null' 'null' \
    "{$label, \"Env\": [$path, \"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\"], \"User\": \"65532\", \"WorkingDir\": \"/home/nonroot\"}"

# Podman unpacks layers after making "/" a private mount, which a plain chroot's "/" is not:
# it runs in a chroot of a bind mount of this root instead, where "/" is a mount.
rm -rf "$store"
mkdir -p "$work/self"
mount --bind / "$work/self"
mount -t proc proc "$work/self/proc"
podman="podman --root $store --runroot $work/run --storage-driver overlay --storage-opt overlay.skip_mount_home=true
    --events-backend none --cgroup-manager cgroupfs"
for image in slim golang distroless; do
    chroot "$work/self" $podman load --quiet --input "$work/$image.tar"
done
chroot "$work/self" $podman images --format 'build-containers: {{.Repository}}:{{.Tag}} {{.Size}}'
# Only images stay: the learner's Podman keeps its own state in its own store.
rm -rf "$store/libpod"
