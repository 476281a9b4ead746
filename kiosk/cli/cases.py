"""`kiosk case open|show|follow-up`: the kiosk's cases from the command line (issue 19),
for scripts and the tests; the touchscreen does the same through kiosk.services.cases.

    kiosk case open --kind repair --category water --unit 3-1201 --description "..." \
        --name "Li Wei" --phone 13800000000 [--urgent] [--photo FILE --photo-agreed] --json
    kiosk case show RECEIPT_OR_URL_OR_CASE_REF --json
    kiosk case follow-up RECEIPT_OR_URL_OR_CASE_REF satisfied|not_satisfied [--note TEXT] --json
"""

from __future__ import annotations

import argparse
import re
import uuid
from pathlib import Path
from typing import Any

from kiosk.cli.common import Commands, emit, open_kiosk

_CASE_REF = re.compile(r"[0-9a-f]{16}")


def _desk(args: argparse.Namespace) -> Any:
    from kiosk.app import build_case_desk

    return build_case_desk(open_kiosk(args))


def _case_ref(desk: Any, given: str) -> str:
    """A case ref as typed, else the case a scanned receipt (token or URL) names."""
    return given if _CASE_REF.fullmatch(given) else desk.case_ref_of_receipt(given)


def cmd_case_open(args: argparse.Namespace) -> int:
    from kiosk.services.cases.form import CaseReport, Place, Reporter

    desk = _desk(args)
    report = CaseReport(
        submission_key=args.submission or uuid.uuid4().hex,
        kind=args.kind,
        urgency="urgent" if args.urgent else "normal",
        category=args.category or "",
        description=args.description,
        place=Place(args.building or "", args.floor or "", args.unit or "", args.place or ""),
        reporter=Reporter(args.name or "", args.reporter_unit or "", args.phone or ""),
        language=args.language,
        photo_agreed=args.photo_agreed,
        photo_jpeg=Path(args.photo).read_bytes() if args.photo else None,
    )
    opened = desk.open(report)
    emit(args, opened, f"case {opened.number} opened; response due {opened.response_due_at:%H:%M}")
    return 0


def cmd_case_show(args: argparse.Namespace) -> int:
    desk = _desk(args)
    view = desk.show(_case_ref(desk, args.case))
    data = {**vars(view), "can_follow_up": view.can_follow_up}
    emit(args, data, f"{view.number} {view.kind}: {view.state}")
    return 0


def cmd_case_follow_up(args: argparse.Namespace) -> int:
    desk = _desk(args)
    view = desk.follow_up(_case_ref(desk, args.case), args.outcome, args.note or "")
    emit(
        args,
        {**vars(view), "can_follow_up": view.can_follow_up},
        f"{view.number}: follow-up recorded ({args.outcome})",
    )
    return 0


def register(commands: Commands) -> None:
    """Add `kiosk case` and its subcommands open, show and follow-up."""
    group = commands.group(
        "case", "cases reported at this kiosk (open, show, follow-up)", "case_command"
    )
    opening = commands.add("open", cmd_case_open, "open a case as the touchscreen would", group)
    opening.add_argument(
        "--kind", required=True, choices=("complaint", "repair", "suggestion", "inquiry")
    )
    opening.add_argument("--description", required=True)
    opening.add_argument("--category")
    opening.add_argument("--urgent", action="store_true")
    for name in ("--building", "--floor", "--unit", "--place", "--name", "--phone"):
        opening.add_argument(name)
    opening.add_argument("--reporter-unit")
    opening.add_argument("--language", default="en", choices=("en", "zh_CN", "zh_TW"))
    opening.add_argument("--photo", help="a JPEG file (with --photo-agreed)")
    opening.add_argument("--photo-agreed", action="store_true")
    opening.add_argument("--submission", help="the submission's key; the same key is one case")
    show = commands.add("show", cmd_case_show, "show a case from its receipt or ref", group)
    show.add_argument("case", help="the receipt's token or URL, or the case ref")
    follow = commands.add("follow-up", cmd_case_follow_up, "record the reporter's answer", group)
    follow.add_argument("case", help="the receipt's token or URL, or the case ref")
    follow.add_argument("outcome", choices=("satisfied", "not_satisfied"))
    follow.add_argument("--note")
