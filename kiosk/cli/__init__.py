"""The `kiosk` command: set-up, the directory, check-in and check-out, reports, doctor.

Every command takes `--config PATH` (else $KIOSK_CONFIG, else /etc/kiosk/kiosk.toml), and
every command that prints data takes `--json`. Exit status: 0 done, 1 refused or invalid
(the reason is printed), 2 a usage or configuration error.

Every time in `--json` output is ISO 8601 with the site's own offset, whichever command
prints it ("2026-12-07T10:42:00+08:00", `site_time`), and tables line up by the cells a
terminal gives each character (`kiosk.domain.text.padded`: 张 takes two).

One module per group of commands, each with a `register(commands)`; what they share is in
kiosk.cli.common, and none reaches into another's helpers:

    kiosk_commands  init, demo-seed, demo-mail, run, prepare-fonts, engine, config
    directory       hosts, appointments, invite, watchlist
    checkin         verify, checkin, message, acknowledge, approve, checkout, onsite, close-day
    records         report, export, purge, backup, nightly, audit
    admin           doctor, admin (the staff's PINs)
    devices         badge, scan, print-test, rollcall
    sync            enroll, sync, notify: the kiosk's background commands
    office          office (the office server and its data)
    office_deliveries  office deliveries (the parcels at the office)
    office_cases    office cases (complaints, repairs... at the office)
    cases           case (open, show, follow-up: issue 19)
    delivery        delivery (log, pickup, return, reprint, list: issue 20)
    id_card         id-card, demo-card
    office_calls    office calls (the desk's call log: issue 19)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kiosk.cli import (
    admin,
    cases,
    checkin,
    delivery,
    devices,
    directory,
    id_card,
    kiosk_commands,
    office,
    office_calls,
    office_cases,
    office_deliveries,
    records,
    sync,
)
from kiosk.cli.common import Commands
from kiosk.domain.errors import ConfigError, KioskError, TokenRejected

#: The groups in the order `kiosk --help` lists their commands.
GROUPS = (
    kiosk_commands, directory, checkin, records, admin, devices, sync, office, id_card,
    office_deliveries, office_cases, cases, delivery, office_calls,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
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
    commands = Commands(
        parser.add_subparsers(dest="command", required=True, metavar="COMMAND"), common
    )
    for group in GROUPS:
        group.register(commands)
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
