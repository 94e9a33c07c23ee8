#!/bin/sh
# Runs inside the image being built (chroot), after its packages and files: the images the
# cluster tier's labs use, made from what is in the image, so no registry is ever needed —
#   localhost/pause:3.4    Kubernetes' own pause program (built with the Kubernetes binaries)
#   localhost/busybox:1.0  busybox-static and its applets
#   localhost/web:1.0      the same, serving a page with busybox httpd on port 80
# Each is a docker-archive tar in /usr/lib/lab-cluster/images, imported into containerd by
# lab-cluster start. Without the Kubernetes binaries (no cluster tier) there is nothing to do.
set -eu
k8s=/usr/local/lib/kubernetes/bin
out=/usr/lib/lab-cluster/images
[ -x "$k8s/pause" ] || { echo "build-cluster: no Kubernetes in this image; no cluster images"; exit 0; }
mkdir -p "$out"
work=$(mktemp -d)

mkdir -p "$work/pause"
cp "$k8s/pause" "$work/pause/pause"

busybox_root() {
    mkdir -p "$1/bin" "$1/sbin" "$1/usr/bin" "$1/usr/sbin" "$1/tmp" "$1/root" "$1/etc"
    cp /bin/busybox "$1/bin/busybox"
    chroot "$1" /bin/busybox --install -s
    echo "root:x:0:0:root:/root:/bin/sh" > "$1/etc/passwd"
    echo "root:x:0:" > "$1/etc/group"
}
busybox_root "$work/busybox"
busybox_root "$work/web"
mkdir -p "$work/web/www"
cat > "$work/web/www/index.html" <<'HTML'
<!doctype html><title>web</title><h1>Hello from a pod</h1><p>Served by busybox httpd in a container.</p>
HTML

python3 /usr/local/lib/stacklab/oci-archive.py "$work/pause" "$out/pause.tar" localhost/pause:3.4 '["/pause"]' 'null'
python3 /usr/local/lib/stacklab/oci-archive.py "$work/busybox" "$out/busybox.tar" localhost/busybox:1.0 'null' '["sh"]'
python3 /usr/local/lib/stacklab/oci-archive.py "$work/web" "$out/web.tar" localhost/web:1.0 'null' \
    '["sh", "-c", "echo web: serving /www on port 80; exec httpd -f -v -p 80 -h /www"]'
rm -rf "$work"
