"""`Kiosk`: one kiosk's parts as kiosk.app wires them (config, database, clock, keys,
engine, directory), for the modules built over a kiosk to name without importing the
composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peewee import SqliteDatabase

from kiosk.config import KioskConfig
from kiosk.domain.clock import Clock
from kiosk.services.checkin import CheckInEngine
from kiosk.services.directory import Directory
from kiosk.services.keys import KeyStore
from kiosk.storage.models import database


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
