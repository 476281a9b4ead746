"""`kiosk delivery ...`: parcels at the kiosk from the command line (issue 20).

kiosk delivery log --host NAME | --company TEXT --kind K --carrier C [--items N]
                   [--waybill W] [--print]    log a parcel (and print its label)
kiosk delivery pickup CODE|TOKEN --by NAME [--parcel REF] [--guard]   collect one
kiosk delivery return REF                     a guard hands it back to the carrier
kiosk delivery reprint REF                    print the label again
kiosk delivery list [--state waiting|collected|returned|all]
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from kiosk.cli.common import Commands, emit, list_field, open_kiosk, site_minute
from kiosk.services.deliveries.values import KINDS, ParcelView


def _desk(args: argparse.Namespace) -> tuple[Any, Any]:
    from kiosk.app import build_delivery_desk

    kiosk = open_kiosk(args)
    return kiosk, build_delivery_desk(kiosk)


def _shown(view: ParcelView) -> dict[str, Any]:
    data = asdict(view)
    data.pop("token")  # the pickup token collects the parcel: not for a terminal's scrollback
    return data


def _print_label(kiosk: Any, desk: Any, parcel_ref: str) -> str:
    from kiosk.app import open_configured_printer, printer_settings
    from kiosk.parcel_printing import ParcelLabels

    labels = ParcelLabels(
        desk, kiosk.engine, open_configured_printer(kiosk.config), printer_settings(kiosk.config),
        kiosk.clock,
    )  # fmt: skip
    job = labels.print_label(parcel_ref)
    labels.queue.run_pending()
    done = labels.queue.get(job.job_id)
    return str(done.state) if not done.error else f"{done.state}: {done.error}"


def cmd_log(args: argparse.Namespace) -> int:
    from kiosk.services.deliveries import NewParcel

    kiosk, desk = _desk(args)
    host_ref = kiosk.directory.find_host(args.host).ref if args.host else ""
    view = desk.log_parcel(
        NewParcel(
            kind=args.kind,
            carrier=args.carrier,
            items=args.items,
            host_ref=host_ref,
            company=args.company or "",
            waybill=args.waybill or "",
        )
    )
    data = _shown(view)
    if args.print:
        data["label"] = _print_label(kiosk, desk, view.parcel_ref)
    told = "the desk (the recipient has left)" if view.recipient_left else view.recipient
    emit(
        args,
        data,
        f"parcel {view.parcel_ref} for {view.recipient}: pickup code {view.pickup_code}, "
        f"shelf {view.shelf or '-'}; {told} will be told"
        + (f"; label {data['label']}" if args.print else ""),
    )
    return 0


def cmd_pickup(args: argparse.Namespace) -> int:
    _, desk = _desk(args)
    code = "".join(args.code.split())
    if args.guard:
        view = desk.collect_by_guard(args.parcel or code, args.by)
    elif code.isdigit():
        view = desk.collect_with_code(code, args.by, parcel_ref=args.parcel or "")
    else:
        view = desk.collect_with_token(code, args.by)
    emit(args, _shown(view), f"parcel {view.parcel_ref} collected by {view.collected_by}")
    return 0


def cmd_return(args: argparse.Namespace) -> int:
    _, desk = _desk(args)
    view = desk.mark_returned(args.ref, by="cli")
    emit(args, _shown(view), f"parcel {view.parcel_ref} returned to sender")
    return 0


def cmd_reprint(args: argparse.Namespace) -> int:
    kiosk, desk = _desk(args)
    state = _print_label(kiosk, desk, args.ref)
    emit(args, {"parcel_ref": args.ref, "label": state}, f"label {state}")
    return 0 if state == "done" else 1


def cmd_list(args: argparse.Namespace) -> int:
    kiosk, desk = _desk(args)
    views = desk.parcels(args.state)

    def text() -> str:
        lines = [
            f"{v.pickup_code}  {v.state:<9}  {list_field(v.shelf):<5}  {v.carrier:<8}  "
            f"{site_minute(kiosk, v.logged_at)}  {list_field(v.recipient)}"
            for v in views
        ]
        return "\n".join(lines) or f"no {args.state} parcels"

    emit(args, [_shown(v) for v in views], text)
    return 0


def register(commands: Commands) -> None:
    """Add `kiosk delivery log|pickup|return|reprint|list`."""
    group = commands.group("delivery", "parcels left at the kiosk", "delivery_command")
    log = commands.add("log", cmd_log, "log a parcel for a host or a company", group)
    recipient = log.add_mutually_exclusive_group(required=True)
    recipient.add_argument("--host", help="the host's name, pinyin or ref")
    recipient.add_argument("--company", help="a company, when no host is named")
    log.add_argument("--kind", default="parcel", choices=KINDS)
    log.add_argument("--carrier", required=True, help="a carrier key of [deliveries] carriers")
    log.add_argument("--items", type=int, default=1)
    log.add_argument("--waybill")
    log.add_argument("--print", action="store_true", help="print the label")
    pickup = commands.add("pickup", cmd_pickup, "collect a parcel by code or QR token", group)
    pickup.add_argument("code", help="the 6-digit code, the QR's token, or a ref with --guard")
    pickup.add_argument("--by", required=True, help="who collects it")
    pickup.add_argument("--parcel", help="which parcel, when two share a code")
    pickup.add_argument("--guard", action="store_true", help="a guard marks it collected")
    ret = commands.add("return", cmd_return, "return a parcel to its sender", group)
    ret.add_argument("ref")
    reprint = commands.add("reprint", cmd_reprint, "print a parcel's label again", group)
    reprint.add_argument("ref")
    listing = commands.add("list", cmd_list, "the parcels", group)
    listing.add_argument(
        "--state", default="waiting", choices=["waiting", "collected", "returned", "all"]
    )
