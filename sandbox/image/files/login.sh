#!/bin/sh
# Runs inside the image being built (chroot): a login shell that starts without forking. Every
# terminal a learner opens is a login bash; Debian's /etc/profile asks `id -u` (a fork and an
# exec) where bash already knows $EUID, and root's ~/.profile runs `mesg n`, which in a sandbox
# only fails (nobody else writes to its terminals). A dash login shell still asks `id`.
set -eu
sed -i 's/"$(id -u)"/"${EUID:-$(id -u)}"/g' /etc/profile
grep -q 'EUID:-' /etc/profile
sed -i '/^mesg n/d' /root/.profile
if grep -q '^mesg' /root/.profile; then exit 1; fi
