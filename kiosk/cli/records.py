"""The kiosk's records from the command line: figures, exports, purge, backups, audit.

kiosk report daily|monthly [--date D]   the figures of a day or month
kiosk export --since D [--output F]     visits as CSV (formulas defused)
kiosk purge / backup / nightly          retention, a safe copy, and both with close-day
kiosk audit verify                      the audit log's hash chain, sealed files included
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import sys
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from kiosk.cli.common import Commands, emit, open_kiosk, site_time
from kiosk.domain.errors import KioskError

if TYPE_CHECKING:
    from kiosk.config import KioskConfig


def cmd_report(args: argparse.Namespace) -> int:
    from kiosk.services.reports import build_report, format_report

    kiosk = open_kiosk(args)
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

    kiosk = open_kiosk(args)
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

    kiosk = open_kiosk(args)
    report = purge(
        kiosk.db,
        kiosk.config.retention,
        kiosk.clock,
        case_contact_days=kiosk.config.cases.contact_days,
    )
    emit(
        args, report.as_dict(), lambda: "\n".join(f"{k}: {v}" for k, v in report.as_dict().items())
    )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from kiosk.storage.backup import backup_database

    kiosk = open_kiosk(args)
    path = backup_database(
        kiosk.config.database_path,
        kiosk.config.backup_dir,
        keep=kiosk.config.storage.backups_kept,
        full_check=args.full_check,
    )
    emit(args, {"backup": str(path)}, f"backed up to {path}")
    return 0


def nightly_backup(config: KioskConfig, now: datetime) -> dict[str, str]:
    """The night's backup: checked with quick_check, and with integrity_check once a week."""
    from kiosk.storage.backup import backup_database, full_check_due

    full_check = full_check_due(config.backup_dir, now)
    path = backup_database(
        config.database_path,
        config.backup_dir,
        keep=config.storage.backups_kept,
        now=now,
        full_check=full_check,
    )
    return {"path": str(path), "check": "integrity_check" if full_check else "quick_check"}


def cmd_nightly(args: argparse.Namespace) -> int:
    """What the nightly timer runs: close the day, purge, seal old audit entries in files,
    compact, back up. Each step is tried even if one before it failed, and the exit status
    says whether all succeeded."""
    from kiosk.services.retention import purge
    from kiosk.storage.audit_archive import archive_audit, archive_dir
    from kiosk.storage.compaction import compact_database

    kiosk = open_kiosk(args)
    audit_days = timedelta(days=kiosk.config.retention.audit_in_database_days)
    steps: dict[str, Callable[[], Any]] = {
        "close_day": kiosk.engine.close_day,
        "purge": lambda: purge(
            kiosk.db,
            kiosk.config.retention,
            kiosk.clock,
            case_contact_days=kiosk.config.cases.contact_days,
        ).as_dict(),
        "archive_audit": lambda: archive_audit(
            kiosk.db, archive_dir(kiosk.config.database_path), kiosk.clock.now() - audit_days
        ).as_dict(),
        "compact": lambda: compact_database(kiosk.db, kiosk.config.database_path).as_dict(),
        "backup": lambda: nightly_backup(kiosk.config, kiosk.clock.now()),
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


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from kiosk.storage.audit_archive import archive_dir, verify_with_archives

    kiosk = open_kiosk(args)
    report = verify_with_archives(archive_dir(kiosk.config.database_path))
    text = (
        f"audit chain intact: {report.entries} entries ({report.archived} in sealed files)"
        if report.intact
        else f"AUDIT CHAIN BROKEN at entry {report.first_broken_id}: {report.problem}"
    )
    emit(args, report, text)
    return 0 if report.intact else 1


def register(commands: Commands) -> None:
    """Add the records' commands: report, export, purge, backup, nightly, audit."""
    report = commands.add("report", cmd_report, "daily or monthly figures")
    report.add_argument("period", choices=["daily", "monthly"])
    report.add_argument("--date", help="a day in the period, YYYY-MM-DD (default: today)")
    export = commands.add("export", cmd_export, "visits since a date, as CSV")
    export.add_argument("--since", required=True)
    export.add_argument("--output", help="file (default: standard output)")
    commands.add("purge", cmd_purge, "remove personal data past its retention period")
    backup = commands.add("backup", cmd_backup, "copy the database safely, keeping the newest few")
    backup.add_argument(
        "--full-check",
        action="store_true",
        help="check the copy with integrity_check (every index against its table), not quick_check",
    )
    commands.add("nightly", cmd_nightly, "close the day, purge and back up (the nightly timer)")

    audit_commands = commands.group("audit", "the audit log", "audit_command")
    commands.add("verify", cmd_audit_verify, "verify the hash chain", audit_commands)
