#!/bin/bash -e
# pi-gen: the kiosk's own step. It runs provisioning/install.sh inside the image, the very
# script an admin runs on a hand-installed Pi, with --base-only: everything but the site's
# settings, which come from kiosk-site.conf on the boot partition at first boot
# (kiosk-provision.service). KIOSK_SOURCE is the kiosk checkout, set in pi-gen's config.
: "${KIOSK_SOURCE:?set KIOSK_SOURCE in the pi-gen config to the kiosk checkout}"

install -d "${ROOTFS_DIR}/opt/kiosk"
rm -rf "${ROOTFS_DIR}/opt/kiosk/src"
mkdir -p "${ROOTFS_DIR}/opt/kiosk/src"
for part in pyproject.toml README.md kiosk requirements provisioning systemd; do
    cp -R "${KIOSK_SOURCE}/${part}" "${ROOTFS_DIR}/opt/kiosk/src/"
done
# The example site file, for the admin to fill in after flashing.
install -m 644 "${KIOSK_SOURCE}/provisioning/site.conf.example" \
    "${ROOTFS_DIR}/boot/firmware/kiosk-site.conf.example"
install -m 600 "${KIOSK_SOURCE}/provisioning/site.conf.example" \
    "${ROOTFS_DIR}/etc/kiosk-site.conf.build"

on_chroot <<'CHROOT'
/opt/kiosk/src/provisioning/install.sh --base-only --source /opt/kiosk/src \
    --site-config /etc/kiosk-site.conf.build
rm -f /etc/kiosk-site.conf.build
CHROOT
