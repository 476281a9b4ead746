"""The `kiosk` command: set-up, the directory, check-in and check-out, reports, doctor.

Every command takes `--config PATH` (else $KIOSK_CONFIG, else /etc/kiosk/kiosk.toml), and
every command that prints data takes `--json`. Exit status: 0 done, 1 refused or invalid
(the reason is printed), 2 a usage or configuration error.

Every time in `--json` output is ISO 8601 with the site's own offset, whichever command
prints it ("2026-12-07T10:42:00+08:00", `site_time`), and tables line up by the cells a
terminal gives each character (`kiosk.domain.text.padded`: 张 takes two).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any, cast

from kiosk.domain.clock import local_time
from kiosk.domain.errors import AlreadyCheckedOut, ConfigError, KioskError, TokenRejected
from kiosk.domain.text import MISSING, padded, shown

Handler = Callable[[argparse.Namespace], int]


# ----------------------------------------------------------------------------- output


def _plain(value: Any) -> Any:
    """`value` as JSON's types, but for times, left as they are for `site_time` (in emit)."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, date | time) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, Path):
        return str(value)
    return value


def site_time(moment: datetime, zone: tzinfo | None) -> str:
    """A moment as JSON shows it, in every command: ISO 8601 with the site's own offset,
    "2026-12-07T10:42:00+08:00" (a naive time is taken as UTC, as the kiosk stores it).
    Without a site (a command that opens none) it keeps its own offset."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware.astimezone(zone) if zone is not None else aware).isoformat()


#: Characters json.dumps(ensure_ascii=False) leaves raw that must not reach a terminal: DEL,
#: the C1 controls (U+009B is a CSI to many terminals) and lone surrogates (which print
#: cannot even encode). JSON's \u escapes keep the data exact.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff]")


def emit(args: argparse.Namespace, data: Any, text: str | Callable[[], str]) -> None:
    """Print `data` as JSON with --json, else `text`. Either way no control character
    from the data reaches the terminal: names come from visitors and from other machines.

    Times in `data` are written by `site_time` in the zone of the site `_open` opened."""
    if getattr(args, "json", False):
        zone = getattr(args, "site_zone", None)

        def encode_time(value: object) -> str:
            if isinstance(value, datetime):
                return site_time(value, zone)
            raise TypeError(f"{type(value).__name__} is not JSON")

        encoded = json.dumps(_plain(data), ensure_ascii=False, indent=2, default=encode_time)
        print(_JSON_UNSAFE.sub(lambda found: f"\\u{ord(found.group()):04x}", encoded))
    else:
        print(_terminal_safe(text() if callable(text) else text))


def _terminal_safe(text: str) -> str:
    """`text` with its lines and tabs kept and every other control character replaced."""
    return "\n".join(
        "\t".join(shown(part) for part in line.split("\t")) for line in text.split("\n")
    )


def _local(kiosk: Any, moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(kiosk.config.site.zone).strftime("%Y-%m-%d %H:%M")


def _open(args: argparse.Namespace) -> Any:
    """The kiosk of --config; its site's zone is then the one every JSON time is in."""
    from kiosk.app import open_kiosk

    kiosk = open_kiosk(args.config)
    args.site_zone = kiosk.config.site.zone
    return kiosk


def _parse_local_time(kiosk: Any, text: str) -> datetime:
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError as err:
        raise KioskError(f"{text!r} is not a time like '2026-11-23 10:00'") from err
    return naive.replace(tzinfo=kiosk.config.site.zone)


def _window_size(text: str) -> tuple[int, int]:
    from kiosk.ui.window_size import parse_size

    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _read_bytes(path: str | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


# ----------------------------------------------------------------------------- set-up


def cmd_init(args: argparse.Namespace) -> int:
    from kiosk.app import init_kiosk

    result = init_kiosk(
        args.config,
        site_name=args.site_name,
        data_dir=args.data_dir,
        keys_dir=args.keys_dir,
        demo=args.demo,
    )
    done = [f"  created {item}" for item in result.created]
    done += [f"  updated {item} with the demo's settings" for item in result.updated]
    created = "\n".join(done) or "  nothing to do"
    emit(args, result, f"Kiosk {result.kiosk_id} at {result.config_path}\n{created}")
    return 0


def cmd_demo_seed(args: argparse.Namespace) -> int:
    from kiosk.demo import seed_demo

    kiosk = _open(args)
    result = seed_demo(kiosk)
    from kiosk.demo import DEMO_PINS

    lines = [f"{result.hosts} hosts, {result.appointments} appointments added for today"]
    lines.append(f"staff PINs: guard {DEMO_PINS['guard']}, admin {DEMO_PINS['admin']}")
    lines += [f"  invitation for {name}: {token}" for name, token in result.invitations]
    emit(args, result, "\n".join(lines))
    return 0


def cmd_demo_mail(args: argparse.Namespace) -> int:
    """The demo's mailbox (kiosk.demo_mail) until SIGTERM or Ctrl+C."""
    import logging
    import signal

    from kiosk.config import config_path
    from kiosk.demo_mail import DEMO_MAIL_PORT, mail_folder_for, start_demo_mail

    folder = Path(args.folder) if args.folder else mail_folder_for(config_path(args.config))
    port = args.port or DEMO_MAIL_PORT
    logging.basicConfig(level=logging.INFO, format="kiosk demo-mail: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's every SMTP step
    mailbox = start_demo_mail(folder, port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"kiosk demo-mail: every message to {mailbox.hostname}:{port} lands in {folder}/")
    sys.stdout.flush()
    stop.wait()
    mailbox.stop()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The touchscreen, in this process, and its engine in a child (`kiosk engine`): see
    kiosk.engine_link for why two. Nothing heavier than Kivy is imported here."""
    from kiosk.engine_link import EngineLaunch

    engine_command = [sys.executable, "-m", "kiosk", "engine"]
    if args.config:
        engine_command += ["--config", args.config]
    launch = EngineLaunch(engine_command)  # it starts while Kivy is imported here

    from kiosk.ui.app import run_kiosk, stop_running_app
    from kiosk.ui.services import KioskServices

    lost = threading.Event()

    def engine_lost() -> None:
        lost.set()
        stop_running_app()

    services = launch.wait(on_lost=engine_lost)
    try:
        # RemoteServices forwards every method of the protocol by name (see engine_link).
        run_kiosk(
            cast("KioskServices", services),
            size=args.size,
            fullscreen=args.fullscreen,
            font_path=args.font,
        )
    finally:
        engine_exit = services.close()
    # systemd stops the service with SIGTERM to both processes, and the engine, exiting 0,
    # may go first: only an engine that failed or was killed makes this a failure.
    if lost.is_set() and engine_exit != 0:
        print("error: the kiosk engine stopped; see its messages above", file=sys.stderr)
        return 1
    return 0


def cmd_prepare_fonts(args: argparse.Namespace) -> int:
    """Prepare the touchscreen's font faces ahead (see kiosk.ui.fonts): once per machine,
    and again only when the font package changes; with a progress bar, or in the
    background (kiosk.ui.font_progress)."""
    from kiosk.ui.font_progress import prepare_fonts_command

    return prepare_fonts_command(args.font, background=args.background, holding=args.hold_lock)


def cmd_engine(args: argparse.Namespace) -> int:
    """The engine's process of `kiosk run`: the check-in engine, the database and the
    devices, serving the touchscreen over the link it was handed."""
    import logging

    from kiosk.engine_link import serve_engine
    from kiosk.ui import lean_process

    lean_process()  # before peewee: no PostgreSQL driver on a kiosk
    logging.basicConfig(level=logging.INFO, format="kiosk engine: %(levelname)s %(message)s")

    @contextlib.contextmanager
    def open_services() -> Iterator[Any]:
        from kiosk.app import KioskServices

        kiosk = _open(args)
        try:
            services = KioskServices(kiosk)  # opens the configured camera and printer
            try:
                yield services
            finally:
                services.close()
        finally:
            kiosk.close()

    return serve_engine(args.link_fd, open_services)


def cmd_config_show(args: argparse.Namespace) -> int:
    from kiosk.config import load_config, masked_dict

    config = load_config(args.config)
    data = masked_dict(config)
    emit(args, data, lambda: json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return 0


# ----------------------------------------------------------------------------- directory


def cmd_hosts_add(args: argparse.Namespace) -> int:
    kiosk = _open(args)
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
    report = _open(args).directory.import_hosts_csv(Path(args.file))
    return _import_report(args, report, f"{report.added} added, {report.updated} updated")


def cmd_hosts_list(args: argparse.Namespace) -> int:
    from kiosk.storage.models import Host

    _open(args)
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
            f"{h['ref']}  {padded(_field(h['name']), 20)} {padded(_field(h['department']), 16)} "
            f"{h['availability']}"
            for h in hosts
        ),
    )
    return 0


def cmd_hosts_availability(args: argparse.Namespace) -> int:
    from kiosk.domain.values import HostAvailability

    kiosk = _open(args)
    kiosk.directory.set_availability(args.host, HostAvailability(args.availability))
    emit(args, {"host": args.host, "availability": args.availability}, "saved")
    return 0


def cmd_appointments_import(args: argparse.Namespace) -> int:
    from kiosk.services.appointment_import import AppointmentImport

    kiosk = _open(args)
    report = AppointmentImport(kiosk.directory, kiosk.db, kiosk.clock).run(Path(args.file))
    summary = (
        f"{report.added} new, {report.updated} changed, {report.unchanged} unchanged, "
        f"{report.cancelled} cancelled"
    )
    return _import_report(args, report, summary)


def cmd_appointments_list(args: argparse.Namespace) -> int:
    from kiosk.storage.models import Appointment, Host

    kiosk = _open(args)
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
                f"{_local(kiosk, r['starts_at'])}  {padded(_field(r['visitor']), 20)} "
                f"-> {padded(_field(r['host']), 16)} {r['state']}"
                for r in rows
            )
            or "no appointments"
        ),
    )
    return 0


def cmd_appointments_cancel(args: argparse.Namespace) -> int:
    kiosk = _open(args)
    kiosk.directory.cancel_appointment(args.ref)
    emit(args, {"cancelled": args.ref}, f"cancelled {args.ref}")
    return 0


def cmd_invite(args: argparse.Namespace) -> int:
    import segno

    from kiosk.domain.values import Purpose, VisitorLevel

    kiosk = _open(args)
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
        f"{_local(kiosk, invitation.not_before)} to {_local(kiosk, invitation.not_after)}"
        + (f"\nQR written to {args.qr}" if args.qr else ""),
    )
    return 0


def cmd_watchlist_add(args: argparse.Namespace) -> int:
    from kiosk.domain.identity import hash_document_number

    kiosk = _open(args)
    document_hash = (
        hash_document_number(args.document, kiosk.keys.document_salt()) if args.document else None
    )
    entry = kiosk.directory.add_watchlist_entry(
        args.name, reason=args.reason or "", document_hash=document_hash
    )
    emit(args, {"ref": entry.ref}, f"added to the watchlist ({entry.ref})")
    return 0


# ----------------------------------------------------------------------------- check-in


def cmd_verify(args: argparse.Namespace) -> int:
    from kiosk.domain.tokens import TokenKind, decode, parse

    kiosk = _open(args)
    try:
        kind = parse(decode(args.token))[0].kind
        if kind is TokenKind.INVITATION:
            preview = kiosk.engine.preview_invitation(args.token)
            data: dict[str, Any] = {
                "valid": True,
                "kind": "invitation",
                "visitor": preview.visitor_name,
                "host": preview.host_name,
                "valid_until": preview.token.not_after,
            }
            text = f"VALID invitation for {preview.visitor_name}, host {preview.host_name}"
        else:
            check = kiosk.engine.verify_badge(args.token)
            data = {"valid": True, "kind": "badge", **_plain(check)}
            data.pop("photo_jpeg", None)
            text = (
                f"VALID badge: {check.visitor_name}, host {check.host_name}, "
                f"expires {_local(kiosk, check.expires_at)}"
            )
    except TokenRejected as rejection:
        data = {"valid": False, "reason": rejection.reason.value, "detail": rejection.detail}
        emit(args, data, f"INVALID: {rejection.reason.value} ({rejection.detail})")
        return 1
    emit(args, data, text)
    return 0


def _collected(args: argparse.Namespace) -> Any:
    from kiosk.services.checkin import Collected

    return Collected(
        photo_jpeg=_read_bytes(args.photo),
        agreement_accepted=bool(args.signature),
        signature_png=_read_bytes(args.signature),
        agreement_language=args.language,
        companions=args.companions,
        items_declared=args.items or "",
    )


def _describe_result(kiosk: Any, result: Any) -> str:
    if result.outcome == "host_absent":
        return (
            f"{result.host_name or 'The host'} is not available. Leave a message with "
            "`kiosk message`, or check in anyway with --proceed-if-absent (reception is told)."
        )
    if result.outcome == "awaiting_approval":
        return f"Waiting for {result.host_name} to approve the visit ({result.visit_ref})."
    badge = result.badge
    escort = "  ESCORT REQUIRED" if badge.escort_required else ""
    return (
        # Queued, not sent: the notifier (`kiosk notify`) sends it, and retries until it can.
        f"Checked in {badge.visitor_name} ({result.visit_ref}); a message to the "
        f"{result.notified} is queued for the notifier.\n"
        f"Badge valid until {badge.expires_at:%H:%M}{escort}\n{badge.token}"
    )


def _result_data(result: Any) -> dict[str, Any]:
    data = _plain(result)
    if data.get("badge"):
        data["badge"].pop("photo_jpeg", None)
    if data.get("requirements"):
        data["requirements"].pop("agreement", None)
    return data


def cmd_checkin(args: argparse.Namespace) -> int:
    from kiosk.domain.values import Purpose, VisitorLevel
    from kiosk.services.checkin import VisitorDetails, WalkIn

    kiosk = _open(args)
    absent = "proceed" if args.proceed_if_absent else "ask"
    if args.token:
        result = kiosk.engine.check_in_with_invitation(
            args.token, _collected(args), if_host_absent=absent
        )
    elif args.walk_in:
        if not (args.name and args.host):
            raise KioskError("a walk-in needs --name and --host")
        host = kiosk.directory.find_host(args.host)
        walk_in = WalkIn(
            visitor=VisitorDetails(
                name=args.name, company=args.company or "", phone=args.phone or ""
            ),
            host_ref=host.ref,
            purpose=Purpose(args.purpose),
            visitor_type=args.type,
            level=VisitorLevel(args.level),
        )
        result = kiosk.engine.check_in_walk_in(walk_in, _collected(args), if_host_absent=absent)
    elif args.name:
        matches = kiosk.engine.match_identity(args.name)
        if len(matches) != 1:
            data = {"matches": _plain(matches)}
            listing = "\n".join(
                f"  {m.appointment_ref}  {m.visitor_name} -> {m.host_name} ({m.how})"
                for m in matches
            )
            emit(
                args,
                data,
                f"{len(matches)} appointments match; choose one with --appointment REF\n{listing}"
                if matches
                else "no appointment today under that name; check in as a walk-in",
            )
            return 1
        result = kiosk.engine.check_in_appointment(
            matches[0].appointment_ref,
            VisitorDetails(name=args.name, company=args.company or "", phone=args.phone or ""),
            _collected(args),
            if_host_absent=absent,
        )
    elif args.appointment:
        result = kiosk.engine.check_in_appointment(
            args.appointment,
            VisitorDetails(name=args.name or "", company=args.company or ""),
            _collected(args),
            if_host_absent=absent,
        )
    else:
        raise KioskError("say how: --token T, --walk-in --name N --host H, or --name N")
    emit(args, _result_data(result), lambda: _describe_result(kiosk, result))
    return 0 if result.outcome != "host_absent" else 1


def cmd_message(args: argparse.Namespace) -> int:
    from kiosk.domain.values import Purpose
    from kiosk.services.checkin import VisitorDetails

    kiosk = _open(args)
    host = kiosk.directory.find_host(args.host)
    ref = kiosk.engine.leave_message(
        host.ref,
        VisitorDetails(name=args.name, company=args.company or ""),
        contact=args.contact,
        purpose=Purpose(args.purpose),
        message=args.text or "",
    )
    emit(args, {"message": ref}, f"message {ref} left for {host.name}")
    return 0


def cmd_acknowledge(args: argparse.Namespace) -> int:
    kiosk = _open(args)
    seconds = kiosk.engine.acknowledge(args.visit)
    emit(
        args,
        {"visit": args.visit, "response_seconds": seconds},
        f"acknowledged after {seconds:.0f} s",
    )
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    kiosk = _open(args)
    badge = kiosk.engine.decide_approval(args.visit, not args.deny)
    if badge is None:
        emit(args, {"visit": args.visit, "approved": False}, "visit declined")
    else:
        emit(args, {"visit": args.visit, "approved": True, "badge": badge.token}, badge.token)
    return 0


def cmd_checkout(args: argparse.Namespace) -> int:
    kiosk = _open(args)
    try:
        visit_ref = _check_out(args, kiosk)
    except AlreadyCheckedOut as err:
        # A visit ends once: the second time nothing is recorded, the rating included.
        emit(
            args,
            {"visit": err.visit_ref, "checked_out": False, "checked_out_at": err.checked_out_at},
            f"already checked out at {_time_of_day(kiosk, err.checked_out_at)}",
        )
        return 1
    if visit_ref is None:
        return 1
    if args.rating:
        kiosk.engine.rate_visit(visit_ref, args.rating, args.comment or "")
    emit(args, {"visit": visit_ref, "checked_out": True}, f"checked out {visit_ref}. Thank you!")
    return 0


def _time_of_day(kiosk: Any, moment: datetime | None) -> str:
    """HH:MM in the site's zone for a time today there, else the date too; MISSING if none."""
    zone = kiosk.config.site.zone
    if moment is None:
        return MISSING
    today = kiosk.clock.now().astimezone(zone).date()
    pattern = "%H:%M" if moment.astimezone(zone).date() == today else "%Y-%m-%d %H:%M"
    return local_time(moment, zone, pattern) or MISSING


def _check_out(args: argparse.Namespace, kiosk: Any) -> str | None:
    """Check out the visit the options name; its ref, or None when --name matched no one
    or several (the matches are listed)."""
    if args.badge:
        return cast(str, kiosk.engine.check_out_with_badge(args.badge))
    if args.visit:
        kiosk.engine.check_out(args.visit)
        return cast(str, args.visit)
    if args.name:
        found = kiosk.engine.find_on_site(args.name)
        if len(found) != 1:
            listing = "\n".join(f"  {e.visit_ref}  {e.visitor_name} ({e.host_name})" for e in found)
            emit(
                args,
                {"matches": _plain(found)},
                f"{len(found)} visitors on site match; use --visit REF\n{listing}",
            )
            return None
        kiosk.engine.check_out(found[0].visit_ref)
        return cast(str, found[0].visit_ref)
    raise KioskError("say how: --badge T, --visit REF or --name N")


def cmd_onsite(args: argparse.Namespace) -> int:
    kiosk = _open(args)
    entries = kiosk.engine.on_site()
    emit(
        args,
        entries,
        lambda: (
            "\n".join(
                f"{_arrival(kiosk, e.arrived_at):<16}  {padded(_field(e.visitor_name), 20)} "
                f"{padded(_field(e.company), 18)} host {padded(_field(e.host_name), 14)} "
                f"{e.state}{'' if e.synced else '  (not synced)'}"
                for e in entries
            )
            + f"\n{len(entries)} on site"
        ),
    )
    return 0


def _field(value: object) -> str:
    """A stored text as one line of a list: control characters shown as U+FFFD (tabs and
    newlines too, which would break the columns), MISSING when blank."""
    return shown(value).strip() or MISSING


def _arrival(kiosk: Any, moment: object) -> str:
    """The time in, in the site's zone (a naive time taken as UTC, as the kiosk stores it);
    MISSING when there is none or it cannot be shown."""
    return local_time(moment, kiosk.config.site.zone, "%Y-%m-%d %H:%M") or MISSING


def cmd_close_day(args: argparse.Namespace) -> int:
    kiosk = _open(args)
    counts = kiosk.engine.close_day()
    emit(
        args,
        counts,
        f"{counts['checked_out']} checked out automatically, {counts['no_shows']} no-shows",
    )
    return 0


# ----------------------------------------------------------------------------- records


def cmd_report(args: argparse.Namespace) -> int:
    from kiosk.services.reports import build_report, format_report

    kiosk = _open(args)
    day = (
        date.fromisoformat(args.date)
        if args.date
        else kiosk.clock.now().astimezone(kiosk.config.site.zone).date()
    )
    report = build_report(args.period, day, kiosk.engine.calendar)
    emit(args, report.as_dict(), lambda: format_report(report))
    return 0


EXPORT_COLUMNS = [
    "visit", "state", "visitor", "company", "host", "department", "purpose", "level",
    "visitor_type", "method", "arrived_at", "host_acknowledged_at", "left_at",
    "response_seconds", "auto_checked_out", "satisfaction",
]  # fmt: skip


def cmd_export(args: argparse.Namespace) -> int:
    from kiosk.storage.private_files import open_private_text

    kiosk = _open(args)
    since = datetime.combine(date.fromisoformat(args.since), time.min, kiosk.config.site.zone)
    with contextlib.ExitStack() as stack:
        output = (
            # Names and companies of visitors: for the owner only, whatever the umask.
            stack.enter_context(open_private_text(args.output, newline=""))
            if args.output
            else sys.stdout
        )
        _write_visits_csv(output, since, kiosk.config.site.zone)
    return 0


def _write_visits_csv(output: Any, since: datetime, zone: tzinfo) -> None:
    from peewee import JOIN

    from kiosk.storage.models import Host, Visit, Visitor

    writer = csv.writer(output)
    writer.writerow(EXPORT_COLUMNS)
    query = (
        Visit.select(Visit, Visitor, Host)
        .join(Visitor, join_type=JOIN.LEFT_OUTER)
        .switch(Visit)
        .join(Host, join_type=JOIN.LEFT_OUTER)
        .where(Visit.arrived_at >= since)
        .order_by(Visit.arrived_at)
    )
    for visit in query:
        writer.writerow(
            [
                visit.ref, visit.state,
                _csv_safe(visit.visitor.name if visit.visitor else ""),
                _csv_safe(visit.company),
                _csv_safe(visit.host.name if visit.host else ""),
                _csv_safe(visit.host.department if visit.host else ""),
                visit.purpose, visit.level, visit.visitor_type, visit.method,
                *(
                    site_time(moment, zone) if moment else None
                    for moment in (visit.arrived_at, visit.host_acknowledged_at, visit.left_at)
                ),
                visit.response_seconds,
                int(visit.auto_checked_out), visit.satisfaction,
            ]
        )  # fmt: skip


def _csv_safe(value: str) -> str:
    """Defuse spreadsheet formulas: a visitor named '=HYPERLINK(...)' stays text in Excel."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def cmd_purge(args: argparse.Namespace) -> int:
    from kiosk.services.retention import purge

    kiosk = _open(args)
    report = purge(kiosk.db, kiosk.config.retention, kiosk.clock)
    emit(
        args, report.as_dict(), lambda: "\n".join(f"{k}: {v}" for k, v in report.as_dict().items())
    )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from kiosk.storage.backup import backup_database

    kiosk = _open(args)
    path = backup_database(
        kiosk.config.database_path, kiosk.config.backup_dir, keep=kiosk.config.storage.backups_kept
    )
    emit(args, {"backup": str(path)}, f"backed up to {path}")
    return 0


def cmd_nightly(args: argparse.Namespace) -> int:
    """What the nightly timer runs: close the day, purge, back up. Each step is tried even if
    one before it failed, and the exit status says whether all of them succeeded."""
    from kiosk.services.retention import purge
    from kiosk.storage.backup import backup_database

    kiosk = _open(args)
    steps: dict[str, Callable[[], Any]] = {
        "close_day": kiosk.engine.close_day,
        "purge": lambda: purge(kiosk.db, kiosk.config.retention, kiosk.clock).as_dict(),
        "backup": lambda: str(
            backup_database(
                kiosk.config.database_path,
                kiosk.config.backup_dir,
                keep=kiosk.config.storage.backups_kept,
            )
        ),
    }
    results: dict[str, Any] = {}
    failed = False
    for name, step in steps.items():
        try:
            results[name] = step()
        except KioskError as err:
            results[name] = {"error": str(err)}
            failed = True
    emit(args, results, lambda: "\n".join(f"{name}: {value}" for name, value in results.items()))
    return 1 if failed else 0


def cmd_set_pin(args: argparse.Namespace) -> int:
    import getpass

    from kiosk.services.pins import set_pin

    kiosk = _open(args)
    if args.pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass(f"New {args.role} PIN: ")
        if getpass.getpass("Again: ") != pin:
            raise KioskError("the two PINs differ; nothing was changed")
    with kiosk.db.atomic():
        set_pin(args.role, pin)
    emit(args, {"role": args.role, "set": True}, f"{args.role} PIN set (stored as an Argon2 hash)")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from kiosk.storage.journal import verify_audit_chain

    _open(args)
    report = verify_audit_chain()
    text = (
        f"audit chain intact: {report.entries} entries"
        if report.intact
        else f"AUDIT CHAIN BROKEN at entry {report.first_broken_id}: {report.problem}"
    )
    emit(args, report, text)
    return 0 if report.intact else 1


def cmd_doctor(args: argparse.Namespace) -> int:
    from kiosk.doctor import run_checks

    office_db = args.office_db or os.environ.get("KIOSK_OFFICE_DB")
    findings = run_checks(args.config, office_db)
    emit(
        args,
        findings,
        lambda: "\n".join(
            f"[{f.status.upper():4}] {f.name}: {f.detail}"
            + (f"\n       fix: {f.fix}" if f.fix else "")
            for f in findings
        ),
    )
    return 1 if any(f.status == "fail" for f in findings) else 0


# ----------------------------------------------------------------------------- devices


def cmd_badge(args: argparse.Namespace) -> int:
    from kiosk.app import printer_settings
    from kiosk.devices.commands import render_badge_files

    kiosk = _open(args)
    if not (args.png or args.escpos):
        raise KioskError("say where to write the badge: --png FILE and/or --escpos FILE")
    content = kiosk.engine.badge_content(args.visit)
    written = render_badge_files(content, printer_settings(kiosk.config), args.png, args.escpos)
    emit(
        args,
        written,
        f"badge {written['width']}x{written['height']} dots, {written['bytes']} bytes of ESC/POS",
    )
    return 0


def _classify(kiosk: Any) -> Callable[[Any], dict[str, Any]]:
    """What the kiosk would do with a scanned code: verify a token, or parse a document."""
    from kiosk.devices.commands import describe_code
    from kiosk.domain.tokens import TokenKind, decode, parse

    salt = kiosk.keys.document_salt()

    def classify(code: Any) -> dict[str, Any]:
        text = code.raw.decode("latin-1").strip()
        try:
            kind = parse(decode(text))[0].kind
        except TokenRejected:
            kind = None
        if kind is TokenKind.INVITATION:
            try:
                preview = kiosk.engine.preview_invitation(text)
            except TokenRejected as rejection:
                return {"kind": "invitation", "valid": False, "reason": rejection.reason.value}
            return {
                "kind": "invitation",
                "valid": True,
                "visitor": preview.visitor_name,
                "host": preview.host_name,
            }
        if kind is TokenKind.BADGE:
            try:
                check = kiosk.engine.verify_badge(text)
            except TokenRejected as rejection:
                return {"kind": "badge", "valid": False, "reason": rejection.reason.value}
            return {
                "kind": "badge",
                "valid": True,
                "visitor": check.visitor_name,
                "host": check.host_name,
                "expires_at": check.expires_at,
            }
        document = describe_code(code, salt)
        if document is not None:
            return {"kind": "identity_document", **document}
        return {"kind": "unknown", "text": text[:80]}

    return classify


def cmd_scan(args: argparse.Namespace) -> int:
    from kiosk.devices.commands import scan_files

    kiosk = _open(args)
    rows = scan_files(args.files, _classify(kiosk))

    def describe(row: dict[str, Any]) -> str:
        where = f"{row['file']} frame {row['frame']} ({row['format']})"
        if row["kind"] in ("invitation", "badge"):
            verdict = "VALID" if row["valid"] else f"INVALID: {row['reason']}"
            who = f" {row['visitor']} -> {row['host']}" if row["valid"] else ""
            return f"{where}: {row['kind']} {verdict}{who}"
        if row["kind"] == "identity_document":
            expired = " (EXPIRED)" if row.get("expired") else ""
            return (
                f"{where}: {row.get('kind_of_document', row.get('document', 'document'))} "
                f"{row.get('full_name', '')}, number ending {row.get('number_last4', '?')}{expired}"
            )
        return f"{where}: not a kiosk code"

    emit(args, rows, lambda: "\n".join(describe(row) for row in rows) or "no codes found")
    return 0 if rows else 1


def cmd_print_test(args: argparse.Namespace) -> int:
    from kiosk.app import printer_settings
    from kiosk.devices.commands import open_printer, print_test_page

    kiosk = _open(args)
    settings = printer_settings(kiosk.config)
    printer = open_printer(settings)
    sent = print_test_page(printer, settings.profile, settings.font_path)
    emit(
        args,
        {"printer": printer.name, "bytes": sent},
        f"test page sent to {printer.name} ({sent} bytes)",
    )
    return 0


def cmd_rollcall(args: argparse.Namespace) -> int:
    from kiosk.app import printer_settings
    from kiosk.devices.commands import open_printer, print_roll_call

    kiosk = _open(args)
    settings = printer_settings(kiosk.config)
    entries = kiosk.engine.on_site()
    printer = open_printer(settings)
    now = kiosk.clock.now().astimezone(kiosk.config.site.zone)
    sent = print_roll_call(
        printer, entries, kiosk.config.site.name, now, settings.profile, settings.font_path
    )
    emit(
        args,
        {"printer": printer.name, "people": len(entries), "bytes": sent},
        f"roll call of {len(entries)} people sent to {printer.name}",
    )
    return 0


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    from kiosk.domain.values import HostAvailability, Purpose, VisitorLevel

    config_help = "the kiosk.toml (default: $KIOSK_CONFIG or /etc/kiosk/kiosk.toml)"
    top = argparse.ArgumentParser(add_help=False)
    top.add_argument("--config", help=config_help)
    top.add_argument("--json", action="store_true", help="print data as JSON")
    # The same options after the command must not reset what was given before it:
    # argparse copies a subcommand's defaults over the parent's, unless they are SUPPRESS.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help=config_help)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print data as JSON"
    )

    parser = argparse.ArgumentParser(
        prog="kiosk", description=__doc__.split("\n")[0], parents=[top]
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, handler: Handler, help_text: str, parent: Any = commands
    ) -> argparse.ArgumentParser:
        sub = parent.add_parser(name, help=help_text, description=help_text, parents=[common])
        sub.set_defaults(handler=handler)
        return sub

    purposes = [p.value for p in Purpose]
    levels = [level.value for level in VisitorLevel]

    init = command("init", cmd_init, "create the config, keys and database (safe to run twice)")
    init.add_argument("--site-name", default="International Tower")
    init.add_argument("--data-dir", default="data", help="relative to the config file's folder")
    init.add_argument("--keys-dir", default="keys", help="relative to the config file's folder")
    init.add_argument(
        "--demo",
        action="store_true",
        help="the demo site's settings (`make run`): open at any hour, mail to `kiosk demo-mail`",
    )

    command("demo-seed", cmd_demo_seed, "add demo hosts and today's appointments")
    demo_mail = command(
        "demo-mail", cmd_demo_mail, "the demo's local mailbox: each message as an .eml file"
    )
    demo_mail.add_argument("--port", type=int, help="on 127.0.0.1 (default 8025)")
    demo_mail.add_argument("--folder", help="default: mail/ beside the kiosk.toml")
    run = command("run", cmd_run, "start the touchscreen kiosk")
    run.add_argument(
        "--size",
        type=_window_size,
        help="window size like 800x480 (default, and with --fullscreen: the screen's size)",
    )
    run.add_argument("--fullscreen", action="store_true")
    run.add_argument("--font", help="a CJK font file (default: found through fontconfig)")
    prepare = command(
        "prepare-fonts", cmd_prepare_fonts, "prepare the touchscreen's fonts (once, ~1 min)"
    )
    prepare.add_argument("--font", help="the CJK font file `kiosk run --font` is given")
    prepare.add_argument(
        "--background", action="store_true", help="prepare them in a process of its own and return"
    )
    prepare.add_argument("--hold-lock", action="store_true", help=argparse.SUPPRESS)
    engine = command("engine", cmd_engine, "the engine of `kiosk run` (it starts this itself)")
    engine.add_argument("--link-fd", type=int, required=True, help="its end of the socket pair")

    config = command("config", lambda _a: 2, "configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    command("show", cmd_config_show, "print the settings in force, secrets masked", config_commands)

    hosts = command("hosts", lambda _a: 2, "the host directory")
    host_commands = hosts.add_subparsers(dest="hosts_command", required=True)
    add = command("add", cmd_hosts_add, "add or update a host", host_commands)
    add.add_argument("name")
    add.add_argument("--email")
    add.add_argument("--department")
    add.add_argument("--phone")
    add.add_argument("--delegate", help="the assistant or delegate told when the host is away")
    add.add_argument(
        "--senior", action="store_true", help="a senior manager: walk-ins go via the delegate"
    )
    add.add_argument("--approval", action="store_true", help="walk-ins need this host's approval")
    imp = command("import", cmd_hosts_import, "import hosts from CSV", host_commands)
    imp.add_argument("file")
    command("list", cmd_hosts_list, "list hosts", host_commands)
    avail = command(
        "availability", cmd_hosts_availability, "set a host in, out or in a meeting", host_commands
    )
    avail.add_argument("host")
    avail.add_argument("availability", choices=[a.value for a in HostAvailability])

    appointments = command("appointments", lambda _a: 2, "appointments")
    appointment_commands = appointments.add_subparsers(dest="appointments_command", required=True)
    aimp = command(
        "import", cmd_appointments_import, "import CSV or iCalendar", appointment_commands
    )
    aimp.add_argument("file")
    alist = command("list", cmd_appointments_list, "a day's appointments", appointment_commands)
    alist.add_argument("--date", help="YYYY-MM-DD (default: today)")
    cancel = command(
        "cancel", cmd_appointments_cancel, "cancel and revoke its invitation", appointment_commands
    )
    cancel.add_argument("ref")

    invite = command("invite", cmd_invite, "book a visit and print its signed invitation")
    invite.add_argument("--visitor", required=True)
    invite.add_argument("--host", required=True)
    invite.add_argument("--at", required=True, help='local time "YYYY-MM-DD HH:MM"')
    invite.add_argument("--type", default="visitor", help="visitor type from the config")
    invite.add_argument("--company")
    invite.add_argument("--email")
    invite.add_argument("--purpose", default="visit_person", choices=purposes)
    invite.add_argument("--level", default="ordinary", choices=levels)
    invite.add_argument("--qr", help="write the QR code to this PNG file")

    watch = command("watchlist", lambda _a: 2, "the watchlist")
    watch_commands = watch.add_subparsers(dest="watchlist_command", required=True)
    wadd = command("add", cmd_watchlist_add, "add a person", watch_commands)
    wadd.add_argument("name")
    wadd.add_argument("--reason")
    wadd.add_argument("--document", help="document number (stored only as a salted hash)")

    verify = command("verify", cmd_verify, "verify an invitation or badge; exit 0 only if valid")
    verify.add_argument("token")

    checkin = command("checkin", cmd_checkin, "check a visitor in")
    checkin.add_argument("--token", help="a QR invitation")
    checkin.add_argument("--walk-in", action="store_true")
    checkin.add_argument("--name")
    checkin.add_argument("--appointment", help="an appointment ref (after --name found several)")
    checkin.add_argument("--host")
    checkin.add_argument("--company")
    checkin.add_argument("--phone")
    checkin.add_argument("--purpose", default="visit_person", choices=purposes)
    checkin.add_argument("--level", default="ordinary", choices=levels)
    checkin.add_argument("--type", default="visitor")
    checkin.add_argument("--photo", help="JPEG file of the visitor's photo")
    checkin.add_argument("--signature", help="PNG of the signature: accepts the visit's agreement")
    checkin.add_argument("--language", default="en", choices=["zh_Hans", "zh_Hant", "en"])
    checkin.add_argument("--companions", type=int, default=0)
    checkin.add_argument("--items", help="items declared")
    checkin.add_argument(
        "--proceed-if-absent", action="store_true", help="check in even if the host is away"
    )

    message = command("message", cmd_message, "leave a message for an absent host")
    message.add_argument("--host", required=True)
    message.add_argument("--name", required=True)
    message.add_argument("--contact", required=True)
    message.add_argument("--company")
    message.add_argument("--purpose", default="visit_person", choices=purposes)
    message.add_argument("--text")

    ack = command("acknowledge", cmd_acknowledge, "record the host's acknowledgement")
    ack.add_argument("visit")
    approve = command("approve", cmd_approve, "approve (or --deny) a walk-in")
    approve.add_argument("visit")
    approve.add_argument("--deny", action="store_true")

    checkout = command("checkout", cmd_checkout, "check a visitor out")
    checkout.add_argument("--badge")
    checkout.add_argument("--visit")
    checkout.add_argument("--name")
    checkout.add_argument("--rating", type=int, choices=range(1, 6))
    checkout.add_argument("--comment")

    command("onsite", cmd_onsite, "who is in the building now")
    command("close-day", cmd_close_day, "automatic check-out and no-shows at the end of the day")

    report = command("report", cmd_report, "daily or monthly figures")
    report.add_argument("period", choices=["daily", "monthly"])
    report.add_argument("--date", help="a day in the period, YYYY-MM-DD (default: today)")
    export = command("export", cmd_export, "visits since a date, as CSV")
    export.add_argument("--since", required=True)
    export.add_argument("--output", help="file (default: standard output)")
    command("purge", cmd_purge, "remove personal data past its retention period")
    command("backup", cmd_backup, "copy the database safely, keeping the newest few")
    command("nightly", cmd_nightly, "close the day, purge and back up (the nightly timer)")

    audit = command("audit", lambda _a: 2, "the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    command("verify", cmd_audit_verify, "verify the hash chain", audit_commands)

    doctor = command("doctor", cmd_doctor, "check fonts, libraries, devices and configuration")
    doctor.add_argument(
        "--office-db",
        help="also check the office's database (an SQLite path; default $KIOSK_OFFICE_DB)",
    )

    admin = command("admin", lambda _a: 2, "staff settings")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    set_pin = command("set-pin", cmd_set_pin, "set the guard or admin PIN", admin_commands)
    set_pin.add_argument("--role", choices=["guard", "admin"], required=True)
    set_pin.add_argument("--pin-stdin", action="store_true", help="read the PIN from stdin")

    badge = command("badge", cmd_badge, "write a visit's badge as a picture and as printer bytes")
    badge.add_argument("visit", help="the visit ref")
    badge.add_argument("--png", help="the badge as the paper would show it")
    badge.add_argument("--escpos", help="the exact bytes the printer would receive")
    scan = command("scan", cmd_scan, "read codes from pictures or videos and say what they are")
    scan.add_argument("files", nargs="+")
    command("print-test", cmd_print_test, "print a test page on the configured printer")
    command("rollcall", cmd_rollcall, "print the evacuation roll call: everyone on site now")

    from kiosk.cli_idcard import register as register_id_card
    from kiosk.cli_office import register

    register(commands, command)
    register_id_card(commands, command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as err:
        print(f"configuration error: {err}", file=sys.stderr)
        return 2
    except TokenRejected as err:
        print(
            f"rejected: {err.reason.value}" + (f" ({err.detail})" if err.detail else ""),
            file=sys.stderr,
        )
        return 1
    except KioskError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
