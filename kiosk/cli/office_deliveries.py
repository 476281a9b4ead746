"""`kiosk office deliveries`: the office's parcels from the command line.

    kiosk office deliveries list [--state S] [--host REF] [--company C] [--carrier K] [--age D]
    kiosk office deliveries show REF          one parcel and its history
    kiosk office deliveries return REF        returned to sender (kiosks refuse its pickup)
    kiosk office deliveries report [--from D] [--to D]   per day, per carrier, median pickup
    kiosk office deliveries remind [--once]   the reminders and the desk's list that are due

Each takes --db (as every `kiosk office` command) and --site NAME (needed only when the
office has more than one site), and --json. The command line acts as the office itself
("cli" in the parcel's history and the audit), over every parcel of the site.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from kiosk.cli.common import Commands, emit, needs_subcommand, stop_on_signals


def _office(args: argparse.Namespace) -> Any:
    from kiosk.office.api import build_office
    from kiosk.office.store import OfficeStore, open_office_database

    return build_office(
        OfficeStore(open_office_database(args.db or os.environ.get("KIOSK_OFFICE_DB")))
    )


def _site(args: argparse.Namespace, store: Any) -> Any:
    """The site of --site, or the office's only one; its zone for the JSON's times."""
    from zoneinfo import ZoneInfo

    from kiosk.domain.errors import InvalidInput, NotFound
    from kiosk.office.models import Site
    from kiosk.office.settings import load_site_settings

    if args.site:
        site = Site.get_or_none(Site.name == args.site)
        if site is None:
            raise NotFound(f"no site {args.site!r}")
    else:
        sites = list(Site.select().limit(2))
        if len(sites) != 1:
            raise InvalidInput(
                "--site",
                "name the site: the office has " + ("none" if not sites else "more than one"),
            )
        site = sites[0]
    args.site_zone = ZoneInfo(load_site_settings(site).timezone)
    return site


def _row_dict(row: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(row)


def _line(row: Any, zone: Any) -> str:
    from kiosk.domain.text import padded, shown

    when = row.logged_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return (
        f"{row.ref}  {when}  {padded(row.state, 9)} {padded(shown(row.recipient), 20)} "
        f"{padded(row.kind, 9)} {padded(row.carrier, 8)} x{row.items:<3} {shown(row.shelf) or '-'}"
    )


def cmd_list(args: argparse.Namespace) -> int:
    from kiosk.domain.errors import InvalidInput
    from kiosk.office.deliveries import ledger
    from kiosk.office.deliveries.rules import ParcelState

    office = _office(args)
    with office.store.db.connection_context():
        site = _site(args, office.store)
        if args.state and args.state not in set(ParcelState):
            raise InvalidInput("--state", "must be waiting, collected or returned")
        wanted = ledger.ParcelFilter(
            state=args.state or "",
            host_ref=args.host or "",
            company=args.company or "",
            carrier=args.carrier or "",
            older_than_days=args.age or 0,
        )
        now = office.store.clock.now()
        rows, _ = ledger.parcel_page(ledger.Viewer(site.id), wanted, now, size=args.limit)
    emit(
        args,
        [_row_dict(row) for row in rows],
        lambda: "\n".join(_line(row, args.site_zone) for row in rows) or "no parcels",
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from kiosk.office.deliveries import ledger

    office = _office(args)
    with office.store.db.connection_context():
        site = _site(args, office.store)
        detail = ledger.parcel_detail(ledger.Viewer(site.id), args.ref)
    data = {**_row_dict(detail.row), "history": detail.history}

    def text() -> str:
        lines = [_line(detail.row, args.site_zone)]
        if detail.row.collected_at:
            lines.append(
                f"collected by {detail.row.collected_by} "
                f"({detail.row.collected_method}) at "
                f"{detail.row.collected_at.astimezone(args.site_zone):%Y-%m-%d %H:%M}"
            )
        lines += [
            f"  {line['at'].astimezone(args.site_zone):%Y-%m-%d %H:%M}  {line['action']}  "
            f"{line['actor']}"
            for line in detail.history
        ]
        return "\n".join(lines)

    emit(args, data, text)
    return 0


def cmd_return(args: argparse.Namespace) -> int:
    from kiosk.office.deliveries import ledger

    office = _office(args)
    with office.store.db.connection_context():
        site = _site(args, office.store)
        row = ledger.mark_returned(
            office.store.feed, ledger.Viewer(site.id), args.ref, args.by, office.store.clock.now()
        )
    emit(args, _row_dict(row), f"parcel {row.ref} returned to sender; kiosks refuse its pickup")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import date, timedelta

    from kiosk.office.deliveries import ledger, reports

    office = _office(args)
    with office.store.db.connection_context():
        site = _site(args, office.store)
        today = office.store.clock.now().astimezone(args.site_zone).date()
        last = date.fromisoformat(args.to) if args.to else today
        try:
            first = date.fromisoformat(args.since) if args.since else last - timedelta(days=29)
        except OverflowError as err:
            raise ValueError(f"--to {args.to} leaves no 30 days before it") from err
        built = reports.delivery_report(ledger.Viewer(site.id), first, last, args.site_zone)

    def text() -> str:
        median = built.median_pickup_seconds
        lines = [
            f"{built.first_day} to {built.last_day}: {built.logged} logged, {built.collected} "
            f"collected, {built.waiting} waiting, {built.returned} returned",
            "median time to pickup: " + ("-" if median is None else f"{median / 60:.1f} min"),
            "per carrier: " + (", ".join(f"{c} {n}" for c, n in built.per_carrier) or "-"),
            *(f"  {day}  {count}" for day, count in built.per_day if count),
        ]
        return "\n".join(lines)

    emit(args, built.as_dict(), text)
    return 0


def cmd_remind(args: argparse.Namespace) -> int:
    reminders = _office(args).parcel_reminders
    if args.once:
        report = reminders.tick()
        emit(
            args,
            vars(report),
            f"reminders {report.reminders}, desk lists {report.desk_lists}, "
            f"failed {report.failed}, unreachable {report.unreachable}",
        )
        return 0
    reminders.run(stop_on_signals())
    return 0


def register(commands: Commands) -> None:
    """Add `kiosk office deliveries` and its subcommands under `kiosk office` (registered
    after kiosk.cli.office, which makes that group)."""
    office_commands = commands.existing_group("office")
    group = commands.add(
        "deliveries", needs_subcommand, "the parcels left at the kiosks", office_commands
    ).add_subparsers(dest="deliveries_command", required=True)

    def sub(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        parser = commands.add(name, handler, help_text, group)
        parser.add_argument("--db", help="postgresql://... or an SQLite path")
        parser.add_argument("--site", help="the site's name (needed with more than one)")
        return parser

    listing = sub("list", cmd_list, "the site's parcels, newest first")
    listing.add_argument("--state", help="waiting, collected or returned")
    listing.add_argument("--host", help="the recipient host's ref")
    listing.add_argument("--company", help="part of the recipient company's name")
    listing.add_argument("--carrier", help="a carrier's key (sf, jd, ...)")
    listing.add_argument("--age", type=int, help="waiting at least this many days")
    listing.add_argument("--limit", type=int, default=200, help="at most this many (200)")
    sub("show", cmd_show, "one parcel and its history").add_argument("ref")
    returned = sub("return", cmd_return, "mark a waiting parcel returned to sender")
    returned.add_argument("ref")
    returned.add_argument("--by", default="cli", help="who returned it (for the history)")
    report = sub("report", cmd_report, "deliveries per day and carrier, median time to pickup")
    report.add_argument("--from", dest="since", help="YYYY-MM-DD (default: 29 days before --to)")
    report.add_argument("--to", help="YYYY-MM-DD (default: today)")
    remind = sub("remind", cmd_remind, "send the parcel reminders and desk lists that are due")
    remind.add_argument("--once", action="store_true", help="one round, then exit")
