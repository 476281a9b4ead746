"""A year of a kiosk's visits in bulk, cloned from visits the engine itself made (issue 21).

Running 110,000 check-ins through the engine takes half an hour; the growth benchmark needs
the year in seconds. So `seed_kiosk_year` first runs a few visits of each kind through the
real code paths at the start of the year (an invitation with a photo; a walk-in; an
interview walk-in who signs an agreement; each answered by the host, checked out and rated,
with the notifier planning and sending its message), then copies every row those visits
wrote, in every table, once per visit of the year: new ids and refs, the times moved to the
visit's own day, the host drawn from the site's hosts, the hash chains (audit log, outbox)
linked anew. The rows are the engine's rows, in the engine's proportions.

What the kiosk no longer holds after a year is not written at all: photos, outbox events
and replay records of visits older than `recent_days` (45) were purged long ago. Those
newer than that are written, with every event marked sent, and `kiosk.services.retention`'s
own purge (run by the caller) then removes the 30 to 45 days old, as each night did.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peewee import SqliteDatabase

from kiosk.domain import names
from kiosk.domain.event_chain import GENESIS, canonical_json, event_chain_hash, payload_digest
from kiosk.domain.values import Purpose
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.storage.journal import CHAIN_HEAD

#: Tables a visit writes to, with the (peewee model) columns that hold times in ms.
PER_VISIT_TABLES = (
    "appointment", "visitor", "visit", "visit_photo", "badge", "agreement_signature",
    "used_invitation", "outbox_event", "audit_entry", "notification_event",
    "notification_delivery",
)  # fmt: skip
#: Rows that exist only for `recent_days` (the purge removed older ones long ago).
SHORT_LIVED = ("visit_photo", "outbox_event", "used_invitation")
TEMPLATE_NAME = "Templatevisitor Qzx"
JPEG = b"\xff\xd8\xff\xe0"
PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class YearShape:
    visits: int = 110_000
    days: int = 365
    hosts: int = 200
    recent_days: int = 45
    photo_bytes: int = 20_000  # a 320x240 camera JPEG
    signature_bytes: int = 4_000
    #: Shares of the visits by kind: invitation, walk-in, interview walk-in with a signature.
    shares: tuple[float, float, float] = (0.6, 0.3, 0.1)


@dataclass
class SeededYear:
    visits: int
    rows: dict[str, int]


Tick = Callable[[], Any]


def seed_kiosk_year(
    kiosk: Any, clock: Any, notify_tick: Tick, shape: YearShape, *, end: datetime, seed: int = 21
) -> SeededYear:
    """Fill `kiosk` (built on `clock`, a ManualClock; `notify_tick` runs one notifier round)
    with `shape`'s year of visits ending at `end`. The clock is left at `end`."""
    rng = random.Random(seed)
    start = end - timedelta(days=shape.days)
    clock.set(start - timedelta(days=1))
    hosts = add_site_hosts(kiosk, shape.hosts)
    templates = [_template(kiosk, clock, notify_tick, hosts[0], kind, shape) for kind in range(3)]
    db: SqliteDatabase = kiosk.db
    counters = _Counters(db)
    written = dict.fromkeys(PER_VISIT_TABLES, 0)
    recent_since = end - timedelta(days=shape.recent_days)
    with db.atomic():
        batch: dict[str, list[dict[str, Any]]] = {table: [] for table in PER_VISIT_TABLES}
        for number, arrival in enumerate(_arrivals(rng, shape, start, end)):
            template = templates[_kind(rng, shape)]
            host = rng.choice(hosts)
            rows = template.clone(rng, arrival, number, host, counters)
            for table, table_rows in rows.items():
                if table in SHORT_LIVED and arrival < recent_since:
                    continue
                batch[table].extend(table_rows)
            if len(batch["visit"]) >= 5000:
                _flush(db, batch, counters, written)
        _flush(db, batch, counters, written)
        counters.save_chain_head(db)
        db.execute_sql(
            'UPDATE "outbox_event" SET "sent_at" = "occurred_at" + 2000 WHERE "sent_at" IS NULL'
        )
    clock.set(end)
    return SeededYear(visits=written["visit"], rows=written)


def add_site_hosts(kiosk: Any, count: int) -> list[Any]:
    """The site's hosts, each told by e-mail (the year's kiosk and the fresh one alike)."""
    return [
        kiosk.directory.add_host(f"Host {n}", email=f"host{n}@example.com", department="Sales")[0]
        for n in range(count)
    ]


def _arrivals(
    rng: random.Random, shape: YearShape, start: datetime, end: datetime
) -> Iterator[datetime]:
    """The year's arrivals in order, spread over the days' working hours (09:00-17:00 UTC+8
    as 01:00-09:00 UTC), none after `end`."""
    per_day = shape.visits / shape.days
    made = 0
    for day in range(shape.days):
        morning = (start + timedelta(days=day)).replace(hour=1, minute=0, second=0, microsecond=0)
        count = round(per_day * (day + 1)) - made
        moments = sorted(morning + timedelta(seconds=rng.randrange(8 * 3600)) for _ in range(count))
        for moment in moments:
            if moment < end - timedelta(hours=2):
                made += 1
                yield moment


def _kind(rng: random.Random, shape: YearShape) -> int:
    roll, edge = rng.random(), 0.0
    for kind, share in enumerate(shape.shares):
        edge += share
        if roll < edge:
            return kind
    return len(shape.shares) - 1


def _template(
    kiosk: Any, clock: Any, tick: Tick, host: Any, kind: int, shape: YearShape
) -> _Template:
    """One visit of `kind` through the engine: checked in, told, answered, out, rated."""
    photo = JPEG + secrets.token_bytes(shape.photo_bytes - len(JPEG))
    engine = kiosk.engine
    if kind == 0:
        signer = kiosk.keys.invitation_signer()
        invitation = kiosk.directory.invite(
            signer, visitor_name=TEMPLATE_NAME, host=host.ref, at=clock.now()
        )
        result = engine.check_in_with_invitation(
            invitation.token, Collected(photo_jpeg=photo), if_host_absent="proceed"
        )
    else:
        visitor_type = "visitor" if kind == 1 else "interview"
        collected = (
            Collected(photo_jpeg=photo)
            if kind == 1
            else Collected(
                photo_jpeg=photo,
                agreement_accepted=True,
                signature_png=PNG + secrets.token_bytes(shape.signature_bytes - len(PNG)),
            )
        )
        result = engine.check_in_walk_in(
            WalkIn(VisitorDetails(TEMPLATE_NAME, company="Example Ltd"), host.ref,
                   Purpose.VISIT_PERSON, visitor_type=visitor_type),
            collected,
            if_host_absent="proceed",
        )  # fmt: skip
    arrived = clock.now()
    tick()
    clock.advance(timedelta(seconds=40))
    engine.acknowledge(result.visit_ref)
    tick()
    clock.advance(timedelta(hours=1))
    engine.check_out(result.visit_ref)
    engine.rate_visit(result.visit_ref, 5)
    tick()
    clock.advance(timedelta(minutes=5))
    return _Template.read(kiosk.db, result.visit_ref, host, arrived)


class _Counters:
    """The next id of each table, and the two hash chains' heads."""

    def __init__(self, db: SqliteDatabase) -> None:
        self.next_id = {
            table: int(
                db.execute_sql(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"').fetchone()[0]
            )
            + 1
            for table in PER_VISIT_TABLES
            if table not in ("used_invitation", "notification_event")
        }
        last = db.execute_sql(
            'SELECT "entry_hash" FROM "audit_entry" ORDER BY "id" DESC LIMIT 1'
        ).fetchone()
        self.audit_head = last[0] if last else GENESIS
        last = db.execute_sql(
            'SELECT "event_hash" FROM "outbox_event" ORDER BY "id" DESC LIMIT 1'
        ).fetchone()
        self.event_head = last[0] if last else GENESIS

    def take(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] += 1
        return value

    def save_chain_head(self, db: SqliteDatabase) -> None:
        seq = self.next_id["outbox_event"] - 1
        db.execute_sql(
            'INSERT OR REPLACE INTO "kiosk_state" ("key", "value") VALUES (?, ?)',
            (CHAIN_HEAD, f"{seq} {self.event_head}"),
        )


def _time_columns() -> dict[str, set[str]]:
    from kiosk.dbkit.fields import UtcTimestampField
    from kiosk.notify.models import NOTIFY_MODELS
    from kiosk.storage.models import BaseModel

    found: dict[str, set[str]] = {}
    for model in [*BaseModel.__subclasses__(), *NOTIFY_MODELS]:
        columns = {
            field.column_name
            for field in model._meta.sorted_fields
            if isinstance(field, UtcTimestampField)
        }
        found[model._meta.table_name] = columns
    return found


@dataclass
class _Template:
    rows: dict[str, list[dict[str, Any]]]
    tokens: list[str]  # the refs and ids a copy gets anew, wherever they appear
    host_id: int
    host_ref: str
    arrived_ms: int
    times: dict[str, set[str]]

    @classmethod
    def read(cls, db: SqliteDatabase, visit_ref: str, host: Any, arrived: datetime) -> _Template:
        def select(table: str, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
            cursor = db.execute_sql(f'SELECT * FROM "{table}" WHERE {where} ORDER BY 1', params)
            columns = [column[0] for column in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

        [visit] = select("visit", '"ref" = ?', (visit_ref,))
        appointment = select("appointment", '"id" = ?', (visit["appointment_id"],))
        subjects = (visit_ref, *(a["ref"] for a in appointment))
        marks = ", ".join("?" for _ in subjects)
        events = select("outbox_event", f'"subject_ref" IN ({marks})', subjects)
        keys = tuple(event["event_id"] for event in events) or ("",)
        key_marks = ", ".join("?" for _ in keys)
        rows = {
            "appointment": appointment,
            "visitor": select("visitor", '"id" = ?', (visit["visitor_id"],)),
            "visit": [visit],
            "visit_photo": select("visit_photo", '"visit_id" = ?', (visit["id"],)),
            "badge": select("badge", '"visit_id" = ?', (visit["id"],)),
            "agreement_signature": select("agreement_signature", '"visit_id" = ?', (visit["id"],)),
            "used_invitation": select("used_invitation", '"visit_id" = ?', (visit["id"],)),
            "outbox_event": events,
            "audit_entry": select("audit_entry", f'"subject" IN ({marks})', subjects),
            "notification_event": select("notification_event", f'"key" IN ({key_marks})', keys),
            "notification_delivery": select(
                "notification_delivery", f'"key" IN ({key_marks})', keys
            ),
        }
        tokens = [*subjects, *keys]
        tokens += [badge["token_id"] for badge in rows["badge"]]
        tokens += [used["token_id"] for used in rows["used_invitation"]]
        return cls(
            rows, [t for t in dict.fromkeys(tokens) if t], host.id, host.ref,
            int(arrived.timestamp() * 1000), _time_columns(),
        )  # fmt: skip

    def clone(
        self, rng: random.Random, arrival: datetime, number: int, host: Any, counters: _Counters
    ) -> dict[str, list[dict[str, Any]]]:
        """This visit's rows again for a visit arriving at `arrival`, with new ids, refs,
        name and host; the chains are linked when the rows are written (_flush)."""
        shift = int(arrival.timestamp() * 1000) - self.arrived_ms
        name = f"Visitor {number}"
        swaps = {token: secrets.token_hex(len(token) // 2) for token in self.tokens}
        swaps[self.host_ref] = host.ref
        swaps[TEMPLATE_NAME] = name
        ids: dict[tuple[str, int], int] = {}
        copies: dict[str, list[dict[str, Any]]] = {}
        for table, rows in self.rows.items():
            times = self.times.get(table, set())
            copied = []
            for row in rows:
                new = {}
                for column, value in row.items():
                    if column in times and value is not None:
                        value += shift
                    elif isinstance(value, str) and column not in ("token", "payload_digest"):
                        for old, fresh in swaps.items():
                            if old in value:
                                value = value.replace(old, fresh)
                    new[column] = value
                if "id" in new and table in counters.next_id and table != "outbox_event":
                    ids[(table, row["id"])] = new["id"] = counters.take(table)
                copied.append(new)
            copies[table] = copied
        for row in copies["appointment"]:
            row["host_id"] = host.id
            row["exact_key"], row["latin_key"] = names.exact_key(name), names.latin_key(name)
        for row in copies["visit"]:
            row["host_id"] = host.id
            for column, table in (("appointment_id", "appointment"), ("visitor_id", "visitor")):
                if row[column] is not None:
                    row[column] = ids[(table, row[column])]
        visit_id = copies["visit"][0]["id"]
        for table in ("visit_photo", "badge", "agreement_signature", "used_invitation"):
            for row in copies[table]:
                row["visit_id"] = visit_id
        return copies


def _flush(
    db: SqliteDatabase,
    batch: dict[str, list[dict[str, Any]]],
    counters: _Counters,
    written: dict[str, int],
) -> None:
    """Write the batch, table by table in the order of their foreign keys, linking the
    audit and outbox chains as journal.append_audit and enqueue_event do."""
    for entry in batch["audit_entry"]:
        entry["prev_hash"] = counters.audit_head
        material = canonical_json(
            [counters.audit_head, entry["at"], entry["actor"], entry["action"],
             entry["subject"], entry["details"]]
        )  # fmt: skip
        entry["entry_hash"] = counters.audit_head = hashlib.sha256(material.encode()).hexdigest()
    for event in batch["outbox_event"]:
        event["id"] = seq = counters.take("outbox_event")
        event["prev_hash"] = counters.event_head
        event["sent_at"] = event["occurred_at"] + 2000
        event["event_hash"] = counters.event_head = event_chain_hash(
            counters.event_head, seq, event["event_id"], event["kind"], event["occurred_at"],
            payload_digest(event["payload"]),
        )  # fmt: skip
    for table in PER_VISIT_TABLES:
        rows = batch[table]
        if rows:
            columns = list(rows[0])
            quoted = ", ".join(f'"{column}"' for column in columns)
            marks = ", ".join("?" for _ in columns)
            db.cursor().executemany(
                f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})',
                [tuple(row[column] for column in columns) for row in rows],
            )
            written[table] += len(rows)
        rows.clear()
