"""Checking visitors in and out from the command line, as the touchscreen does.

kiosk verify TOKEN                 an invitation or badge; exit 0 only if valid
kiosk checkin --token T | --walk-in --name N --host H | --name N [--appointment REF]
kiosk message / acknowledge / approve
kiosk checkout --badge T | --visit REF | --name N
kiosk onsite                       who is in the building now
kiosk close-day                    automatic check-out and no-shows
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from kiosk.cli.common import Commands, emit, list_field, open_kiosk, plain, site_minute
from kiosk.domain.clock import local_time
from kiosk.domain.errors import AlreadyCheckedOut, KioskError, TokenRejected
from kiosk.domain.text import MISSING, padded


def _read_bytes(path: str | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


def cmd_verify(args: argparse.Namespace) -> int:
    from kiosk.domain.tokens import TokenKind, decode, parse

    kiosk = open_kiosk(args)
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
            data = {"valid": True, "kind": "badge", **plain(check)}
            data.pop("photo_jpeg", None)
            text = (
                f"VALID badge: {check.visitor_name}, host {check.host_name}, "
                f"expires {site_minute(kiosk, check.expires_at)}"
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
    data = plain(result)
    if data.get("badge"):
        data["badge"].pop("photo_jpeg", None)
    if data.get("requirements"):
        data["requirements"].pop("agreement", None)
    return data


def cmd_checkin(args: argparse.Namespace) -> int:
    from kiosk.domain.values import Purpose, VisitorLevel
    from kiosk.services.checkin import VisitorDetails, WalkIn

    kiosk = open_kiosk(args)
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
            data = {"matches": plain(matches)}
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

    kiosk = open_kiosk(args)
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
    kiosk = open_kiosk(args)
    seconds = kiosk.engine.acknowledge(args.visit)
    emit(
        args,
        {"visit": args.visit, "response_seconds": seconds},
        f"acknowledged after {seconds:.0f} s",
    )
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    kiosk = open_kiosk(args)
    badge = kiosk.engine.decide_approval(args.visit, not args.deny)
    if badge is None:
        emit(args, {"visit": args.visit, "approved": False}, "visit declined")
    else:
        emit(args, {"visit": args.visit, "approved": True, "badge": badge.token}, badge.token)
    return 0


def cmd_checkout(args: argparse.Namespace) -> int:
    kiosk = open_kiosk(args)
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
                {"matches": plain(found)},
                f"{len(found)} visitors on site match; use --visit REF\n{listing}",
            )
            return None
        kiosk.engine.check_out(found[0].visit_ref)
        return cast(str, found[0].visit_ref)
    raise KioskError("say how: --badge T, --visit REF or --name N")


def cmd_onsite(args: argparse.Namespace) -> int:
    kiosk = open_kiosk(args)
    entries = kiosk.engine.on_site()
    emit(
        args,
        entries,
        lambda: (
            "\n".join(
                f"{_arrival(kiosk, e.arrived_at):<16}  {padded(list_field(e.visitor_name), 20)} "
                f"{padded(list_field(e.company), 18)} host {padded(list_field(e.host_name), 14)} "
                f"{e.state}{'' if e.synced else '  (not synced)'}"
                for e in entries
            )
            + f"\n{len(entries)} on site"
        ),
    )
    return 0


def _arrival(kiosk: Any, moment: object) -> str:
    """The time in, in the site's zone (a naive time taken as UTC, as the kiosk stores it);
    MISSING when there is none or it cannot be shown."""
    return local_time(moment, kiosk.config.site.zone, "%Y-%m-%d %H:%M") or MISSING


def cmd_close_day(args: argparse.Namespace) -> int:
    kiosk = open_kiosk(args)
    counts = kiosk.engine.close_day()
    emit(
        args,
        counts,
        f"{counts['checked_out']} checked out automatically, {counts['no_shows']} no-shows",
    )
    return 0


def _register_checkin(commands: Commands) -> None:
    from kiosk.domain.values import Purpose, VisitorLevel

    purposes = [p.value for p in Purpose]
    checkin = commands.add("checkin", cmd_checkin, "check a visitor in")
    checkin.add_argument("--token", help="a QR invitation")
    checkin.add_argument("--walk-in", action="store_true")
    checkin.add_argument("--name")
    checkin.add_argument("--appointment", help="an appointment ref (after --name found several)")
    checkin.add_argument("--host")
    checkin.add_argument("--company")
    checkin.add_argument("--phone")
    checkin.add_argument("--purpose", default="visit_person", choices=purposes)
    checkin.add_argument("--level", default="ordinary", choices=[v.value for v in VisitorLevel])
    checkin.add_argument("--type", default="visitor")
    checkin.add_argument("--photo", help="JPEG file of the visitor's photo")
    checkin.add_argument("--signature", help="PNG of the signature: accepts the visit's agreement")
    checkin.add_argument("--language", default="en", choices=["zh_Hans", "zh_Hant", "en"])
    checkin.add_argument("--companions", type=int, default=0)
    checkin.add_argument("--items", help="items declared")
    checkin.add_argument(
        "--proceed-if-absent", action="store_true", help="check in even if the host is away"
    )

    message = commands.add("message", cmd_message, "leave a message for an absent host")
    message.add_argument("--host", required=True)
    message.add_argument("--name", required=True)
    message.add_argument("--contact", required=True)
    message.add_argument("--company")
    message.add_argument("--purpose", default="visit_person", choices=purposes)
    message.add_argument("--text")


def register(commands: Commands) -> None:
    """Add the check-in and check-out commands: verify, checkin, message, acknowledge,
    approve, checkout, onsite, close-day."""
    verify = commands.add(
        "verify", cmd_verify, "verify an invitation or badge; exit 0 only if valid"
    )
    verify.add_argument("token")
    _register_checkin(commands)

    ack = commands.add("acknowledge", cmd_acknowledge, "record the host's acknowledgement")
    ack.add_argument("visit")
    approve = commands.add("approve", cmd_approve, "approve (or --deny) a walk-in")
    approve.add_argument("visit")
    approve.add_argument("--deny", action="store_true")

    checkout = commands.add("checkout", cmd_checkout, "check a visitor out")
    checkout.add_argument("--badge")
    checkout.add_argument("--visit")
    checkout.add_argument("--name")
    checkout.add_argument("--rating", type=int, choices=range(1, 6))
    checkout.add_argument("--comment")

    commands.add("onsite", cmd_onsite, "who is in the building now")
    commands.add(
        "close-day", cmd_close_day, "automatic check-out and no-shows at the end of the day"
    )
