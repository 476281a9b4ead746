"""Looking after the kiosk from the command line: the doctor and the staff's PINs.

kiosk doctor [--office-db URL]           fonts, libraries, devices, configuration
kiosk admin set-pin --role guard|admin   a PIN, stored as an Argon2 hash
"""

from __future__ import annotations

import argparse
import os
import sys

from kiosk.cli.common import Commands, emit, open_kiosk
from kiosk.domain.errors import KioskError


def cmd_set_pin(args: argparse.Namespace) -> int:
    import getpass

    from kiosk.services.pins import set_pin

    kiosk = open_kiosk(args)
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


def register(commands: Commands) -> None:
    """Add the doctor and the staff settings (admin set-pin)."""
    doctor = commands.add("doctor", cmd_doctor, "check fonts, libraries, devices and configuration")
    doctor.add_argument(
        "--office-db",
        help="also check the office's database (an SQLite path; default $KIOSK_OFFICE_DB)",
    )

    admin_commands = commands.group("admin", "staff settings", "admin_command")
    set_pin = commands.add("set-pin", cmd_set_pin, "set the guard or admin PIN", admin_commands)
    set_pin.add_argument("--role", choices=["guard", "admin"], required=True)
    set_pin.add_argument("--pin-stdin", action="store_true", help="read the PIN from stdin")
