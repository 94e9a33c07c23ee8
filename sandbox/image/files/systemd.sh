#!/bin/sh
# Runs inside the image being built (chroot), after its packages: systemd as it boots in a
# sandbox of the systemd tier. Packages enable their daemons when installed (containerd, etcd,
# Podman's socket, apt's timers, LVM's monitors); in a sandbox each would take memory from the
# learner and clash with the tiers that start them themselves (lab-cluster runs containerd and
# etcd). So nothing is enabled: the learner enables what a lab asks for, as on a fresh host.
set -eu
find /etc/systemd/system -path '*.wants/*' -type l -delete
find /etc/systemd/system -depth -type d -name '*.wants' -empty -delete
# Mounts a user namespace may not make (debugfs, tracefs, configfs): they would only fail and
# mark the boot "degraded".
for unit in sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount; do
    ln -sf /dev/null "/etc/systemd/system/$unit"
done
systemctl set-default multi-user.target
# Empty, so that each sandbox's systemd makes a machine id of its own at boot.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
