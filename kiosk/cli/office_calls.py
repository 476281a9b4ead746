"""`kiosk office calls`: the desk's call log from the command line (电话记录表).

    kiosk office calls log --about TEXT [--caller NAME] [--unit U] [--phone P]
                           [--for HOST] [--message TEXT] [--becomes complaint|repair]
                           [--category C]      one call; a message goes to the host
    kiosk office calls list [--since YYYY-MM-DD] [--limit N]
    kiosk office calls show ID
    kiosk office calls to-case ID --kind complaint|repair [--category C]

Each takes --db, --site (needed only when the office has several) and --json, as
`kiosk office cases` does; the command line acts as reception ("cli" in the log). HOST is
a host's ref or name. A message for someone absent is sent to the host's channels as
host messages are, and the answer says whether it went.
"""

from __future__ import annotations

import argparse
from datetime import datetime, time
from typing import Any

from kiosk.cli.common import Commands, emit, needs_subcommand, office_of, site_of
from kiosk.domain.errors import InvalidInput, NotFound


def _host_ref(site: Any, wanted: str) -> str:
    from kiosk.office.models import OfficeHost

    if not wanted:
        return ""
    mine = (OfficeHost.site == site.id) & OfficeHost.active
    by_ref = OfficeHost.get_or_none(mine & (OfficeHost.ref == wanted))
    if by_ref is not None:
        return str(by_ref.ref)
    named = list(OfficeHost.select().where(mine & (OfficeHost.name == wanted.strip())).limit(3))
    if not named:
        raise NotFound(f"no active host {wanted[:60]!r} at this site")
    if len(named) > 1:
        refs = ", ".join(host.ref for host in named)
        raise InvalidInput("--for", f"several hosts are named {wanted[:60]!r}: give a ref ({refs})")
    return str(named[0].ref)


def _since(text: str | None, zone: Any) -> datetime | None:
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput("--since", f"{text[:20]!r} is not a day (YYYY-MM-DD)") from None
    return datetime.combine(day, time(0), tzinfo=zone)


def _call_text(data: dict[str, Any]) -> str:
    head = f"#{data['id']} {data['at'][:16]} {data['caller'] or '-'}"
    parts = [head, data["unit"], data["for_whom"] and f"for {data['for_whom']}"]
    line = "  ".join(p for p in parts if p)
    return "\n".join(p for p in (line, data["subject"], data["message"] and
                                 f"message: {data['message']}") if p)  # fmt: skip


def cmd_calls(args: argparse.Namespace) -> int:
    from kiosk.office.cases.calls import CallDetails, call_data
    from kiosk.office.cases.desk import Actor, case_data

    store, office = office_of(args)
    calls = office.cases.calls
    with store.db.connection_context():
        site = site_of(args)
        zone = args.site_zone
        actor = Actor(site.id, "reception", "cli")
        action = args.calls_command
        if action == "log":
            details = CallDetails(
                caller=args.caller, unit=args.unit, phone=args.phone, subject=args.about,
                for_host=_host_ref(site, args.for_host), message=args.message,
            )  # fmt: skip
            recorded = calls.record(actor, details, becomes=args.becomes, category=args.category)
            data = call_data(recorded.entry, zone)
            data["message_sent"] = recorded.message_sent
            data["case"] = case_data(recorded.case) if recorded.case else None
            emit(args, data, lambda: _logged_text(data))
        elif action == "list":
            rows = [call_data(e, zone) for e in calls.calls(
                site.id, limit=args.limit, since=_since(args.since, zone))]  # fmt: skip
            emit(args, rows, lambda: "\n\n".join(_call_text(r) for r in rows) or "no calls")
        elif action == "show":
            data = call_data(calls.get(site.id, args.call), zone)
            emit(args, data, lambda: _call_text(data))
        else:
            case = calls.to_case(actor, args.call, args.kind, args.category)
            emit(args, case_data(case), f"call {args.call} is now case {case.number}")
    return 0


def _logged_text(data: dict[str, Any]) -> str:
    lines = [f"call #{data['id']} logged"]
    if data["case"]:
        lines.append(f"case {data['case']['number']} opened from it")
    if data["message_sent"] is not None:
        told = "sent to" if data["message_sent"] else "could NOT be sent to"
        lines.append(f"the message {told} {data['for_whom']}")
    return "\n".join(lines)


def register(commands: Commands) -> None:
    """Add `kiosk office calls ...` under the `kiosk office` group."""
    office_group = commands.existing_group("office")
    group = commands.add("calls", needs_subcommand, "the desk's call log", office_group)
    subs = group.add_subparsers(dest="calls_command", required=True)

    def sub(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = commands.add(name, cmd_calls, help_text, subs)
        parser.add_argument("--db", help="postgresql://... or an SQLite path")
        parser.add_argument("--site", help="the site (needed when the office has several)")
        return parser

    log = sub("log", "record a call (and its case, or a message for a host)")
    log.add_argument("--about", default="", help="what the call was about")
    log.add_argument("--caller", default="")
    log.add_argument("--unit", default="")
    log.add_argument("--phone", default="", help="the caller's number (kept on the case)")
    log.add_argument("--for", dest="for_host", default="", help="the host: a ref or a name")
    log.add_argument("--message", default="", help="the message left for the host")
    log.add_argument("--becomes", default="", choices=("", "complaint", "repair"))
    log.add_argument("--category", default="", help="a repair's category (water, lift...)")
    listing = sub("list", "the site's calls, newest first")
    listing.add_argument("--since", help="YYYY-MM-DD, the site's local day")
    listing.add_argument("--limit", type=int, default=100)
    show = sub("show", "one call")
    show.add_argument("call", type=int, help="the call's number (#)")
    to_case = sub("to-case", "make a logged call a case")
    to_case.add_argument("call", type=int, help="the call's number (#)")
    to_case.add_argument("--kind", required=True, choices=("complaint", "repair"))
    to_case.add_argument("--category", default="")
