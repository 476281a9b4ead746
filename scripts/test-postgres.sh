#!/usr/bin/env bash
# A private PostgreSQL server on loopback for the office tests and benchmarks.
#
#   scripts/test-postgres.sh start   start it (creating it the first time); print its URL
#   scripts/test-postgres.sh stop
#
# The cluster lives in $KIOSK_TEST_PG_DIR (default: /tmp/lobby-kiosk-pg-<uid>), outside the
# repository, so the server's own user can reach it wherever the repository was cloned.
# Run as root, the server runs as the `postgres` user, since PostgreSQL refuses root.
set -euo pipefail

port=${KIOSK_TEST_PG_PORT:-54329}
dir=${KIOSK_TEST_PG_DIR:-/tmp/lobby-kiosk-pg-$(id -u)}
bin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z "$bin" ]]; then
    echo "PostgreSQL is not installed: sudo apt-get install -y postgresql" >&2
    exit 1
fi

as_server() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
start)
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        mkdir -p "$dir"
        [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
        as_server "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
    fi
    if ! as_server "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" \
            start >/dev/null
    fi
    if ! as_server "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -Atc \
        "SELECT 1 FROM pg_database WHERE datname = 'kiosk_test'" | grep -q 1; then
        as_server "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres kiosk_test
    fi
    echo "postgresql://postgres@127.0.0.1:$port/kiosk_test"
    ;;
stop)
    as_server "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
