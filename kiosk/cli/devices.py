"""The kiosk's printer and camera codes from the command line.

    kiosk badge VISIT --png F --escpos F   a visit's badge as a picture and as printer bytes
    kiosk scan FILE...                     what the codes in pictures or videos are
    kiosk print-test / rollcall            a test page, the evacuation roll call

The printer is the one kiosk.app opens for the configuration; this module opens none.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from kiosk.cli.common import Commands, emit, open_kiosk
from kiosk.domain.errors import KioskError, TokenRejected


def cmd_badge(args: argparse.Namespace) -> int:
    from kiosk.app import printer_settings
    from kiosk.devices.commands import render_badge_files

    kiosk = open_kiosk(args)
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
            # The document's own "kind" (aamva, mrz, ...) must not hide that it is one.
            of_kind = document.get("kind", document.get("document", "document"))
            return {**document, "kind": "identity_document", "kind_of_document": of_kind}
        return {"kind": "unknown", "text": text[:80]}

    return classify


def cmd_scan(args: argparse.Namespace) -> int:
    from kiosk.devices.commands import scan_files

    kiosk = open_kiosk(args)
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
                f"{row.get('full_name', '')}, number ending {row.get('document_number_last4', '?')}"
                f"{expired}"
            )
        return f"{where}: not a kiosk code"

    emit(args, rows, lambda: "\n".join(describe(row) for row in rows) or "no codes found")
    return 0 if rows else 1


def cmd_print_test(args: argparse.Namespace) -> int:
    from kiosk.app import open_configured_printer, printer_settings
    from kiosk.devices.commands import print_test_page

    kiosk = open_kiosk(args)
    settings = printer_settings(kiosk.config)
    printer = open_configured_printer(kiosk.config)
    sent = print_test_page(printer, settings.profile, settings.font_path)
    emit(
        args,
        {"printer": printer.name, "bytes": sent},
        f"test page sent to {printer.name} ({sent} bytes)",
    )
    return 0


def cmd_rollcall(args: argparse.Namespace) -> int:
    from kiosk.app import open_configured_printer, printer_settings
    from kiosk.devices.commands import print_roll_call

    kiosk = open_kiosk(args)
    settings = printer_settings(kiosk.config)
    entries = kiosk.engine.on_site()
    printer = open_configured_printer(kiosk.config)
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


def register(commands: Commands) -> None:
    """Add the device commands: badge, scan, print-test, rollcall."""
    badge = commands.add(
        "badge", cmd_badge, "write a visit's badge as a picture and as printer bytes"
    )
    badge.add_argument("visit", help="the visit ref")
    badge.add_argument("--png", help="the badge as the paper would show it")
    badge.add_argument("--escpos", help="the exact bytes the printer would receive")
    scan = commands.add(
        "scan", cmd_scan, "read codes from pictures or videos and say what they are"
    )
    scan.add_argument("files", nargs="+")
    commands.add("print-test", cmd_print_test, "print a test page on the configured printer")
    commands.add("rollcall", cmd_rollcall, "print the evacuation roll call: everyone on site now")
