#!/usr/bin/env bash
# The kiosk's SD-card image for the Raspberry Pi 4 and 5, from Debian's own arm64 packages
# (no Raspberry Pi archive): the way Debian's raspi images are made (raspi3-image-spec), a
# FAT boot partition (label RASPIFIRM: firmware, kernel, initrd, config.txt, cmdline.txt,
# kiosk-site.conf.example) and an ext4 root (label RASPIROOT). Run as root:
#
#   scripts/image.sh build    build/kiosk-arm64.img, .img.xz and .img.xz.sha256
#   scripts/image.sh tools    only install (or name) the host's tools
#
# Steps, each timed:
#   root       a Bookworm arm64 root in build/image/root, kept for the next build: a copy
#              (cp -a) of the part-1 root of `make test-arm64` (KIOSK_IMAGE_BASE, default
#              build/arm64/root; never modified) with its test venv and site state removed,
#              or, without one (or KIOSK_IMAGE_BASE=debootstrap), debootstrap of its own
#   boot       linux-image-arm64, raspi-firmware (non-free-firmware), the Pi's Wi-Fi
#              firmware, NetworkManager, initramfs-tools
#   install    provisioning/install.sh --root ... --base-only --standin-pi-packages
#   system     fstab by LABEL, hostname, an empty machine-id (first boot makes one)
#   partitions mkfs.vfat + mcopy, mkfs.ext4 -d, sfdisk, dd conv=notrunc: no loop device
#              and no mount at all
#   compress   xz -T2, then the SHA-256 beside it
#
# Nothing is downloaded but Debian packages and the kiosk's locked Python wheels. Every
# chroot runs in a mount namespace of its own (unshare), so nothing stays mounted.
#
# Environment: KIOSK_IMAGE_BASE (a root to copy, or "debootstrap"), KIOSK_IMAGE_XZ_LEVEL
# (default 6), KIOSK_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO
readonly WORK="$REPO/build/image"
readonly ROOT="$WORK/root"
readonly IMAGE="$REPO/build/kiosk-arm64.img"
readonly BASE="${KIOSK_IMAGE_BASE:-$REPO/build/arm64/root}"
readonly MIRROR="${KIOSK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly XZ_LEVEL="${KIOSK_IMAGE_XZ_LEVEL:-6}"
readonly INCLUDE=systemd,systemd-sysv,udev,dbus,ca-certificates,passwd,login
readonly BOOT_LABEL=RASPIFIRM ROOT_LABEL=RASPIROOT
readonly BOOT_MIB=512 FIRST_SECTOR=8192
# Room on the root for the journal, the database and a few updates; a Pi's SD card is
# larger, and the partition can be grown after flashing (README, "Debian's own packages").
readonly ROOT_SPARE_MIB=1024
readonly BOOT_PACKAGES=(linux-image-arm64 raspi-firmware firmware-brcm80211 wireless-regdb
    initramfs-tools busybox network-manager overlayroot)
readonly HOST_PACKAGES=(qemu-user-static binfmt-support debootstrap qemu-system-arm mtools
    fdisk dosfstools e2fsprogs xz-utils)

readonly STEP_NAME=image
# shellcheck source-path=SCRIPTDIR source=lib/steps.sh
source "$REPO/scripts/lib/steps.sh"
# listing_can_overlay: what the read-only root needs in the initramfs, as install.sh checks it.
# shellcheck source-path=SCRIPTDIR source=../provisioning/read-only-root.sh
source "$REPO/provisioning/read-only-root.sh"

host_tools() {
    local -a missing=()
    command -v qemu-system-aarch64 >/dev/null || missing+=(qemu-system-arm)
    command -v mcopy >/dev/null || missing+=(mtools)
    command -v sfdisk >/dev/null || missing+=(fdisk)
    command -v mkfs.vfat >/dev/null || missing+=(dosfstools)
    command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
    command -v xz >/dev/null || missing+=(xz-utils)
    install_missing "${missing[@]}"
    # qemu-user-static, binfmt-support and debootstrap, and binfmt_misc, as part 1 does.
    "$REPO/scripts/arm64-root.sh" tools
}

# in_root CMD...: CMD in the image's root (arm64-root.sh's chroot in a mount namespace).
in_root() { KIOSK_ARM64_ROOT="$ROOT" "$REPO/scripts/arm64-root.sh" run "$@"; }

# --- the root ---------------------------------------------------------------------------

debootstrap_root() {
    local work="$ROOT.partial"
    rm -rf "$work"
    say "debootstrap bookworm arm64 into $ROOT"
    debootstrap --arch=arm64 --variant=minbase --include="$INCLUDE" bookworm "$work" "$MIRROR" \
        >"$WORK/debootstrap.log" 2>&1 ||
        die "debootstrap failed: see $WORK/debootstrap.log ($(tail -n1 "$WORK/debootstrap.log"))"
    mv "$work" "$ROOT"
}

# The part-1 root was provisioned for tests: its site (kiosk.toml, keys, database), its test
# venv and the test-only packages must not reach a kiosk.
copy_root() {
    local work="$ROOT.partial"
    rm -rf "$work"
    say "copying $BASE (the part-1 root; left as it is)"
    cp -a "$BASE" "$work"
    rm -rf "$work/opt/kiosk-test" "$work/etc/kiosk" "$work/var/cache/kiosk-pip"
    local sub
    for sub in data keys backups provisioning; do
        rm -rf "${work:?}/var/lib/kiosk/$sub"
    done
    rm -f "$work/.kiosk-debootstrap-done"
    mv "$work" "$ROOT"
    in_root /bin/sh -ec 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq fonts-ocr-b \
        tesseract-ocr >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get autoremove --purge -y -qq >/dev/null'
}

make_root() {
    [[ -f "$ROOT/.kiosk-image-root" ]] && { say "root kept from an earlier build: $ROOT"; return 0; }
    rm -rf "$ROOT"
    mkdir -p "$WORK"
    if [[ "$BASE" != debootstrap && -x "$BASE/usr/bin/apt-get" ]]; then
        copy_root
        printf 'copy of %s\n' "$BASE" >"$ROOT/.kiosk-image-root"
    else
        debootstrap_root
        printf 'debootstrap %s\n' "$MIRROR" >"$ROOT/.kiosk-image-root"
    fi
}

# --- Debian's boot packages -------------------------------------------------------------

sources_list() {
    printf 'deb %s bookworm main non-free-firmware\n' "$MIRROR"
    printf 'deb %s bookworm-updates main non-free-firmware\n' "$MIRROR"
    printf 'deb http://security.debian.org/debian-security bookworm-security main non-free-firmware\n'
}

boot_packages() {
    sources_list >"$ROOT/etc/apt/sources.list"
    local missing
    # shellcheck disable=SC2016  # expanded by the inner shell
    missing="$(in_root /bin/sh -c 'for p in "$@"; do
        dpkg-query -W -f="\${db:Status-Abbrev}" "$p" 2>/dev/null | grep -q "^ii" || echo "$p"
        done' check "${BOOT_PACKAGES[@]}")"
    if [[ -n "$missing" ]]; then
        say "installing $(echo "$missing" | tr '\n' ' ')(the initramfs under qemu-user takes minutes)"
        # shellcheck disable=SC2086  # one package a word
        in_root /bin/sh -ec 'export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef \
                -o Dpkg::Options::=--force-confold "$@" >/dev/null
            apt-get clean' install $missing
    fi
    # raspi-firmware's kernel hook fills /boot/firmware (firmware, device trees, kernel,
    # initrd, config.txt) and writes cmdline.txt from these, as raspi3-image-spec sets
    # them: the root by label, the serial console and the screen; CMA=0 leaves cma= out,
    # as the hook does itself on a Pi 4 (a Pi 4 does not boot with cma=64M); no console
    # blanking (install.sh checks it). Run at every build: it only rewrites those files.
    printf '%s\n' "# Written by scripts/image.sh (raspi-firmware writes cmdline.txt from it)." \
        "ROOTPART=LABEL=$ROOT_LABEL" 'CONSOLES="serial0,115200 tty1"' 'CMA=0' \
        >"$ROOT/etc/default/raspi-firmware"
    printf 'consoleblank=0\n' >"$ROOT/etc/default/raspi-extra-cmdline"
    in_root /usr/bin/env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware
    local kernel initrd
    kernel="$(sed -n 's/^kernel=//p' "$ROOT/boot/firmware/config.txt")"
    initrd="$(sed -n 's/^initramfs \([^ ]*\).*/\1/p' "$ROOT/boot/firmware/config.txt")"
    [[ -n "$kernel" && -f "$ROOT/boot/firmware/$kernel" && -n "$initrd" &&
        -f "$ROOT/boot/firmware/$initrd" ]] ||
        die "raspi-firmware left no kernel or initrd in /boot/firmware (config.txt: kernel=$kernel, initramfs $initrd)"
    # READ_ONLY_ROOT=yes relies on both: overlayroot's script, and busybox for the grep it
    # calls (without it the overlay silently fails at boot and the root stays writable).
    in_root /usr/bin/lsinitramfs "/boot/firmware/$initrd" | listing_can_overlay ||
        die "the initramfs $initrd lacks overlayroot's script or busybox: READ_ONLY_ROOT=yes would not work"
    grep -q "root=LABEL=$ROOT_LABEL" "$ROOT/boot/firmware/cmdline.txt" ||
        die "cmdline.txt does not name the root by label: $(cat "$ROOT/boot/firmware/cmdline.txt")"
    # The kiosk's settings file, for the admin to fill in after flashing.
    install -m 644 "$REPO/provisioning/site.conf.example" "$ROOT/boot/firmware/kiosk-site.conf.example"
}

provision() {
    # shellcheck disable=SC2016  # expanded by the inner shell, from its arguments
    unshare --mount --propagation private -- /bin/sh -euc '
        root="$1"; shift
        trust=/etc/ssl/certs/ca-certificates.crt
        if [ -f "$trust" ] && [ -f "$root$trust" ]; then mount --bind "$trust" "$root$trust"; fi
        exec "$@"' provision "$ROOT" "$REPO/provisioning/install.sh" --root "$ROOT" \
        --source "$REPO" --site-config "$REPO/provisioning/site.conf.example" --base-only \
        --standin-pi-packages
}

system_files() {
    cat >"$ROOT/etc/fstab" <<EOF
# Written by scripts/image.sh: the partitions by label, as Debian's raspi images do.
LABEL=$ROOT_LABEL / ext4 rw,noatime,errors=remount-ro 0 1
LABEL=$BOOT_LABEL /boot/firmware vfat rw,noatime,umask=0022,errors=remount-ro 0 2
EOF
    printf 'kiosk\n' >"$ROOT/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\tkiosk\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
        >"$ROOT/etc/hosts"
    # Empty: systemd makes a machine id of its own at first boot, one per kiosk.
    : >"$ROOT/etc/machine-id"
    # That first boot would otherwise ask on the console for a locale, a time zone and a
    # root password (systemd-firstboot), and wait for an answer nobody gives.
    ln -sfn /dev/null "$ROOT/etc/systemd/system/systemd-firstboot.service"
    rm -f "$ROOT/var/lib/dbus/machine-id"
    rm -rf "$ROOT/var/cache/apt/archives/"*.deb "$ROOT/var/lib/apt/lists/"*_Packages \
        "$ROOT/tmp/"* "$ROOT/var/tmp/"*
}

# --- the image, without loop devices ----------------------------------------------------

mib() { du -s --block-size=1M --apparent-size "$@" | awk '{s+=$1} END {print s}'; }

partitions() {
    local boot_img="$WORK/boot.vfat" root_img="$WORK/root.ext4" aside="$WORK/firmware-aside"
    local used root_mib total_mib boot_start root_start
    rm -f "$boot_img" "$root_img" "$IMAGE"
    mkfs.vfat -n "$BOOT_LABEL" -F 32 -C "$boot_img" $((BOOT_MIB * 1024)) >/dev/null
    mcopy -s -p -m -i "$boot_img" "$ROOT/boot/firmware/"* ::
    # The boot partition's files leave the root while mkfs.ext4 -d reads it (that folder is
    # their mount point); owners, modes, links and extended attributes (file capabilities)
    # are copied as they are.
    rm -rf "$aside"
    mv "$ROOT/boot/firmware" "$aside"
    mkdir -m 755 "$ROOT/boot/firmware"
    used="$(mib "$ROOT")"
    root_mib=$((used + used / 5 + ROOT_SPARE_MIB))
    local status=0
    mkfs.ext4 -q -F -L "$ROOT_LABEL" -d "$ROOT" "$root_img" "${root_mib}M" || status=$?
    rmdir "$ROOT/boot/firmware"
    mv "$aside" "$ROOT/boot/firmware"
    [[ $status -eq 0 ]] || die "mkfs.ext4 -d $ROOT failed"
    boot_start=$FIRST_SECTOR
    root_start=$((boot_start + BOOT_MIB * 2048))
    total_mib=$((root_start / 2048 + root_mib + 1))
    truncate -s "${total_mib}M" "$IMAGE"
    sfdisk --quiet "$IMAGE" <<EOF
label: dos
start=$boot_start, size=$((BOOT_MIB * 2048)), type=c, bootable
start=$root_start, size=$((root_mib * 2048)), type=83
EOF
    dd if="$boot_img" of="$IMAGE" bs=1M seek=$((boot_start / 2048)) conv=notrunc,sparse status=none
    dd if="$root_img" of="$IMAGE" bs=1M seek=$((root_start / 2048)) conv=notrunc,sparse status=none
    rm -f "$boot_img" "$root_img"
    say "$IMAGE: $total_mib MiB (root $root_mib MiB, $used MiB used; boot $BOOT_MIB MiB)"
}

compress() {
    rm -f "$IMAGE.xz" "$IMAGE.xz.sha256"
    xz -T2 -"$XZ_LEVEL" -k "$IMAGE"
    (cd "$(dirname "$IMAGE")" && sha256sum "$(basename "$IMAGE").xz" >"$(basename "$IMAGE").xz.sha256")
}

build() {
    [[ "$(id -u)" -eq 0 ]] || die "run as root (debootstrap, chroot, file owners in the root)"
    local start
    start=$(date +%s)
    timed "host tools" host_tools
    timed "root ($ROOT)" make_root
    say "root from: $(cat "$ROOT/.kiosk-image-root")"
    timed "boot packages (${BOOT_PACKAGES[*]})" boot_packages
    timed "install.sh --root --base-only" provision
    timed "system files" system_files
    timed "partitions (mkfs.vfat, mkfs.ext4 -d, sfdisk, dd)" partitions
    timed "xz -T2 -$XZ_LEVEL" compress
    say "raw $(du -h --apparent-size "$IMAGE" | cut -f1)B, on disk $(du -h "$IMAGE" | cut -f1)B;" \
        "xz $(du -h "$IMAGE.xz" | cut -f1)B ($(stat -c %s "$IMAGE.xz") bytes)"
    say "image built in $(($(date +%s) - start)) s: $IMAGE.xz, $IMAGE.xz.sha256"
}

case "${1:-}" in
    build) build ;;
    tools) host_tools ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
esac
