"""`kiosk office`: the office server and its data from the command line.

    kiosk office serve               run the office server
    kiosk office enrolment-code      a one-time code for enrolling a kiosk
    kiosk office visits              what the office has received
    kiosk office user NAME --role R  a person who signs in to the office web
    kiosk office host / appointment / revoke-kiosk
    kiosk office send-invitations    invitation and cancellation mails that are due (serve too)
    kiosk office purge               the nightly retention purge (kiosk-office-nightly.timer)

Every `kiosk office` command takes `--db URL` (or $KIOSK_OFFICE_DB); without it the office
keeps an SQLite file, office.sqlite3 (mode 0600: it holds the sites' invitation keys), in
the current folder. The kiosk's own side of sync (`kiosk enroll`, `kiosk sync`) is in
kiosk.cli.sync.
"""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Callable
from datetime import date, datetime, time, tzinfo
from typing import Any

from kiosk.cli.common import Commands, emit, shown_time, stop_on_signals, stored_moment


def _store(args: argparse.Namespace) -> Any:
    from kiosk.office.store import OfficeStore, open_office_database

    url = args.db or os.environ.get("KIOSK_OFFICE_DB")
    return OfficeStore(open_office_database(url))


def _office(args: argparse.Namespace) -> Any:
    """The office's parts as its composition root builds them (kiosk.office.api)."""
    from kiosk.office.api import build_office

    return build_office(_store(args))


def _start_background(office: Any) -> None:
    """Messages kiosks forwarded, and invitation e-mails that failed, go out from threads
    of the serving process (one each per `serve`, whatever its workers)."""
    for name, loop in (
        ("office-notify", office.forwarder.run),
        ("invitations", office.mailer.run),
        ("parcel-reminders", office.parcel_reminders.run),
        ("cases-overdue", office.cases.escalator.run),
    ):
        threading.Thread(target=loop, args=(threading.Event(),), name=name, daemon=True).start()


def cmd_office_notify(args: argparse.Namespace) -> int:
    notifier = _office(args).forwarder
    if args.once:
        report = notifier.tick()
        emit(args, vars(report), f"sent {report.sent}, failed {report.failed}, "
             f"given up {report.dropped}, in doubt {report.in_doubt}")  # fmt: skip
        return 0
    stop = stop_on_signals()
    notifier.run(stop)
    return 0


def cmd_office_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from kiosk.office.api import create_app

    office = _office(args)
    if not getattr(args, "no_notify", False):
        _start_background(office)

    if args.workers > 1:
        # Each worker process builds its own app from the environment: the office keeps no
        # state in the process, so they share nothing but the database.
        os.environ["KIOSK_OFFICE_DB"] = args.db or os.environ.get("KIOSK_OFFICE_DB", "")
        uvicorn.run(
            "kiosk.office.api:app_from_environment",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
        )
        return 0
    app = create_app(office.store, office=office)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def cmd_office_code(args: argparse.Namespace) -> int:
    code = _store(args).enrolment_code(args.site)
    emit(args, {"site": args.site, "code": code}, code)
    return 0


def cmd_office_rotate_key(args: argparse.Namespace) -> int:
    from kiosk.domain.errors import NotFound
    from kiosk.sync.wire import fingerprint

    store = _store(args)
    if args.retire:
        matching = [k for k in store.office_keys.public(store.clock.now()) if
                    k.startswith(args.retire.replace(" ", ""))]  # fmt: skip
        if len(matching) != 1:
            raise NotFound(f"no single current office key starts with {args.retire}")
        store.retire_office_key(matching[0])
        emit(args, {"retired": matching[0]}, f"retired {fingerprint(matching[0])}")
        return 0
    public = store.rotate_office_key()
    emit(
        args, {"new_key": public},
        f"new office key {fingerprint(public)}; kiosks learn it on their next sync. Retire "
        "the old one once all have synced: kiosk office rotate-key --retire FINGERPRINT",
    )  # fmt: skip
    return 0


def cmd_office_visits(args: argparse.Namespace) -> int:
    from datetime import UTC

    from kiosk.domain.text import padded, shown

    store = _store(args)
    since = datetime.combine(date.fromisoformat(args.since), time.min, UTC)
    visits = store.visits(since, args.site)
    zones = _kiosk_zones(store)
    for visit in visits:  # each in its own site's zone, as that site's kiosk prints it
        zone = zones.get(visit["kiosk"], UTC)
        for name in OFFICE_VISIT_TIMES:
            moment = stored_moment(visit[name])
            visit[name] = moment.astimezone(zone) if moment else None
    emit(
        args,
        visits,
        lambda: (
            "\n".join(
                f"{padded(shown_time(args, v['arrived_at'], '-'), 25)} "
                f"{padded(shown(v['visitor_name']), 20)} {padded(v['state'], 18)} {v['kiosk']}"
                for v in visits
            )
            or "no visits"
        ),
    )
    return 0


#: The times of a visit as the office store lists them (ISO text in UTC).
OFFICE_VISIT_TIMES = ("arrived_at", "host_notified_at", "host_acknowledged_at", "left_at")


def _kiosk_zones(store: Any) -> dict[str, tzinfo]:
    """Each enrolled kiosk's site's time zone (its settings; UTC when it has none)."""
    from kiosk.office.bookings import Bookings
    from kiosk.office.models import Kiosk, Site

    with store.db.connection_context():
        zones: dict[int, tzinfo] = {}
        found: dict[str, tzinfo] = {}
        for kiosk in Kiosk.select(Kiosk, Site).join(Site):
            if kiosk.site_id not in zones:
                zones[kiosk.site_id] = Bookings.zone(kiosk.site)
            found[kiosk.kiosk_id] = zones[kiosk.site_id]
        return found


def cmd_office_purge(args: argparse.Namespace) -> int:
    from kiosk.domain.clock import SystemClock
    from kiosk.office.retention import purge

    store = _store(args)
    report = purge(store.db, SystemClock().now())
    emit(
        args,
        report.as_dict(),
        lambda: "\n".join(
            f"{name.replace('_', ' ')}: {count}" for name, count in report.as_dict().items()
        ),
    )
    return 0


def cmd_office_host(args: argparse.Namespace) -> int:
    host = _store(args).add_host(
        args.site, args.name, email=args.email or "", department=args.department or ""
    )
    emit(args, {"ref": host.ref}, f"host {host.name} ({host.ref})")
    return 0


def cmd_office_appointment(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    store = _store(args)
    starts_at = datetime.strptime(args.at, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(args.timezone))
    appointment = store.add_appointment(
        args.site,
        visitor_name=args.visitor,
        host_ref=args.host,
        starts_at=starts_at,
        company=args.company or "",
    )
    token = store.invite(appointment.ref) if args.invite else None
    emit(
        args,
        {"ref": appointment.ref, "invitation": token},
        f"appointment {appointment.ref}" + (f"\n{token}" if token else ""),
    )
    return 0


def cmd_office_user(args: argparse.Namespace) -> int:
    import getpass
    import sys

    from kiosk.office.staff import StaffDirectory

    store = _store(args)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            raise SystemExit("the passwords differ")
    user = StaffDirectory(store.db, store.clock).add_user(
        store.site(args.site), args.username, password, args.role,
        display_name=args.display_name or "", host_ref=args.host or "",
        language=args.language,
    )  # fmt: skip
    emit(args, {"username": user.username, "role": user.role},
         f"{user.username} can now sign in to the office web as {user.role}")  # fmt: skip
    return 0


def cmd_office_demo(args: argparse.Namespace) -> int:
    from kiosk.office.demo import describe, seed_office_demo

    demo = seed_office_demo(_store(args), args.site)
    url = os.environ.get("KIOSK_OFFICE_PUBLIC_URL", "http://127.0.0.1:8470")
    emit(args, vars(demo), describe(demo, url))
    return 0


def cmd_office_revoke(args: argparse.Namespace) -> int:
    _store(args).revoke_kiosk(args.kiosk)
    emit(args, {"revoked": args.kiosk}, f"kiosk {args.kiosk} revoked")
    return 0


def cmd_office_send_invitations(args: argparse.Namespace) -> int:
    """Send the invitation and cancellation e-mails that are due (`serve` does every 30 s)."""
    mailer = _office(args).mailer
    if args.once:
        report = mailer.send_due()
        emit(args, vars(report), str(report) + "".join(f"\n  {e}" for e in report.errors))
        return 0
    stop = stop_on_signals()
    mailer.run(stop, args.every)
    return 0


def register(commands: Commands) -> None:
    """Add `kiosk office` and its subcommands, each with --db."""
    office_commands = commands.group("office", "the office server", "office_command")

    def office_command(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add(name, handler, help_text, office_commands)
        sub.add_argument(
            "--db", help="postgresql://... or an SQLite path (default: ./office.sqlite3)"
        )
        return sub

    serve = office_command("serve", cmd_office_serve, "run the office server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8470)
    serve.add_argument("--workers", type=int, default=1, help="processes (one per core)")
    serve.add_argument(
        "--no-notify", action="store_true",
        help="do not send the notifications kiosks forward (run `kiosk office notify`)",
    )  # fmt: skip
    notify = office_command(
        "notify", cmd_office_notify, "send the notifications kiosks forwarded to the office"
    )
    notify.add_argument("--once", action="store_true", help="one round, then exit")
    code = office_command("enrolment-code", cmd_office_code, "a one-time code to enrol a kiosk")
    code.add_argument("--site", required=True)
    rotate = office_command(
        "rotate-key", cmd_office_rotate_key, "a new key for the office's answers to kiosks"
    )
    rotate.add_argument("--retire", metavar="FINGERPRINT", help="retire this old key instead")
    visits = office_command("visits", cmd_office_visits, "visits received from the kiosks")
    visits.add_argument("--since", required=True, help="YYYY-MM-DD")
    visits.add_argument("--site")
    office_command(
        "purge", cmd_office_purge, "anonymise personal data past each site's retention period"
    )
    host = office_command("host", cmd_office_host, "add a host to a site's directory")
    host.add_argument("name")
    host.add_argument("--site", required=True)
    host.add_argument("--email")
    host.add_argument("--department")
    appointment = office_command(
        "appointment", cmd_office_appointment, "book a visit (and sign its invitation)"
    )
    appointment.add_argument("--site", required=True)
    appointment.add_argument("--visitor", required=True)
    appointment.add_argument("--host", required=True, help="the host's ref")
    appointment.add_argument("--at", required=True, help='"YYYY-MM-DD HH:MM"')
    appointment.add_argument("--timezone", default="Asia/Shanghai")
    appointment.add_argument("--company")
    appointment.add_argument("--invite", action="store_true", help="sign and print the invitation")
    user = office_command("user", cmd_office_user, "add a person who signs in to the office web")
    user.add_argument("username")
    user.add_argument("--site", required=True)
    user.add_argument("--role", required=True, choices=["admin", "reception", "security", "host"])
    user.add_argument("--host", help="the host's ref (for the host role)")
    user.add_argument("--display-name")
    user.add_argument(
        "--language", default="zh_Hans", choices=["zh_Hans", "zh_Hant", "en"],
        help="the language of the office pages for this person (they can change it)",
    )  # fmt: skip
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    demo = office_command("demo-seed", cmd_office_demo, "a demo site with hosts and visits")
    demo.add_argument("--site", default="International Tower")
    revoke = office_command("revoke-kiosk", cmd_office_revoke, "refuse a kiosk from now on")
    revoke.add_argument("kiosk")
    invitations = office_command(
        "send-invitations", cmd_office_send_invitations,
        "send the invitation and cancellation e-mails due, retrying failed ones (serve does too)",
    )  # fmt: skip
    invitations.add_argument("--once", action="store_true", help="one round, then exit")
    invitations.add_argument("--every", type=float, default=30.0, help="seconds between rounds")
