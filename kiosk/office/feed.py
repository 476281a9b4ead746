"""The change feed that kiosks pull: its one writer, the twin of kiosk.sync.apply.

Every row a kiosk decides with (hosts, appointments, the watchlist, visits, revoked tokens,
used invitations and links, trusted keys) reaches it as a ChangeLog row of its site, written
here and nowhere else, in the transaction of the change itself. A newer row of an entity
replaces the older (`supersede`), so a kiosk that pulls late gets each entity once.

Rows commit in id order per site (`site_writes`): a kiosk that has pulled up to id N never
later finds an uncommitted N-1 appear. The `*_data` functions are the shape of each entity
in the feed, as kiosk.sync.apply reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from peewee import Database, PostgresqlDatabase, SqliteDatabase

from kiosk.dbkit.rows import insert_rows, rows_of
from kiosk.domain import names
from kiosk.office.models import (
    ChangeLog,
    Kiosk,
    OfficeAppointment,
    OfficeHost,
    OfficeVisit,
    OfficeWatchlistEntry,
    Site,
)

VISIT_FIELDS = (
    "state", "visitor_name", "company", "host_ref", "appointment_ref", "method", "purpose",
    "level", "visitor_type", "escort_required", "arrived_at", "host_notified_at",
    "host_acknowledged_at", "left_at", "satisfaction", "auto_checked_out",
)  # fmt: skip


def key_feed_ref(kind: str, public_key_hex: str) -> str:
    """A trusted key's row in the change feed: its kind and its whole public key, so that
    no other key, of this kind or another, can take its place in the feed."""
    return f"{kind}:{public_key_hex}"


class ChangeFeed:
    """Writes a site's changes for its kiosks, and reads them back in pages."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def site_writes(self, site: Site) -> Iterator[None]:
        """One transaction whose change-feed rows commit in id order for the site.

        On PostgreSQL ids come from a sequence when rows are inserted, not when they commit;
        a transaction-scoped advisory lock makes writers of one site take turns, so a kiosk
        that has pulled up to id N can never later find an uncommitted N-1 appear."""
        with self.write_transaction():
            if isinstance(self.db, PostgresqlDatabase):
                self.db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (7_000_000 + site.id,))
            yield

    def write_transaction(self) -> Any:
        """A transaction that will write. On SQLite it takes the write lock at BEGIN
        (IMMEDIATE), so concurrent writers wait their turn (busy_timeout) instead of failing
        when a read-then-write transaction finds its snapshot outdated."""
        if isinstance(self.db, SqliteDatabase):
            return self.db.atomic("IMMEDIATE")
        return self.db.atomic()

    def log(self, site: Site, entity: str, ref: str, data: dict[str, Any]) -> None:
        """One entity's new row, replacing its older ones."""
        self.supersede(site, entity, [ref])
        ChangeLog.create(
            site=site, entity=entity, ref=ref, data=json.dumps(data, ensure_ascii=False)
        )

    def log_many(
        self,
        site: Site,
        entity: str,
        rows: Iterable[tuple[str, dict[str, Any]]],
        *,
        replacing: bool = True,
    ) -> None:
        """Many entities' rows (ref, data) in one statement: per-row statements would cost
        a round trip to PostgreSQL each. `replacing=False` for entities new to the feed."""
        listed = list(rows)
        if replacing:
            self.supersede(site, entity, [ref for ref, _ in listed])
        insert_rows(
            self.db,
            ChangeLog,
            [
                {
                    "site": site.id,
                    "entity": entity,
                    "ref": ref,
                    "data": json.dumps(data, ensure_ascii=False),
                }
                for ref, data in listed
            ],
        )

    @staticmethod
    def supersede(site: Site, entity: str, refs: list[str]) -> None:
        """Drop the feed rows these entities' new rows replace (see ChangeLog)."""
        for start in range(0, len(refs), 500):
            ChangeLog.delete().where(
                (ChangeLog.site == site.id)
                & (ChangeLog.entity == entity)
                & ChangeLog.ref.in_(refs[start : start + 500])
            ).execute()

    @staticmethod
    def changes(kiosk: Kiosk, cursor: int, limit: int) -> tuple[str, int, bool]:
        """The site's changes after `cursor` as a JSON array (rows kept as stored, not
        re-encoded), the new cursor, and whether more are waiting."""
        rows = rows_of(
            ChangeLog.select(ChangeLog.id, ChangeLog.entity, ChangeLog.ref, ChangeLog.data)
            .where((ChangeLog.site == kiosk.site_id) & (ChangeLog.id > cursor))
            .order_by(ChangeLog.id)
            .limit(limit + 1)
        )
        more = len(rows) > limit
        rows = rows[:limit]
        body = ",".join(
            f'{{"id":{row_id},"entity":{json.dumps(entity)},"ref":{json.dumps(ref)},"data":{data}}}'
            for row_id, entity, ref, data in rows
        )
        return f"[{body}]", (rows[-1][0] if rows else cursor), more


def visit_data(visit: OfficeVisit) -> dict[str, Any]:
    """A visit as the change feed carries it (kiosk.sync.apply._visits)."""
    data: dict[str, Any] = {name: getattr(visit, name) for name in VISIT_FIELDS}
    for name in ("arrived_at", "host_notified_at", "host_acknowledged_at", "left_at"):
        data[name] = data[name].isoformat() if data[name] else None
    data["kiosk"] = visit.kiosk.kiosk_id
    return data


def host_data(host: OfficeHost) -> dict[str, Any]:
    """A host as the change feed carries it (kiosk.sync.apply._host)."""
    return {
        "name": host.name,
        "email": host.email,
        "department": host.department,
        "phone": host.phone,
        "channels": json.loads(host.channels),
        "availability": host.availability,
        "delegate_ref": host.delegate_ref,
        "is_senior": host.is_senior,
        "walk_in_needs_approval": host.walk_in_needs_approval,
        "active": host.active,
    }


def watchlist_data(entry: OfficeWatchlistEntry) -> dict[str, Any]:
    """A watchlist entry as the change feed carries it (kiosk.sync.apply._watchlist)."""
    return {
        "name": entry.name,
        "exact_key": names.exact_key(entry.name),
        "latin_key": names.latin_key(entry.name),
        "document_hash": entry.document_hash,
        "reason": entry.reason,
        "active": entry.active,
    }


def appointment_data(appointment: OfficeAppointment) -> dict[str, Any]:
    """An appointment as the change feed carries it (kiosk.sync.apply._appointments)."""
    return {
        "visit_ref": appointment.visit_ref,
        "host_ref": appointment.host_ref,
        "visitor_name": appointment.visitor_name,
        # The kiosk's matching keys, computed once here rather than on every kiosk.
        "exact_key": names.exact_key(appointment.visitor_name),
        "latin_key": names.latin_key(appointment.visitor_name),
        "company": appointment.company,
        "email": appointment.email,
        "phone": appointment.phone,
        "starts_at": appointment.starts_at.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        "purpose": appointment.purpose,
        "level": appointment.level,
        "visitor_type": appointment.visitor_type,
        "invitation_token_id": appointment.invitation_token_id or None,
        "cancelled_at": appointment.cancelled_at.isoformat() if appointment.cancelled_at else None,
    }
