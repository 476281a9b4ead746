"""The kiosk's directory from the command line: hosts, appointments, invitations, the
watchlist.

    kiosk hosts add / import / list / availability
    kiosk appointments import / list / cancel
    kiosk invite --visitor V --host H --at "YYYY-MM-DD HH:MM"   a signed invitation
    kiosk watchlist add NAME
"""

from __future__ import annotations

import argparse
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from kiosk.cli.common import Commands, emit, list_field, open_kiosk, site_minute
from kiosk.domain.errors import KioskError
from kiosk.domain.text import padded


def cmd_hosts_add(args: argparse.Namespace) -> int:
    kiosk = open_kiosk(args)
    host, created = kiosk.directory.add_host(
        args.name,
        email=args.email or "",
        department=args.department or "",
        phone=args.phone or "",
        delegate=args.delegate,
        is_senior=args.senior,
        walk_in_needs_approval=args.approval,
    )
    verb = "added" if created else "updated"
    emit(args, {"ref": host.ref, "created": created}, f"{verb} host {host.name} ({host.ref})")
    return 0


def _import_report(args: argparse.Namespace, report: Any, summary: str) -> int:
    """Print an import's summary and each refused line; exit 1 if any line was refused."""
    problems = "".join(f"\n  {problem}" for problem in report.problems)
    emit(args, report, summary + problems)
    return 1 if report.problems else 0


def cmd_hosts_import(args: argparse.Namespace) -> int:
    report = open_kiosk(args).directory.import_hosts_csv(Path(args.file))
    return _import_report(args, report, f"{report.added} added, {report.updated} updated")


def cmd_hosts_list(args: argparse.Namespace) -> int:
    from kiosk.storage.models import Host

    open_kiosk(args)
    hosts = [
        {
            "ref": h.ref,
            "name": h.name,
            "department": h.department,
            "email": h.email,
            "availability": h.availability,
            "delegate": h.delegate.name if h.delegate else None,
        }
        for h in Host.select().where(Host.active).order_by(Host.department, Host.name)
    ]
    emit(
        args,
        hosts,
        lambda: "\n".join(
            f"{h['ref']}  {padded(list_field(h['name']), 20)} "
            f"{padded(list_field(h['department']), 16)} {h['availability']}"
            for h in hosts
        ),
    )
    return 0


def cmd_hosts_availability(args: argparse.Namespace) -> int:
    from kiosk.domain.values import HostAvailability

    kiosk = open_kiosk(args)
    kiosk.directory.set_availability(args.host, HostAvailability(args.availability))
    emit(args, {"host": args.host, "availability": args.availability}, "saved")
    return 0


def cmd_appointments_import(args: argparse.Namespace) -> int:
    from kiosk.services.appointment_import import AppointmentImport

    kiosk = open_kiosk(args)
    report = AppointmentImport(kiosk.directory, kiosk.db, kiosk.clock).run(Path(args.file))
    summary = (
        f"{report.added} new, {report.updated} changed, {report.unchanged} unchanged, "
        f"{report.cancelled} cancelled"
    )
    return _import_report(args, report, summary)


def cmd_appointments_list(args: argparse.Namespace) -> int:
    from kiosk.storage.models import Appointment, Host

    kiosk = open_kiosk(args)
    day = date.fromisoformat(args.date) if args.date else None
    moment = datetime.combine(day, time(12), kiosk.config.site.zone) if day else kiosk.clock.now()
    start, end = kiosk.engine.calendar.day_bounds(moment)
    rows = [
        {
            "ref": a.ref,
            "visitor": a.visitor_name,
            "company": a.company,
            "host": a.host.name,
            "starts_at": a.starts_at,
            "state": a.visits.first().state if a.visits.exists() else None,
            "cancelled": a.cancelled_at is not None,
        }
        for a in Appointment.select(Appointment, Host)
        .join(Host)
        .where((Appointment.starts_at >= start) & (Appointment.starts_at < end))
        .order_by(Appointment.starts_at)
    ]
    emit(
        args,
        rows,
        lambda: (
            "\n".join(
                f"{site_minute(kiosk, r['starts_at'])}  {padded(list_field(r['visitor']), 20)} "
                f"-> {padded(list_field(r['host']), 16)} {r['state']}"
                for r in rows
            )
            or "no appointments"
        ),
    )
    return 0


def cmd_appointments_cancel(args: argparse.Namespace) -> int:
    kiosk = open_kiosk(args)
    kiosk.directory.cancel_appointment(args.ref)
    emit(args, {"cancelled": args.ref}, f"cancelled {args.ref}")
    return 0


def _parse_local_time(kiosk: Any, text: str) -> datetime:
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError as err:
        raise KioskError(f"{text!r} is not a time like '2026-11-23 10:00'") from err
    return naive.replace(tzinfo=kiosk.config.site.zone)


def cmd_invite(args: argparse.Namespace) -> int:
    import segno

    from kiosk.domain.values import Purpose, VisitorLevel

    kiosk = open_kiosk(args)
    invitation = kiosk.directory.invite(
        kiosk.keys.invitation_signer(),
        visitor_name=args.visitor,
        host=args.host,
        at=_parse_local_time(kiosk, args.at),
        visitor_type=args.type,
        company=args.company or "",
        email=args.email or "",
        purpose=Purpose(args.purpose),
        level=VisitorLevel(args.level),
    )
    if args.qr:
        segno.make(invitation.token, error="m", micro=False).save(args.qr, scale=8, border=4)
    emit(
        args,
        invitation,
        f"{invitation.token}\nappointment {invitation.appointment_ref}, valid "
        f"{site_minute(kiosk, invitation.not_before)} to "
        f"{site_minute(kiosk, invitation.not_after)}"
        + (f"\nQR written to {args.qr}" if args.qr else ""),
    )
    return 0


def cmd_watchlist_add(args: argparse.Namespace) -> int:
    from kiosk.domain.identity import hash_document_number

    kiosk = open_kiosk(args)
    document_hash = (
        hash_document_number(args.document, kiosk.keys.document_salt()) if args.document else None
    )
    entry = kiosk.directory.add_watchlist_entry(
        args.name, reason=args.reason or "", document_hash=document_hash
    )
    emit(args, {"ref": entry.ref}, f"added to the watchlist ({entry.ref})")
    return 0


def _register_hosts(commands: Commands) -> None:
    from kiosk.domain.values import HostAvailability

    host_commands = commands.group("hosts", "the host directory", "hosts_command")
    add = commands.add("add", cmd_hosts_add, "add or update a host", host_commands)
    add.add_argument("name")
    add.add_argument("--email")
    add.add_argument("--department")
    add.add_argument("--phone")
    add.add_argument("--delegate", help="the assistant or delegate told when the host is away")
    add.add_argument(
        "--senior", action="store_true", help="a senior manager: walk-ins go via the delegate"
    )
    add.add_argument("--approval", action="store_true", help="walk-ins need this host's approval")
    imp = commands.add("import", cmd_hosts_import, "import hosts from CSV", host_commands)
    imp.add_argument("file")
    commands.add("list", cmd_hosts_list, "list hosts", host_commands)
    avail = commands.add(
        "availability", cmd_hosts_availability, "set a host in, out or in a meeting", host_commands
    )
    avail.add_argument("host")
    avail.add_argument("availability", choices=[a.value for a in HostAvailability])


def _register_appointments(commands: Commands) -> None:
    from kiosk.domain.values import Purpose, VisitorLevel

    appointment_commands = commands.group("appointments", "appointments", "appointments_command")
    aimp = commands.add(
        "import", cmd_appointments_import, "import CSV or iCalendar", appointment_commands
    )
    aimp.add_argument("file")
    alist = commands.add(
        "list", cmd_appointments_list, "a day's appointments", appointment_commands
    )
    alist.add_argument("--date", help="YYYY-MM-DD (default: today)")
    cancel = commands.add(
        "cancel", cmd_appointments_cancel, "cancel and revoke its invitation", appointment_commands
    )
    cancel.add_argument("ref")

    invite = commands.add("invite", cmd_invite, "book a visit and print its signed invitation")
    invite.add_argument("--visitor", required=True)
    invite.add_argument("--host", required=True)
    invite.add_argument("--at", required=True, help='local time "YYYY-MM-DD HH:MM"')
    invite.add_argument("--type", default="visitor", help="visitor type from the config")
    invite.add_argument("--company")
    invite.add_argument("--email")
    invite.add_argument("--purpose", default="visit_person", choices=[p.value for p in Purpose])
    invite.add_argument(
        "--level", default="ordinary", choices=[level.value for level in VisitorLevel]
    )
    invite.add_argument("--qr", help="write the QR code to this PNG file")


def register(commands: Commands) -> None:
    """Add the directory's commands: hosts, appointments, invite, watchlist."""
    _register_hosts(commands)
    _register_appointments(commands)
    watch_commands = commands.group("watchlist", "the watchlist", "watchlist_command")
    wadd = commands.add("add", cmd_watchlist_add, "add a person", watch_commands)
    wadd.add_argument("name")
    wadd.add_argument("--reason")
    wadd.add_argument("--document", help="document number (stored only as a salted hash)")
