"""`kiosk id-card` and `kiosk demo-card`: the ID card reader from the command line.

kiosk id-card [--port PORT] [--wait SECONDS] [--card NAME] [--printed] [--json]
    reads one card once through the configured reader (or PORT) and prints what the
    kiosk keeps of it: kind, name, last four characters of the number, validity; never
    the full number, the address or the photo. Exit 0 only when a card was read and
    is valid (its data checks out and it has not expired). --printed adds sex,
    ethnicity, nationality and birth date in words (--language), to compare with the
    card in hand; --card lays one of the simulated reader's cards.
kiosk demo-card lay NAME | lift | fault NAME
    lays a card of the simulated reader's (kiosk.devices.fake_id_reader.DEMO_CARDS)
    on the running kiosk's fake reader, lifts it, or triggers one of its faults.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from kiosk.cli.common import Commands, emit
from kiosk.domain.errors import KioskError


def _tray(config: Any) -> Path:
    reader = config.devices.id_reader
    return Path(reader.fake_tray_dir) if reader.fake_tray_dir else config.data_dir / "id-card-tray"


def kept_of_card(card: Any, today: Any) -> dict[str, Any]:
    """What the kiosk keeps of a card (the number's keyed hash aside), and its validity."""
    return {
        "kind": card.kind.value,
        "name": card.display_name,
        "number_last4": card.last_four,
        "valid_from": card.valid_from.isoformat(),
        "valid_until": card.valid_until.isoformat() if card.valid_until else "long_term",
        "expired": card.expired(today),
        "valid": not card.expired(today),
    }


def printed_words(card: Any, language: str) -> dict[str, str]:
    """--printed: the card's coded fields in words, for an installer comparing them with
    the card in hand (shown, never kept)."""
    from kiosk.domain.card_words import ethnicity_words, nationality_words, sex_words

    words = {
        "sex": sex_words(card.sex_code, language),
        "nationality": nationality_words(card.nationality_code, language),
        "birth_date": card.birth_date.isoformat(),
    }
    if card.ethnicity_code:
        words["ethnicity"] = ethnicity_words(card.ethnicity_code, language)
    return words


def cmd_id_card(args: argparse.Namespace) -> int:
    from datetime import date

    from kiosk.app import open_configured_card_reader
    from kiosk.config import load_config

    config = load_config(args.config)
    loop = open_configured_card_reader(config, port=args.port)
    if loop is None:
        raise KioskError('no ID card reader: [devices.id_reader] kind is "off"; give --port')
    loop.plug_in_fake()
    if args.card:
        if loop.fake is None:
            raise KioskError("--card lays a card on the simulated reader only")
        loop.fake.lay(args.card)
    deadline = time.monotonic() + args.wait
    try:
        outcome = None
        while outcome is None and time.monotonic() < deadline:
            outcome = loop.poll_once()
            if outcome is None:
                time.sleep(loop.poll_interval_s)
    finally:
        loop.close()
    where = {"port": loop.state.port, "sam_id": loop.state.sam_id}
    if outcome is None:
        problem = loop.state.last_error or "no card was laid on the reader"
        emit(args, {**where, "read": False, "error": problem}, f"no card read: {problem}")
        return 1
    if outcome.card is None:
        why = outcome.rejected.problem.value if outcome.rejected else None
        why = why or (outcome.reader_problem.value if outcome.reader_problem else "unknown")
        emit(args, {**where, "read": False, "error": why}, f"card not read: {why}")
        return 1
    kept: dict[str, Any] = kept_of_card(outcome.card, date.today())
    if args.printed:
        kept["printed"] = printed_words(outcome.card, args.language)
    printed = dict(kept.get("printed", {}))
    shown = {key: value for key, value in kept.items() if key != "printed"} | printed
    lines = [f"{key}: {value}" for key, value in shown.items()]
    emit(args, {**where, "read": True, **kept}, lambda: "\n".join(lines))
    return 0 if kept["valid"] else 1


def cmd_demo_card(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.devices.fake_id_reader import lay_on_tray

    config = load_config(args.config)
    if args.action == "lay" and not args.name:
        raise KioskError("say which card: kiosk demo-card lay resident|permanent|permit|...")
    card = args.name if args.action == "lay" else None
    fault = args.name if args.action == "fault" else None
    path = lay_on_tray(_tray(config), card, fault)
    said = {"lay": f"card {card} laid", "lift": "card lifted", "fault": f"fault {fault}"}
    emit(args, {"tray": str(path), "card": card, "fault": fault}, said[args.action])
    return 0


def register(commands: Commands) -> None:
    """Add the ID card reader's commands: id-card, demo-card."""
    from kiosk.devices.fake_id_reader import DEMO_CARDS, FAULTS

    card = commands.add("id-card", cmd_id_card, "read one card on the ID card reader, once")
    card.add_argument("--port", help="a serial port instead of the configured reader")
    card.add_argument("--wait", type=float, default=10.0, help="seconds to wait for a card")
    card.add_argument("--card", choices=sorted(DEMO_CARDS), help="simulated reader: lay this")
    card.add_argument(
        "--printed", action="store_true", help="also the coded fields in words (not kept)"
    )
    card.add_argument("--language", choices=["zh_Hans", "zh_Hant", "en"], default="en")
    demo = commands.add(
        "demo-card", cmd_demo_card, "lay a card on the running kiosk's simulated ID card reader"
    )
    demo.add_argument("action", choices=["lay", "lift", "fault"])
    demo.add_argument(
        "name", nargs="?", help=f"lay: {', '.join(DEMO_CARDS)}; fault: {', '.join(FAULTS)}"
    )
