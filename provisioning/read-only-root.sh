# shellcheck shell=bash
# The read-only root (READ_ONLY_ROOT=yes), sourced by install.sh: step_overlay and the
# refusal to install onto the overlay itself. Two systems, one result (an overlay over /,
# every write to the root kept in memory until the next boot, the data partition on
# /var/lib/kiosk a real read-write mount):
#   Raspberry Pi OS  raspi-config's enable_overlayfs (overlayroot=tmpfs in cmdline.txt)
#   Debian           the overlayroot package (Debian main, its initramfs-tools hook reads
#                    /etc/overlayroot.local.conf from the root at every boot)
# Uses install.sh's say, changed, die, ensure_file and package_installed.

readonly OVERLAYROOT_CONF=/etc/overlayroot.local.conf
readonly OVERLAYROOT_SCRIPT=scripts/init-bottom/overlayroot

# tmpfs: the upper layer is memory. recurse=0: only / is overlaid; overlayroot would
# otherwise put every other fstab mount under an overlay too, the data partition included,
# and the kiosk's database would be lost at every reboot.
overlayroot_conf() {
    printf '%s\n' "# Written by provisioning/install.sh (READ_ONLY_ROOT=yes in the site file)." \
        "# Every write to / lives in memory until the next boot; $STATE_DIR (DATA_PARTITION)" \
        "# is not overlaid. To change the root for good: sudo overlayroot-chroot, or remove" \
        "# this file there (sudo overlayroot-chroot rm $OVERLAYROOT_CONF) and reboot." \
        'overlayroot="tmpfs:recurse=0"'
}

on_overlay_root() { [[ "$(findmnt -n -o FSTYPE / 2>/dev/null || true)" == overlay ]]; }

# What to do before install.sh can change the root (it refuses to run on the overlay).
overlay_off_hint() {
    if command -v raspi-config >/dev/null; then
        printf "run 'sudo raspi-config nonint disable_overlayfs' and reboot first"
    else
        printf "run 'sudo overlayroot-chroot rm %s' and reboot first (or run install.sh inside 'sudo overlayroot-chroot')" \
            "$OVERLAYROOT_CONF"
    fi
}

# The newest initramfs, the one the next boot uses (raspi-firmware copies it to the boot
# partition), carries overlayroot's script (the package's hook was run for it) and busybox:
# the script needs grep, which klibc's utilities lack. Without busybox it says "grep: not
# found ... Unable to find a driver" on the console and the root stays writable (make
# test-image's read-only boot found it).
initramfs_can_overlay() {
    local initrd
    initrd="$(find /boot -maxdepth 1 -name 'initrd.img-*' | sort -V | tail -n1)"
    [[ -n "$initrd" ]] && lsinitramfs "$initrd" 2>/dev/null | listing_can_overlay
}

# lsinitramfs's listing on standard input: overlayroot's script and busybox are both in it.
listing_can_overlay() {
    local listing
    listing="$(cat)"
    grep -q "$OVERLAYROOT_SCRIPT\$" <<<"$listing" && grep -q 'bin/busybox$' <<<"$listing"
}

# The SD card's root read-only under the overlay too. overlayroot leaves it as the
# initramfs mounted it, and raspi-firmware's cmdline.txt says `rw` (make test-image saw
# /media/root-ro mounted rw). The last of `rw` and `ro` wins, for the kernel and for the
# initramfs, so `ro` is appended: to cmdline.txt for the next boot, and to raspi-firmware's
# extra line (`extra`, when raspi-firmware is there), which a kernel upgrade's new
# cmdline.txt ends with. Without the overlay, `ro` is Debian's usual boot: systemd
# remounts the root rw from fstab.
lower_root_read_only() {
    local cmdline="$1" extra="$2"
    if [[ ! -f "$cmdline" ]]; then
        say "no $cmdline: the root under the overlay stays as the boot mounts it"
        return 0
    fi
    if [[ "$(tr -s '[:space:]' '\n' <"$cmdline" | grep -E '^r[ow]$' | tail -n1)" != ro ]]; then
        sed -i '1 s/[[:space:]]*$/ ro/' "$cmdline"
        changed "$cmdline: ro (the root under the overlay is mounted read-only)"
    fi
    if [[ -n "$extra" ]] && ! grep -qw ro "$extra" 2>/dev/null; then
        if [[ -s "$extra" ]]; then sed -i '1 s/[[:space:]]*$/ ro/' "$extra"; else echo ro >"$extra"; fi
        changed "$extra: ro (kept in cmdline.txt through kernel upgrades)"
    fi
}

step_overlay() {
    [[ "${SITE[READ_ONLY_ROOT]}" == yes ]] || return 0
    if command -v raspi-config >/dev/null; then
        grep -qw 'overlayroot=tmpfs' "$BOOT_DIR/cmdline.txt" 2>/dev/null && return 0
        raspi-config nonint enable_overlayfs
        changed "read-only root (raspi-config overlay) from the next boot; $STATE_DIR stays writable"
        return 0
    fi
    local package
    for package in overlayroot busybox; do
        package_installed "$package" ||
            die "READ_ONLY_ROOT=yes needs the $package package (Debian main): apt-get install $package (the image of scripts/image.sh has it)"
    done
    local before=$CHANGES
    ensure_file 644 root:root "$OVERLAYROOT_CONF" <(overlayroot_conf)
    if ! initramfs_can_overlay; then
        say "rebuilding the initramfs with overlayroot's script and busybox (update-initramfs -u)"
        update-initramfs -u -k all >/dev/null || die "update-initramfs failed: the root stays writable"
        initramfs_can_overlay ||
            die "the initramfs lacks overlayroot's script or busybox after update-initramfs (BUSYBOX=n in /etc/initramfs-tools/initramfs.conf?): the root stays writable"
        changed "initramfs rebuilt with overlayroot and busybox"
    fi
    local extra=""
    package_installed raspi-firmware && extra=/etc/default/raspi-extra-cmdline
    lower_root_read_only "$BOOT_DIR/cmdline.txt" "$extra"
    [[ $CHANGES -eq $before ]] && return 0
    changed "read-only root (overlayroot, tmpfs) from the next boot; $STATE_DIR stays writable"
}
