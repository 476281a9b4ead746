"""The composition root: the one module that names concrete classes and wires them.

Everything else receives its collaborators: the engine gets a database, verifiers and a
signer; the touchscreen's services (kiosk.screen_services) get the badge queue, the camera
and the card reader; the notifier gets the host's answers; tests build their own with
in-memory databases and fakes. The `kiosk` command (kiosk.cli) asks here for what it
runs: the kiosk, its printer, its card reader, its notifier and its sync client.

    init_kiosk / open_kiosk / build_kiosk   the config, keys and database; a `Kiosk`
    KioskServices                           the touchscreen's services on the configured devices
    BadgePrinting                           badges through a queue to the configured printer
    build_notifier / build_sync_client      the kiosk's background loops
    open_configured_printer / open_configured_card_reader   a device, for one command
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peewee import SqliteDatabase

from kiosk.badge_queue import BadgeQueue
from kiosk.card_reading import CardReading
from kiosk.case_printing import CaseSlipPrinting
from kiosk.case_screen_services import CaseScreenServices
from kiosk.config import KioskConfig, config_path, load_config
from kiosk.delivery_parts import build_delivery_desk
from kiosk.devices.cameras import open_camera
from kiosk.devices.commands import open_printer
from kiosk.devices.config import PrinterConfig
from kiosk.devices.id_reader import CardReaderLoop, open_card_reader
from kiosk.devices.protocols import Printer
from kiosk.domain.clock import Clock, SystemClock
from kiosk.domain.errors import NotFound
from kiosk.domain.tokens import TokenVerifier
from kiosk.parts import Kiosk
from kiosk.screen_services import ScreenServices
from kiosk.services.checkin import CheckInEngine
from kiosk.services.directory import Directory
from kiosk.services.keys import DatabaseKeyRing, KeyStore
from kiosk.storage.db import open_database
from kiosk.storage.models import KioskState

if TYPE_CHECKING:  # built on demand: the touchscreen's engine needs neither httpx nor apprise
    from kiosk.notify import LinkSigner, Notifier, Sender
    from kiosk.services.cases.desk import CaseDesk
    from kiosk.sync.client import SyncClient

__all__ = [
    "BadgePrinting",
    "InitResult",
    "Kiosk",
    "KioskServices",
    "WelcomeBoard",
    "build_case_desk",
    "build_delivery_desk",
    "build_kiosk",
    "build_notifier",
    "build_sync_client",
    "default_link_base",
    "init_kiosk",
    "link_signer",
    "open_configured_card_reader",
    "open_configured_printer",
    "open_kiosk",
    "printer_settings",
]

CONFIG_TEMPLATE = """\
# This kiosk's settings. Every key not set here keeps its default, listed with comments in
# {defaults}. `kiosk config show` prints what is in force.

[site]
name = "{site_name}"
kiosk_name = "Lobby kiosk"
{site_settings}
[storage]
data_dir = "{data_dir}"

[keys]
dir = "{keys_dir}"

[office]
# The office server; empty for a standalone kiosk (which then signs its own invitations).
url = ""
{tables}"""


@dataclass
class InitResult:
    config_path: Path
    created: list[str] = field(default_factory=list)
    kiosk_id: str = ""
    #: Files written over: only a demo's config that was still exactly as `init` wrote it.
    updated: list[str] = field(default_factory=list)


def init_kiosk(
    path: str | os.PathLike[str] | None,
    *,
    site_name: str = "International Tower",
    data_dir: str = "data",
    keys_dir: str = "keys",
    clock: Clock | None = None,
    demo: bool = False,
) -> InitResult:
    """Create the config (if missing), keys and database. Running it again changes nothing.

    `demo` writes the demo site's settings into the config (kiosk.demo.DEMO_SITE_SETTINGS:
    open at any hour, notifications to the demo's mailbox); a config that is still exactly
    what `init` without `demo` wrote (a demo made before those settings) gets them too."""
    target = config_path(path)
    result = InitResult(config_path=target)

    def config_text(*, demo: bool) -> str:
        site_settings, tables = "", ""
        if demo:
            from kiosk.demo import DEMO_CONFIG_TABLES, DEMO_SITE_SETTINGS

            site_settings, tables = DEMO_SITE_SETTINGS, DEMO_CONFIG_TABLES
        return CONFIG_TEMPLATE.format(
            defaults=Path(__file__).parent / "config" / "defaults.toml",
            site_name=site_name.replace('"', "'"),
            data_dir=data_dir,
            keys_dir=keys_dir,
            site_settings=site_settings,
            tables=tables,
        )

    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(config_text(demo=demo), encoding="utf-8")
        result.created.append(str(target))
    elif demo and target.read_text(encoding="utf-8") == config_text(demo=False):
        target.write_text(config_text(demo=True), encoding="utf-8")
        result.updated.append(str(target))
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
    simulated = printer.kind == "fake" or (
        printer.kind == "brother_ql" and printer.ql_connection == "fake"
    )
    if simulated and not printer.fake_output_dir:
        return printer.model_copy(update={"fake_output_dir": str(config.data_dir / "paper")})
    return printer


def open_configured_printer(config: KioskConfig) -> Printer:
    """The printer the configuration names (never touched until something is printed)."""
    return open_printer(printer_settings(config))


def open_configured_card_reader(
    config: KioskConfig, *, port: str | None = None, today: Callable[[], date] = date.today
) -> CardReaderLoop | None:
    """The configured ID card reader's loop (or the one on `port`), not started; None when
    its kind is "off" and no port is given."""
    return open_card_reader(
        config.devices.id_reader, data_dir=config.data_dir, today=today, port=port
    )


class BadgePrinting(BadgeQueue):
    """A kiosk's `BadgeQueue` on `printer`, else on the configured printer."""

    def __init__(self, kiosk: Kiosk, printer: Printer | None = None) -> None:
        settings = printer_settings(kiosk.config)
        super().__init__(kiosk.engine, printer or open_printer(settings), settings, kiosk.clock)


class KioskServices(CaseScreenServices, ScreenServices):
    """The touchscreen's services (kiosk.screen_services) over a kiosk and its devices:
    the printer, camera and ID card reader given, else the configured ones; and the case
    screens' (kiosk.case_screen_services), whose slips go to the same printer."""

    def __init__(
        self,
        kiosk: Kiosk,
        *,
        printer: Printer | None = None,
        camera: Any = None,
        card_reader: Any = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        engine = kiosk.engine

        def today() -> date:
            return kiosk.clock.now().astimezone(engine.calendar.zone).date()

        card_reading = CardReading(
            card_reader or open_configured_card_reader(kiosk.config, today=today),
            salt=kiosk.keys.document_salt,
            today=today,
            record_problem=lambda message: engine.record_device_problem("id_reader", message),
        )
        super().__init__(
            kiosk,
            printing=BadgePrinting(kiosk, printer),
            scanner=camera if camera is not None else open_camera(kiosk.config.devices.camera),
            card_reading=card_reading,
            monotonic=monotonic,
        )
        slips = CaseSlipPrinting(
            engine=engine,
            printer=self.printing.printer,
            settings=self.printing.settings,
            clock=kiosk.clock,
            site_name=kiosk.config.site.name,
            queue=self.printing.queue,
        )
        self.attach_cases(build_case_desk(kiosk), slips)

    def close(self) -> None:
        self.close_cases()
        super().close()


#: The welcome screen's services, as before the check-in screens.
WelcomeBoard = KioskServices


# ----------------------------------------------------------------------------- background


def default_link_base(kiosk: Kiosk) -> str:
    """Where links point: `[notifications] link_base_url` if set, else the office's link
    page (the configured office URL, or the one this kiosk enrolled with). A standalone
    kiosk has no page hosts can reach; its links name the kiosk's own host name."""
    configured = kiosk.config.notifications.link_base_url.strip()
    if configured:
        return configured if configured.endswith("/") else configured + "/"
    office = kiosk.config.office.url.rstrip("/")
    if not office:
        with kiosk.using():
            row = KioskState.get_or_none(KioskState.key == "sync_office_url")
        office = row.value.rstrip("/") if row else ""
    return f"{office}/l/" if office else "http://kiosk.local/l/"


def link_signer(kiosk: Kiosk) -> LinkSigner:
    """The kiosk's link signer: its sync key once enrolled, else its own link key."""
    from kiosk.notify import LinkSigner, load_link_key

    return LinkSigner(load_link_key(kiosk.config.keys_dir), kiosk.kiosk_id, kiosk.clock.now)


def build_notifier(
    kiosk: Kiosk,
    *,
    sender: Sender | None = None,
    link_base_url: str | None = None,
    link_ttl: timedelta = timedelta(hours=2),
    **options: Any,
) -> Notifier:
    """A notifier over a kiosk's database, clock, keys folder, calendar and the engine's
    handling of the host's answers."""
    from kiosk.notify import Notifier

    return Notifier(
        db=kiosk.db,
        config=kiosk.config,
        clock=kiosk.clock,
        calendar=kiosk.engine.calendar,
        answers=kiosk.engine,
        links=link_signer(kiosk),
        link_base_url=link_base_url or default_link_base(kiosk),
        sender=sender,
        link_ttl=link_ttl,
        **options,
    )


def build_sync_client(kiosk: Kiosk, **options: Any) -> SyncClient:
    """The kiosk's sync client (push the outbox, pull the change feed) over `kiosk`."""
    from kiosk.sync.client import SyncClient

    return SyncClient(kiosk, **options)


def build_case_desk(kiosk: Kiosk) -> CaseDesk:
    """The kiosk's case desk (issue 19): receipts signed with its badge key, verified with
    every badge key of the site it trusts."""
    from kiosk.services.cases.desk import CaseDesk

    return CaseDesk(
        db=kiosk.db,
        config=kiosk.config,
        clock=kiosk.clock,
        signer=kiosk.keys.badge_signer(),
        badge_keys=DatabaseKeyRing(),
    )
