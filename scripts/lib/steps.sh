# shellcheck shell=bash
# The helpers scripts/arm64-root.sh and scripts/image.sh share: messages with the script's
# name, a step timed as it runs, and the host's missing Debian packages installed (or named).
# Source it after setting STEP_NAME (the messages' prefix) and HOST_PACKAGES (for the hint).

say() { printf '%s: %s\n' "$STEP_NAME" "$*" >&2; }
die() { printf '%s: error: %s\n' "$STEP_NAME" "$*" >&2; exit 1; }

# timed LABEL CMD...: run CMD and say how long it took.
timed() {
    local label="$1" start status=0
    shift
    start=$(date +%s)
    "$@" || status=$?
    say "$label: $(($(date +%s) - start)) s$([[ $status -eq 0 ]] || echo " (FAILED, status $status)")"
    return "$status"
}

# install_missing PACKAGE...: apt-get install them as root, else name the command to run.
install_missing() {
    [[ $# -gt 0 ]] || return 0
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
        say "installing $*"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    else
        die "missing $*: sudo apt-get install -y ${HOST_PACKAGES[*]}"
    fi
}
