"""The composition root: the one module that names concrete classes and wires them.

Everything else receives its collaborators: the engine gets a database, verifiers and a
signer; the UI gets services; tests build their own with in-memory databases and fakes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase

from kiosk.config import KioskConfig, config_path, load_config
from kiosk.devices.commands import badge_job, open_printer
from kiosk.devices.config import PrinterConfig
from kiosk.devices.print_queue import PrintJob, PrintQueue
from kiosk.devices.protocols import DeviceEvent, DeviceEventKind, Printer
from kiosk.domain.clock import Clock, SystemClock
from kiosk.domain.errors import NotFound
from kiosk.domain.tokens import TokenVerifier
from kiosk.domain.values import TodaySummary
from kiosk.services.checkin import CheckInEngine
from kiosk.services.directory import Directory
from kiosk.services.keys import DatabaseKeyRing, KeyStore
from kiosk.storage.db import open_database
from kiosk.storage.models import KioskState, database

CONFIG_TEMPLATE = """\
# This kiosk's settings. Every key not set here keeps its default, listed with comments in
# {defaults}. `kiosk config show` prints what is in force.

[site]
name = "{site_name}"
kiosk_name = "Lobby kiosk"

[storage]
data_dir = "{data_dir}"

[keys]
dir = "{keys_dir}"

[office]
# The office server; empty for a standalone kiosk (which then signs its own invitations).
url = ""
"""


@dataclass
class InitResult:
    config_path: Path
    created: list[str] = field(default_factory=list)
    kiosk_id: str = ""


@dataclass
class Kiosk:
    """One kiosk's services, wired. Close it to release the database."""

    config: KioskConfig
    db: SqliteDatabase
    clock: Clock
    keys: KeyStore
    kiosk_id: str
    engine: CheckInEngine
    directory: Directory

    def close(self) -> None:
        self.db.close()

    def using(self) -> Any:
        """Bind this kiosk's database for the code in the `with` block (several kiosks in
        one process, as the sync tests have); a lone kiosk never needs it."""
        return database.bound(self.db)


def init_kiosk(
    path: str | os.PathLike[str] | None,
    *,
    site_name: str = "International Tower",
    data_dir: str = "data",
    keys_dir: str = "keys",
    clock: Clock | None = None,
) -> InitResult:
    """Create the config (if missing), keys and database. Running it again changes nothing."""
    target = config_path(path)
    result = InitResult(config_path=target)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            CONFIG_TEMPLATE.format(
                defaults=Path(__file__).parent / "config" / "defaults.toml",
                site_name=site_name.replace('"', "'"),
                data_dir=data_dir,
                keys_dir=keys_dir,
            ),
            encoding="utf-8",
        )
        result.created.append(str(target))
    config = load_config(target)
    keys = KeyStore(config.keys_dir)
    result.created += [
        str(config.keys_dir / name) for name in keys.ensure(standalone=not config.office.configured)
    ]
    db = open_database(config.database_path)
    try:
        now = (clock or SystemClock()).now()
        with db.atomic():
            state = KioskState.get_or_none(KioskState.key == "kiosk_id")
            if state is None:
                state = KioskState.create(
                    key="kiosk_id", value=f"kiosk-{keys.badge_signer().key_id}"
                )
                result.created.append(str(config.database_path))
            keys.register_own_keys(state.value, now)
        result.kiosk_id = state.value
    finally:
        db.close()
    return result


def open_kiosk(path: str | os.PathLike[str] | None = None, *, clock: Clock | None = None) -> Kiosk:
    config = load_config(path)
    if not config.database_path.exists():
        raise NotFound(
            f"no kiosk database at {config.database_path}; "
            f"run `kiosk init --config {config.source}`"
        )
    return build_kiosk(config, open_database(config.database_path), clock or SystemClock())


def build_kiosk(config: KioskConfig, db: SqliteDatabase, clock: Clock) -> Kiosk:
    """Wire a kiosk over an open database (tests pass an in-memory one)."""
    keys = KeyStore(config.keys_dir)
    state = KioskState.get_or_none(KioskState.key == "kiosk_id")
    if state is None:
        raise NotFound("this database was never initialised; run `kiosk init`")
    keyring = DatabaseKeyRing()
    verifier = TokenVerifier(keyring, clock.now)
    engine = CheckInEngine(
        db=db,
        config=config,
        clock=clock,
        invitation_verifier=verifier,
        badge_verifier=verifier,
        badge_signer=keys.badge_signer(),
        kiosk_id=state.value,
    )
    directory = Directory(db=db, config=config, clock=clock)
    return Kiosk(config, db, clock, keys, state.value, engine, directory)


def printer_settings(config: KioskConfig) -> PrinterConfig:
    """The configured printer; a fake printer's paper goes under the data folder, where a
    person trying the kiosk without hardware can look at it."""
    printer = config.devices.printer
    if printer.kind == "fake" and not printer.fake_output_dir:
        return printer.model_copy(update={"fake_output_dir": str(config.data_dir / "paper")})
    return printer


class BadgePrinting:
    """Badges from the engine to the printer through a queue that never loses a job.

    A failed print leaves the check-in as it was; the failure is recorded by the engine as
    a device problem (the guards' alerts, the office's log), and the job can be retried or
    the badge reprinted from the database at any time.
    """

    def __init__(self, kiosk: Kiosk, printer: Printer | None = None) -> None:
        self._kiosk = kiosk
        self.settings = printer_settings(kiosk.config)
        self.printer = printer or open_printer(self.settings)
        self.queue = PrintQueue(self.printer, kiosk.clock.now)
        self.queue.add_listener(self._on_event)

    def print_badge(self, visit_ref: str) -> PrintJob:
        content = self._kiosk.engine.badge_content(visit_ref)
        return self.queue.submit(badge_job(content, self.settings), label=visit_ref)

    def _on_event(self, event: DeviceEvent) -> None:
        if event.kind is DeviceEventKind.PRINT_FAILED:
            visit_ref = str(event.detail.get("label", ""))
            self._kiosk.engine.record_device_problem("printer", event.message, visit_ref)


class WelcomeBoard:
    """What the welcome screen shows, from the configuration and the engine."""

    def __init__(self, kiosk: Kiosk) -> None:
        self._kiosk = kiosk
        site = kiosk.config.site
        self.site_name = site.name
        self.languages: list[str] = list(site.languages)

    def greeting(self, language: str) -> str:
        greetings = self._kiosk.config.site.greeting
        return greetings.get(language) or next(iter(greetings.values()))  # type: ignore[call-overload]

    def closed_message(self, language: str) -> str:
        messages = self._kiosk.config.site.closed_message
        return messages.get(language) or next(iter(messages.values()))  # type: ignore[call-overload]

    def today_summary(self) -> TodaySummary:
        return self._kiosk.engine.today_summary()
