#!/bin/sh
# Runs inside the image being built (chroot), after its packages and files: puts the guest's
# kernel and initramfs where lab-vm boots them from, /usr/lib/lab-vm/{vmlinuz,initrd.gz}.
set -eu
guest=/usr/lib/lab-vm
work=$(mktemp -d)

# The kernel: Debian's cloud kernel (virtio and the serial console built in, small), taken
# out of its package; no modules are needed for a busybox userland in RAM.
kernel=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$kernel" ] || { echo "build-guest: no linux-image-cloud-amd64 in the package lists" >&2; exit 1; }
(cd "$work" && apt-get download -q "$kernel")
dpkg-deb -x "$work"/"$kernel"_*.deb "$work/kernel"
install -D -m 0644 "$work"/kernel/boot/vmlinuz-* "$guest/vmlinuz"
echo "$kernel" > "$guest/kernel-version"

# The initramfs: static busybox and its applets, busybox init, the agent.
root="$work/initramfs"
mkdir -p "$root/bin" "$root/sbin" "$root/etc/init.d" "$root/proc" "$root/sys" "$root/dev" "$root/root" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
chroot "$root" /bin/busybox --install -s
ln -s bin/busybox "$root/init"
install -m 0644 "$guest/guest/inittab" "$root/etc/inittab"
install -m 0755 "$guest/guest/rcS" "$root/etc/init.d/rcS"
install -m 0755 "$guest/guest/lab-agent" "$root/sbin/lab-agent"
install -m 0644 "$guest/guest/profile" "$root/etc/profile"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) > "$guest/initrd.gz"
rm -rf "$work"
