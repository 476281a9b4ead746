#!/bin/sh
# make test-image's probe: written into the TEST'S COPY of the image only (never into the
# image that is flashed), as /usr/local/sbin/kiosk-image-probe, run by
# kiosk-image-probe.service once the kiosk's own units have started. It prints what the test
# checks on the serial console, one "KIOSK-PROBE ..." line each, then powers the machine
# off. What it does comes from the kernel's command line (the test's -append):
#   kiosk_probe=checkin kiosk_host=REF   a walk-in for host REF, then waits for the sync
#   kiosk_probe=report                   only reports (the second boot)
#   kiosk_probe=wait-enrol               waits for the enrolment (office started later)
#   kiosk_probe=offline                  no office yet: a host added on the kiosk, a walk-in
#                                        for it, "KIOSK-PROBE offline-ready" (the test starts
#                                        the office then), waits for the enrolment and sync
#   kiosk_mark=yes                       also writes a mark into /etc and /usr (the read-only
#                                        root's test: it must be gone after the next boot)
set -u
arg() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" /proc/cmdline; }
say() { echo "KIOSK-PROBE $*"; }
kiosk() {
    runuser -u kiosk -- env HOME=/var/lib/kiosk /opt/kiosk/venv/bin/kiosk --json "$@" 2>&1 |
        tr '\n' ' '
}
mode="$(arg kiosk_probe)"
say "start mode=$mode uptime=$(cut -d' ' -f1 /proc/uptime)"
for unit in kiosk-provision kiosk-sync kiosk kiosk-enrol; do
    say "unit $unit=$(systemctl is-active "$unit")"
done
say "kiosk-status $(systemctl show kiosk -p StatusText -p ActiveState -p SubState | tr '\n' ' ')"
for file in /etc/kiosk/kiosk.toml /var/lib/kiosk/data/kiosk.sqlite3 \
    /var/lib/kiosk/provisioning/enrolled /var/lib/kiosk/provisioning/enrol-pending; do
    if [ -e "$file" ]; then say "file $file=yes"; else say "file $file=no"; fi
done
say "keys $(find /var/lib/kiosk/keys -type f | wc -l)"
config=/etc/kiosk/kiosk.toml
wait_enrolled() {
    tries=0
    while [ ! -e /var/lib/kiosk/provisioning/enrolled ] && [ $tries -lt 120 ]; do
        sleep 10
        tries=$((tries + 1))
    done
    say "enrolled-after uptime=$(cut -d' ' -f1 /proc/uptime): $(find /var/lib/kiosk/provisioning -mindepth 1 -printf '%f ')"
}
photo() {
    /opt/kiosk/venv/bin/python -c 'from PIL import Image, ImageDraw
picture = Image.new("RGB", (240, 320), (200, 200, 200))
ImageDraw.Draw(picture).ellipse((60, 50, 180, 200), fill=(230, 190, 160))
picture.save("/var/lib/kiosk/probe-photo.jpg", quality=85)'
    chown kiosk:kiosk /var/lib/kiosk/probe-photo.jpg
}
case "$mode" in
    checkin)
        # kiosk-enrol.service enrols once the network is up (kiosk-provision runs before it).
        wait_enrolled
        photo
        say "checkin $(kiosk checkin --config "$config" --walk-in --name "Ingrid Berg" \
            --host "$(arg kiosk_host)" --photo /var/lib/kiosk/probe-photo.jpg)"
        ;;
    wait-enrol)
        wait_enrolled
        ;;
    offline)
        say "office-reachable $(/opt/kiosk/venv/bin/python -c 'import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=10)
    print("yes")
except Exception as error:
    print("no:", error)' "$(sed -n 's/^OFFICE_URL="\(.*\)"$/\1/p' /boot/firmware/kiosk-site.conf)")"
        photo
        host="$(runuser -u kiosk -- env HOME=/var/lib/kiosk /opt/kiosk/venv/bin/kiosk --json \
            hosts add "Olga Offline" --config "$config" | sed -n 's/.*"ref": *"\([^"]*\)".*/\1/p')"
        say "checkin $(kiosk checkin --config "$config" --walk-in --name "Ingrid Offline" \
            --host "$host" --photo /var/lib/kiosk/probe-photo.jpg)"
        say "offline-ready uptime=$(cut -d' ' -f1 /proc/uptime)"
        wait_enrolled
        ;;
esac
if [ "$mode" != report ]; then
    tries=0
    while [ $tries -lt 120 ]; do
        status="$(kiosk sync --status --config "$config")"
        echo "$status" | grep -Eq '"backlog": ?0[,}]' && break
        sleep 5
        tries=$((tries + 1))
    done
    say "sync-status $status"
fi
say "marks-found $(for mark in /etc/kiosk-probe-mark /usr/kiosk-probe-mark; do [ -e "$mark" ] && printf '%s ' "$mark"; done)"
if [ "$(arg kiosk_mark)" = yes ]; then
    for dir in /etc /usr; do
        if echo mark >"$dir/kiosk-probe-mark" 2>/dev/null; then say "mark-write $dir=ok"; else say "mark-write $dir=refused"; fi
    done
fi
say "mount-root $(findmnt -n -o SOURCE,FSTYPE,OPTIONS /)"
say "mount-lower $(findmnt -n -o SOURCE,FSTYPE,OPTIONS /media/root-ro || echo none)"
say "mount-data $(findmnt -n -o SOURCE,FSTYPE,OPTIONS /var/lib/kiosk || echo on-root)"
if touch /var/lib/kiosk/probe-write 2>/dev/null; then say "data-writable yes"; else say "data-writable no"; fi
if touch /probe-write 2>/dev/null; then say "root-writable yes"; rm -f /probe-write; else say "root-writable no"; fi
say "journal-provision $(journalctl -b -u kiosk-provision -o cat | grep -E 'done:|error|read-only|initramfs' | tr '\n' ' ')"
say "visits $(sqlite3 /var/lib/kiosk/data/kiosk.sqlite3 'select count(*) from visit' 2>&1)"
say "end uptime=$(cut -d' ' -f1 /proc/uptime)"
systemctl poweroff
