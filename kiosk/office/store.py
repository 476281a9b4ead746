"""The office's logic over its database: enrolment, request authentication, event ingest,
the change feed, and the directory that kiosks decide with.

Ingest is idempotent by event id, so a kiosk that retries after a lost answer changes
nothing. A visit's state at the office only moves forward (a late "no-show" never undoes an
arrival), whatever order events from several kiosks arrive in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from peewee import Database, IntegrityError, PostgresqlDatabase, SqliteDatabase
from playhouse.pool import PooledPostgresqlDatabase

from kiosk.dbkit.private_files import prepare_private_database
from kiosk.dbkit.rows import insert_rows, rows_of
from kiosk.dbkit.sqlite import PRAGMAS, WRITE_LOCK_FIRST
from kiosk.domain import names
from kiosk.domain.clock import Clock, SystemClock
from kiosk.domain.errors import InvalidInput, KioskError, NotFound
from kiosk.domain.event_chain import canonical_json, payload_digest
from kiosk.domain.text import check_email, check_name, check_optional
from kiosk.domain.tokens import TokenSigner, key_id_for, new_ref, raw_public_key
from kiosk.domain.values import Purpose, VisitorLevel
from kiosk.office.alerts import OfficeAlert, raise_alert
from kiosk.office.event_schema import FINAL_STATES, STATE_RANK, validate_event
from kiosk.office.forwarding import FORWARD_KIND
from kiosk.office.models import (
    OFFICE_MODELS,
    ChangeLog,
    EnrolmentCode,
    Event,
    Kiosk,
    OfficeAppointment,
    OfficeHost,
    OfficeVisit,
    OfficeWatchlistEntry,
    RequestNonce,
    Site,
    SiteKey,
    SiteSecret,
    UsedInvitation,
    office_database,
)
from kiosk.office.office_keys import OfficeKeys
from kiosk.office.reporting import visit_name_key
from kiosk.sync.wire import (
    MAX_REQUEST_AGE_MS,
    enrolment_code_id,
    enrolment_key,
    enrolment_mac,
    signature_is_valid,
)

ENROLMENT_CODE_LIFETIME = timedelta(days=7)
NONCE_LIFETIME_MS = 2 * MAX_REQUEST_AGE_MS
VISIT_FIELDS = (
    "state", "visitor_name", "company", "host_ref", "appointment_ref", "method", "purpose",
    "level", "visitor_type", "escort_required", "arrived_at", "host_notified_at",
    "host_acknowledged_at", "left_at", "satisfaction", "auto_checked_out",
)  # fmt: skip

#: What an invitation's signed code says about its appointment (besides the ref): a change
#: to one of these needs a new code.
SIGNED_FIELDS = frozenset({"starts_at", "host_ref", "visitor_name"})
#: What the invitation e-mail tells the visitor: a change to one of these sends it again.
INVITATION_FIELDS = SIGNED_FIELDS | {"ends_at", "purpose"}
#: The appointment's fields in the change feed (_appointment_data): a change to one of these
#: is for the kiosks to learn.
FEED_FIELDS = frozenset({
    "host_ref", "visitor_name", "company", "email", "phone", "starts_at", "ends_at", "purpose",
    "level", "visitor_type",
})  # fmt: skip


class Unauthorized(KioskError):
    """The request is not signed by a known kiosk (HTTP 401)."""


class Forbidden(KioskError):
    """The kiosk is known but may not do this (HTTP 403): revoked, or another's data."""


@dataclass
class EventResult:
    event_id: str
    status: str  # stored | duplicate | rejected | conflict
    error: str = ""


@dataclass
class IngestReport:
    results: list[EventResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(result.status == status for result in self.results)


@dataclass(frozen=True)
class LinkPreview:
    """A kiosk's link as its page shows it (kiosk.office.web.links)."""

    action: str  # ack | approve | deny
    party: str
    visitor_name: str
    company: str
    host_name: str
    kiosk_name: str
    site_name: str
    timezone: str
    arrived_at: datetime | None
    answered_at: datetime | None = None

    @property
    def response_seconds(self) -> float | None:
        if self.arrived_at is None or self.answered_at is None:
            return None
        return (self.answered_at - self.arrived_at).total_seconds()


def open_office_database(url: str | None) -> Database:
    """PostgreSQL for `postgresql://...` URLs (pooled), else an SQLite file (default
    ./office.sqlite3). Creates the tables that are missing and binds the models."""
    if url and url.startswith(("postgres://", "postgresql://")):
        from urllib.parse import unquote, urlparse

        parsed = urlparse(url)
        db: Database = PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username or "") or None,
            password=unquote(parsed.password or "") or None,
            host=parsed.hostname,
            port=parsed.port,
            max_connections=32,
            stale_timeout=300,
            prefer_psycopg3=True,
        )
    else:
        path = Path(url.removeprefix("sqlite:///") if url else "office.sqlite3")
        # It holds the sites' invitation private keys: 0600 before SQLite makes it 0644.
        prepare_private_database(path)
        db = SqliteDatabase(
            str(path), pragmas=PRAGMAS, check_same_thread=False, lock_type=WRITE_LOCK_FIRST
        )
    office_database.initialize(db)
    with db.connection_context(), db.atomic():
        if isinstance(db, PostgresqlDatabase):  # offices starting together take turns
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (6_999_999,))
        added = add_missing_columns(db, OFFICE_MODELS)
        drop_outdated_unique_indexes(db, OFFICE_MODELS)
        # After the columns: an index declared on a new column can only be made now.
        db.create_tables(OFFICE_MODELS, safe=True)
        for model, name in added:
            backfill = BACKFILLS.get((model, name))
            if backfill is not None:
                backfill(db)
    return db


def add_missing_columns(db: Database, models: Iterable[type[Any]]) -> list[tuple[type[Any], str]]:
    """The office's column migration: add each model field that its existing table lacks.

    A new field must be nullable or have a default, so rows already stored get a value.
    Tables that do not exist yet are left to create_tables. Returns (model, field name) of
    each column added."""
    from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

    migrator = SqliteMigrator(db) if isinstance(db, SqliteDatabase) else PostgresqlMigrator(db)
    added: list[tuple[type[Any], str]] = []
    operations = []
    for model in models:
        table = model._meta.table_name
        if not db.table_exists(table):
            continue
        present = {column.name for column in db.get_columns(table)}
        for model_field in model._meta.sorted_fields:
            if model_field.column_name in present:
                continue
            if not model_field.null and model_field.default is None:
                raise RuntimeError(
                    f"cannot add {table}.{model_field.column_name}: a new column needs a "
                    "default or must allow NULL"
                )
            operations.append(migrator.add_column(table, model_field.column_name, model_field))
            added.append((model, model_field.name))
    if operations:
        migrate(*operations)
    return added


def drop_outdated_unique_indexes(db: Database, models: Iterable[type[Any]]) -> list[str]:
    """The office's index migration: drop each unique index that its model no longer
    declares (create_tables then makes the declared ones). UsedInvitation's token id, once
    unique across the office, is unique per site now. Returns the indexes dropped."""
    dropped = []
    for model in models:
        table = model._meta.table_name
        if not db.table_exists(table):
            continue
        declared: set[tuple[str, ...]] = {(model._meta.primary_key.column_name,)}
        for index_spec in model._meta.fields_to_index():
            if index_spec._unique:
                declared.add(
                    tuple(getattr(part, "column_name", "") for part in index_spec._expressions)
                )
        for index in db.get_indexes(table):
            if index.unique and tuple(index.columns) not in declared and index.columns:
                if isinstance(db, PostgresqlDatabase) and index.name.endswith("_pkey"):
                    continue
                db.execute_sql(f'DROP INDEX "{index.name}"')
                dropped.append(index.name)
    return dropped


def _backfill_visit_name_keys(db: Database) -> None:
    """Visits stored before the visit log's search keys existed get theirs."""
    from kiosk.office.reporting import visit_name_key

    last_id = 0
    while True:
        rows = rows_of(
            OfficeVisit.select(OfficeVisit.id, OfficeVisit.visitor_name)
            .where((OfficeVisit.id > last_id) & (OfficeVisit.visitor_name != ""))
            .order_by(OfficeVisit.id)
            .limit(1000)
        )
        if not rows:
            return
        for visit_id, name in rows:
            OfficeVisit.update(name_key=visit_name_key(name)).where(
                OfficeVisit.id == visit_id
            ).execute()
        last_id = rows[-1][0]


#: Work to do once when a column is added: (model, field name) -> the step.
BACKFILLS: dict[tuple[type[Any], str], Callable[[Database], None]] = {
    (OfficeVisit, "name_key"): _backfill_visit_name_keys,
}


def _refs_named(event: dict[str, Any]) -> list[tuple[type[Any], str]]:
    """The (model, ref) of each visit, host and appointment an event names."""
    payload = event["payload"]
    named: list[tuple[type[Any], str]] = []
    for model, ref in (
        (OfficeVisit, payload.get("visit")),
        (OfficeVisit, event["subject_ref"] if event["kind"] != "token.revoked" else None),
        (OfficeHost, payload.get("host")),
        (OfficeAppointment, payload.get("appointment")),
    ):
        if isinstance(ref, str) and ref:
            named.append((model, ref))
    return named


def key_feed_ref(kind: str, public_key_hex: str) -> str:
    """A trusted key's row in the change feed: its kind and its whole public key, so that
    no other key, of this kind or another, can take its place in the feed."""
    return f"{kind}:{public_key_hex}"


def _key_ids_in_use() -> set[str]:
    """The token key ids of every key the office has handed out: site keys and badge keys."""
    ids = {row[0] for row in rows_of(SiteKey.select(SiteKey.key_id))}
    ids.update(
        key_id_for(bytes.fromhex(row[0])) for row in rows_of(Kiosk.select(Kiosk.badge_public_key))
    )
    return ids


def _refuse_known_keys(auth_public_key: str, badge_public_key: str) -> None:
    """An enrolling kiosk brings two new keys of its own. A key the office already knows (a
    site's invitation key, another kiosk's key) or one whose 4-byte token key id is already
    in use is refused: tokens name their key by that id, so a second key with it could
    shadow the first at the kiosks."""
    if auth_public_key == badge_public_key:
        raise InvalidInput("badge_public_key", "must differ from the auth key")
    known = {row[0] for row in rows_of(SiteKey.select(SiteKey.public_key))}
    for row in rows_of(Kiosk.select(Kiosk.auth_public_key, Kiosk.badge_public_key)):
        known.update(row)
    for label, value in (
        ("auth_public_key", auth_public_key),
        ("badge_public_key", badge_public_key),
    ):
        if value in known:
            raise Forbidden(f"the {label} is already registered at this office")
    if key_id_for(bytes.fromhex(badge_public_key)) in _key_ids_in_use():
        raise Forbidden("the badge_public_key's key id is already in use; make a new key")


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def _parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("time without a zone")
    return moment.astimezone(UTC)


class OfficeStore:
    def __init__(self, db: Database, *, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.office_keys = OfficeKeys(db)

    @contextmanager
    def _site_writes(self, site: Site) -> Iterator[None]:
        """One transaction whose change-feed rows commit in id order for the site.

        On PostgreSQL ids come from a sequence when rows are inserted, not when they commit;
        a transaction-scoped advisory lock makes writers of one site take turns, so a kiosk
        that has pulled up to id N can never later find an uncommitted N-1 appear."""
        with self._write_transaction():
            if isinstance(self.db, PostgresqlDatabase):
                self.db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (7_000_000 + site.id,))
            yield

    def _write_transaction(self) -> Any:
        """A transaction that will write. On SQLite it takes the write lock at BEGIN
        (IMMEDIATE), so concurrent writers wait their turn (busy_timeout) instead of failing
        when a read-then-write transaction finds its snapshot outdated."""
        if isinstance(self.db, SqliteDatabase):
            return self.db.atomic("IMMEDIATE")
        return self.db.atomic()

    def _log(self, site: Site, entity: str, ref: str, data: dict[str, Any]) -> None:
        self._supersede(site, entity, [ref])
        ChangeLog.create(
            site=site, entity=entity, ref=ref, data=json.dumps(data, ensure_ascii=False)
        )

    @staticmethod
    def _supersede(site: Site, entity: str, refs: list[str]) -> None:
        """Drop the feed rows these entities' new rows replace (see ChangeLog)."""
        for start in range(0, len(refs), 500):
            ChangeLog.delete().where(
                (ChangeLog.site == site.id)
                & (ChangeLog.entity == entity)
                & ChangeLog.ref.in_(refs[start : start + 500])
            ).execute()

    # ------------------------------------------------------------------ sites and kiosks

    def site(self, name: str) -> Site:
        """The site called `name`, created with its invitation key on first use."""
        with self.db.connection_context():
            found = Site.get_or_none(Site.name == name)
            if found is not None:
                return found
            check_name(name, "site")
            now = self.clock.now()
            with self.db.atomic():
                site = Site.create(name=name, created_at=now)
                key = Ed25519PrivateKey.generate()
                public = raw_public_key(key.public_key())
                while key_id_for(public) in _key_ids_in_use():  # one in 2**32 per key
                    key = Ed25519PrivateKey.generate()
                    public = raw_public_key(key.public_key())
                SiteKey.create(
                    site=site,
                    kind="invitation",
                    key_id=key_id_for(public),
                    public_key=public.hex(),
                    private_key_pem=key.private_bytes(
                        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
                    ).decode(),
                    created_at=now,
                )
            with self._site_writes(site):
                self._log(
                    site,
                    "key",
                    key_feed_ref("invitation", public.hex()),
                    {
                        "kind": "invitation",
                        "public_key": public.hex(),
                        "owner": "site",
                        "revoked": False,
                    },
                )
            return site

    def enrolment_code(self, site_name: str) -> str:
        """A one-time code for enrolling one kiosk at the site; only its hash is stored."""
        site = self.site(site_name)
        code = "-".join(secrets.token_hex(3).upper() for _ in range(3))
        now = self.clock.now()
        with self.db.connection_context():
            proof_key = enrolment_key(code)
            EnrolmentCode.create(
                code_hash=_hash_code(code),
                code_id=enrolment_code_id(proof_key),
                proof_key=proof_key.hex(),
                site=site,
                created_at=now,
                expires_at=now + ENROLMENT_CODE_LIFETIME,
            )
        return code

    def enrol(
        self, code: str, *, kiosk_id: str, name: str, auth_public_key: str, badge_public_key: str
    ) -> Kiosk:
        """Enrol a kiosk that shows the code itself (the CLI, tests, older kiosks)."""
        return self._enrol(
            lambda: EnrolmentCode.get_or_none(EnrolmentCode.code_hash == _hash_code(code)),
            kiosk_id=kiosk_id, name=name, auth_public_key=auth_public_key,
            badge_public_key=badge_public_key,
        )  # fmt: skip

    def enrol_with_proof(
        self, code_id: str, proof: str, nonce: str, fields: dict[str, str]
    ) -> tuple[Kiosk, bytes]:
        """Enrol a kiosk that proves it knows the code without sending it: `proof` is the
        HMAC of its request (kiosk.sync.wire.enrolment_mac) keyed with the code's key.
        Returns the kiosk and that key, which the answer is authenticated with."""
        found: list[bytes] = []

        def proven() -> EnrolmentCode | None:
            record = EnrolmentCode.get_or_none(EnrolmentCode.code_id == code_id)
            if record is None or not record.proof_key:
                return None
            key = bytes.fromhex(record.proof_key)
            expected = enrolment_mac(key, "request", {**fields, "nonce": nonce})
            if not hmac.compare_digest(expected, proof):
                return None
            found.append(key)
            return record

        kiosk = self._enrol(proven, **fields)
        return kiosk, found[0]

    def _enrol(
        self,
        find_code: Callable[[], EnrolmentCode | None],
        *,
        kiosk_id: str,
        name: str,
        auth_public_key: str,
        badge_public_key: str,
    ) -> Kiosk:
        now = self.clock.now()
        for label, value in (
            ("auth_public_key", auth_public_key),
            ("badge_public_key", badge_public_key),
        ):
            if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
                raise InvalidInput(label, "is not a raw Ed25519 public key in hex")
        check_optional(name, "name", 200)
        with self.db.connection_context(), self.db.atomic():
            record = find_code()
            if record is None or record.used_at is not None or record.expires_at < now:
                raise Forbidden("the enrolment code is unknown, used or expired")
            if Kiosk.get_or_none(Kiosk.kiosk_id == kiosk_id) is not None:
                raise Forbidden(f"a kiosk {kiosk_id} is already enrolled")
            _refuse_known_keys(auth_public_key, badge_public_key)
            # Taken in one UPDATE that only an unused code matches: of kiosks presenting
            # the code at once, exactly one changes the row (PostgreSQL's row lock makes
            # the others re-check `used_at` and match nothing).
            taken = (
                EnrolmentCode.update(used_at=now, used_by=kiosk_id)
                .where((EnrolmentCode.id == record.id) & EnrolmentCode.used_at.is_null())
                .execute()
            )
            if taken != 1:
                raise Forbidden("the enrolment code is unknown, used or expired")
            kiosk = Kiosk.create(
                kiosk_id=kiosk_id,
                site=record.site,
                name=name,
                auth_public_key=auth_public_key,
                badge_public_key=badge_public_key,
                enrolled_at=now,
            )
            with self._site_writes(record.site):
                self._log(
                    record.site,
                    "key",
                    key_feed_ref("badge", badge_public_key),
                    {
                        "kind": "badge",
                        "public_key": badge_public_key,
                        "owner": kiosk_id,
                        "revoked": False,
                    },
                )
        return kiosk

    def rotate_office_key(self) -> str:
        """A new key for the office's answers, announced to every site's kiosks in the feed;
        they accept it because the answer that brings it is signed by a key they trust."""
        now = self.clock.now()
        self.office_keys.signing(now)  # the first key exists before a second is made
        public = self.office_keys.rotate(now)
        self._announce_office_key(public, retired=False)
        return public

    def retire_office_key(self, public_key_hex: str) -> None:
        """Stop signing with a key (once every kiosk has synced since the rotation)."""
        now = self.clock.now()
        if len(self.office_keys.public(now)) < 2:
            raise InvalidInput("key", "the office's only key cannot be retired: rotate first")
        if public_key_hex not in self.office_keys.public(now):
            raise NotFound(f"no current office key {public_key_hex}")
        self._announce_office_key(public_key_hex, retired=True)
        self.office_keys.retire(public_key_hex, now)

    def _announce_office_key(self, public_key_hex: str, *, retired: bool) -> None:
        with self.db.connection_context():
            for site in Site.select():
                with self._site_writes(site):
                    self._log(
                        site, "office_key", public_key_hex,
                        {"public_key": public_key_hex, "retired": retired},
                    )  # fmt: skip

    def revoke_kiosk(self, kiosk_id: str) -> None:
        """Refuse the kiosk at once, and tell the others to stop trusting its badges."""
        now = self.clock.now()
        with self.db.connection_context():
            kiosk = Kiosk.get_or_none(Kiosk.kiosk_id == kiosk_id)
            if kiosk is None:
                raise NotFound(f"no kiosk {kiosk_id}")
            with self._site_writes(kiosk.site):
                kiosk.revoked_at = now
                kiosk.save()
                self._log(
                    kiosk.site,
                    "key",
                    key_feed_ref("badge", kiosk.badge_public_key),
                    {
                        "kind": "badge",
                        "public_key": kiosk.badge_public_key,
                        "owner": kiosk_id,
                        "revoked": True,
                    },
                )

    def check_signature_headers(self, headers: dict[str, str]) -> Kiosk:
        """The kiosk a request says it comes from, if its signature headers are well formed,
        name an enrolled kiosk and carry a time near the office's: checked before the body
        is read. Unauthorized otherwise. The signature itself is `authenticate`'s."""
        kiosk_id = headers.get("x-kiosk-id", "")
        nonce = headers.get("x-kiosk-nonce", "")
        signature = headers.get("x-kiosk-signature", "")
        try:
            time_ms = int(headers.get("x-kiosk-time", ""))
        except ValueError as err:
            raise Unauthorized("unsigned request") from err
        if not (kiosk_id and signature and 16 <= len(nonce) <= 64):
            raise Unauthorized("unsigned request")
        kiosk = Kiosk.get_or_none(Kiosk.kiosk_id == kiosk_id)
        if kiosk is None:
            raise Unauthorized("bad signature")
        now_ms = int(self.clock.now().timestamp() * 1000)
        if abs(now_ms - time_ms) > MAX_REQUEST_AGE_MS:
            raise Unauthorized("request time too far from the office's clock; resync the clock")
        return kiosk

    def authenticate(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        claimed: Kiosk | None = None,
    ) -> Kiosk:
        """The kiosk that signed this request; Unauthorized or Forbidden otherwise.
        `claimed` is what check_signature_headers already found for these headers."""
        kiosk = claimed or self.check_signature_headers(headers)
        nonce = headers["x-kiosk-nonce"]
        signature = headers["x-kiosk-signature"]
        time_ms = int(headers["x-kiosk-time"])
        if not signature_is_valid(
            kiosk.auth_public_key, method, path, time_ms, nonce, body, signature
        ):
            raise Unauthorized("bad signature")
        if kiosk.revoked_at is not None:
            raise Forbidden("this kiosk has been revoked")
        try:
            with self._write_transaction():
                RequestNonce.create(kiosk=kiosk, nonce=nonce, seen_at=self.clock.now())
        except IntegrityError as err:
            raise Unauthorized("replayed request") from err
        if secrets.randbelow(50) == 0:  # now and then, forget nonces too old to matter
            RequestNonce.delete().where(
                RequestNonce.seen_at < self.clock.now() - timedelta(milliseconds=NONCE_LIFETIME_MS)
            ).execute()
        return kiosk

    # ------------------------------------------------------------------ ingest

    def ingest(self, kiosk: Kiosk, events: Iterable[dict[str, Any]]) -> IngestReport:
        """Store a batch of a kiosk's events. Each event is judged alone: a bad one is
        rejected with its reason and does not block the rest.

        A kiosk speaks only for its own site: an event about another site's visit, host or
        appointment is rejected and raises a security alert (visit refs are in every
        badge's QR, so anyone can learn one). An event id sent again with other content is
        a conflict, never a kiosk's own doing, and raises one too."""
        report = IngestReport()
        valid: list[dict[str, Any]] = []
        for raw in events:
            event_id = raw.get("event_id", "") if isinstance(raw, dict) else ""
            event_id = event_id if isinstance(event_id, str) and event_id.isascii() else ""
            try:
                valid.append(validate_event(kiosk.kiosk_id, raw))
            except (InvalidInput, ValueError, TypeError, KeyError) as err:
                report.results.append(EventResult(event_id[:64], "rejected", str(err)))
        if not valid:
            return report
        now = self.clock.now()
        verdicts: dict[str, EventResult] = {}
        unique: dict[str, dict[str, Any]] = {}
        with self._site_writes(kiosk.site):
            for event in valid:
                event["digest"] = payload_digest(canonical_json(event["payload"]))
            verdicts.update(self._judge_known(kiosk, valid, now))
            fresh = [e for e in valid if e["event_id"] not in verdicts]
            verdicts.update(self._refuse_foreign(kiosk, fresh, now))
            # The same event twice in one batch counts once.
            for event in fresh:
                if event["event_id"] not in verdicts:
                    unique.setdefault(event["event_id"], event)
            if unique:
                insert_rows(
                    self.db,
                    Event,
                    [
                        {
                            "event_id": e["event_id"],
                            "kiosk": kiosk.id,
                            "seq": e["seq"],
                            "kind": e["kind"],
                            "subject_ref": e["subject_ref"],
                            "payload": json.dumps(e["payload"], ensure_ascii=False),
                            "prev_hash": e["prev_hash"],
                            "event_hash": e["event_hash"],
                            "payload_digest": e["digest"],
                            "occurred_at": e["occurred_at"],
                            "received_at": now,
                        }
                        for e in unique.values()
                    ],
                )
                self._project(kiosk, sorted(unique.values(), key=lambda e: e["seq"]), now)
                Kiosk.update(
                    last_seq=max(kiosk.last_seq, max(e["seq"] for e in unique.values())),
                    last_seen_at=now,
                ).where(Kiosk.id == kiosk.id).execute()
        stored = {id(event) for event in unique.values()}
        for event in valid:
            if id(event) in stored:
                report.results.append(EventResult(event["event_id"], "stored"))
            else:
                verdict = verdicts.get(event["event_id"])
                report.results.append(verdict or EventResult(event["event_id"], "duplicate"))
        return report

    def _judge_known(
        self, kiosk: Kiosk, events: list[dict[str, Any]], now: datetime
    ) -> dict[str, EventResult]:
        """Events already stored: a duplicate when sent again as they were (a retry after a
        lost answer), a conflict when the id comes back with other content or from another
        kiosk. The first version is kept either way."""
        stored = {
            event_id: (kiosk_id, digest)
            for event_id, kiosk_id, digest in rows_of(
                Event.select(Event.event_id, Event.kiosk, Event.payload_digest).where(
                    Event.event_id.in_([e["event_id"] for e in events])
                )
            )
        }
        verdicts: dict[str, EventResult] = {}
        for event in events:
            found = stored.get(event["event_id"])
            if found is None:
                continue
            if found == (kiosk.id, event["digest"]) or (found[0] == kiosk.id and not found[1]):
                verdicts[event["event_id"]] = EventResult(event["event_id"], "duplicate")
                continue
            reason = "this event id was stored before with other content; the first is kept"
            verdicts[event["event_id"]] = EventResult(event["event_id"], "conflict", reason)
            raise_alert(
                kiosk, OfficeAlert.EVENT_CONFLICT, event["subject_ref"],
                {"event_id": event["event_id"], "kind": event["kind"]},
                event["occurred_at"], now,
            )  # fmt: skip
        return verdicts

    def _refuse_foreign(
        self, kiosk: Kiosk, events: list[dict[str, Any]], now: datetime
    ) -> dict[str, EventResult]:
        """Events naming a visit, host or appointment of another site: rejected, each with
        a security alert."""
        wanted: dict[type[Any], set[str]] = {OfficeVisit: set(), OfficeHost: set(),
                                             OfficeAppointment: set()}  # fmt: skip
        for event in events:
            for model, ref in _refs_named(event):
                wanted[model].add(ref)
        foreign: set[tuple[type[Any], str]] = set()
        owner: dict[tuple[type[Any], str], int] = {}
        for model, refs in wanted.items():
            listed = sorted(refs)
            for start in range(0, len(listed), 500):
                query = model.select(model.ref, model.site).where(
                    model.ref.in_(listed[start : start + 500]) & (model.site != kiosk.site_id)
                )
                for ref, site_id in rows_of(query):
                    foreign.add((model, ref))
                    owner[(model, ref)] = site_id
        verdicts: dict[str, EventResult] = {}
        if not foreign:
            return verdicts
        for event in events:
            named = [ref for model, ref in _refs_named(event) if (model, ref) in foreign]
            if not named:
                continue
            what = {OfficeVisit: "visit", OfficeHost: "host", OfficeAppointment: "appointment"}
            model = next(m for m, ref in _refs_named(event) if (m, ref) in foreign)
            reason = f"the {what[model]} {named[0]} is not of this kiosk's site"
            verdicts[event["event_id"]] = EventResult(event["event_id"], "rejected", reason)
            raise_alert(
                kiosk, OfficeAlert.FOREIGN_SITE, named[0],
                {"event_id": event["event_id"], "kind": event["kind"], "refs": named},
                event["occurred_at"], now, also=Site.get_by_id(owner[(model, named[0])]),
            )  # fmt: skip
        return verdicts

    def _project(self, kiosk: Kiosk, events: list[dict[str, Any]], now: datetime) -> None:
        """Fold visit events into the office's view of each visit, and note used invitations."""
        site = kiosk.site
        refs = {e["payload"].get("visit") for e in events if e["kind"].startswith("visit.")}
        refs.discard(None)
        visits = (
            {
                v.ref: v
                for v in OfficeVisit.select().where(
                    OfficeVisit.ref.in_(list(refs)) & (OfficeVisit.site == site.id)
                )
            }
            if refs
            else {}
        )
        changed: dict[str, OfficeVisit] = {}
        for event in events:
            payload = event["payload"]
            if event["kind"] == "visit.rated" and payload.get("visit") in visits:
                visit = visits[payload["visit"]]
                visit.satisfaction = payload.get("satisfaction")
                changed[visit.ref] = visit
                continue
            if event["kind"] == FORWARD_KIND:
                self._record_forward(kiosk, event, now)
                continue
            if event["kind"] == "token.revoked":
                self._log(
                    site,
                    "revoked_token",
                    str(payload.get("token", "")),
                    {"kind": payload.get("kind", "")},
                )
                continue
            if not event["kind"].startswith("visit.") or "state" not in payload:
                continue
            ref = str(payload.get("visit", ""))
            if not ref:
                continue
            token = payload.get("invitation")
            if token and payload["state"] == "checked_in":
                self._use_invitation(kiosk, str(token), ref, event["occurred_at"])
            found = visits.get(ref)
            if found is None:
                visit = OfficeVisit(
                    ref=ref, site=site, kiosk=kiosk, state=payload["state"], updated_at=now
                )
                visits[ref] = visit
            elif STATE_RANK.get(payload["state"], -1) < STATE_RANK.get(found.state, -1):
                continue  # late news: an arrival is never undone by an older "expected"
            elif found.state in FINAL_STATES:
                continue  # an ended visit stays as it ended: a late "denied" undoes no checkout
            elif payload["state"] == "no_show" and found.arrived_at is not None:
                continue
            else:
                visit = found
            self._copy_snapshot(visit, payload)
            visit.kiosk = kiosk
            visit.updated_at = now
            changed[ref] = visit
        if not changed:
            return
        # One upsert and one feed insert for the whole batch: per-row statements would cost
        # a round trip to PostgreSQL each.
        insert_rows(
            self.db,
            OfficeVisit,
            [
                {"ref": v.ref, "site": site.id, "kiosk": kiosk.id, "updated_at": now,
                 **{name: getattr(v, name) for name in VISIT_FIELDS},
                 "name_key": visit_name_key(v.visitor_name)}
                for v in changed.values()
            ],
            conflict_on="ref",
            update=(*VISIT_FIELDS, "name_key", "kiosk", "updated_at"),
        )  # fmt: skip
        self._supersede(site, "visit", list(changed))
        insert_rows(
            self.db,
            ChangeLog,
            [
                {
                    "site": site.id,
                    "entity": "visit",
                    "ref": v.ref,
                    "data": json.dumps(self._visit_data(v), ensure_ascii=False),
                }
                for v in changed.values()
            ],
        )

    @staticmethod
    def _copy_snapshot(visit: OfficeVisit, payload: dict[str, Any]) -> None:
        visitor = payload.get("visitor") or {}
        values: dict[str, Any] = {
            "state": payload.get("state"),
            "visitor_name": visitor.get("name", visit.visitor_name or ""),
            "company": visitor.get("company", visit.company or ""),
            "host_ref": payload.get("host") or visit.host_ref or "",
            "appointment_ref": payload.get("appointment") or visit.appointment_ref or "",
            "method": payload.get("method", visit.method or ""),
            "purpose": payload.get("purpose", visit.purpose or ""),
            "level": payload.get("level", visit.level or ""),
            "visitor_type": payload.get("visitor_type", visit.visitor_type or ""),
            "escort_required": bool(payload.get("escort_required", visit.escort_required)),
            "auto_checked_out": bool(payload.get("auto_checked_out", False)),
        }
        for name in ("arrived_at", "host_notified_at", "host_acknowledged_at", "left_at"):
            values[name] = _parse_time(payload.get(name)) or getattr(visit, name)
        if payload.get("satisfaction") is not None:
            values["satisfaction"] = int(payload["satisfaction"])
        for name, value in values.items():
            setattr(visit, name, value)

    @staticmethod
    def _visit_data(visit: OfficeVisit) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(visit, name) for name in VISIT_FIELDS}
        for name in ("arrived_at", "host_notified_at", "host_acknowledged_at", "left_at"):
            data[name] = data[name].isoformat() if data[name] else None
        data["kiosk"] = visit.kiosk.kiosk_id
        return data

    def _use_invitation(self, kiosk: Kiosk, token_id: str, visit_ref: str, at: datetime) -> None:
        """Record an invitation as used and tell every kiosk of the site. Used at two kiosks
        while they were both offline, it is flagged as a security alert."""
        first = UsedInvitation.get_or_none(
            (UsedInvitation.site == kiosk.site_id) & (UsedInvitation.token_id == token_id)
        )
        if first is None:
            UsedInvitation.create(
                token_id=token_id, site=kiosk.site, kiosk=kiosk, visit_ref=visit_ref, used_at=at
            )
            self._log(
                kiosk.site,
                "used_invitation",
                token_id,
                {"kiosk": kiosk.kiosk_id, "visit": visit_ref},
            )
        elif first.kiosk_id != kiosk.id or first.visit_ref != visit_ref:
            raise_alert(
                kiosk, OfficeAlert.INVITATION_USED_TWICE, visit_ref,
                {"token": token_id, "first_visit": first.visit_ref,
                 "first_kiosk": first.kiosk.kiosk_id, "visit": visit_ref},
                at, self.clock.now(),
            )  # fmt: skip

    # ------------------------------------------------------------------ the change feed

    def changes(self, kiosk: Kiosk, cursor: int, limit: int) -> tuple[str, int, bool]:
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

    # ------------------------------------------------------------------ the directory

    def add_host(
        self,
        site_name: str,
        name: str,
        *,
        email: str = "",
        department: str = "",
        phone: str = "",
        availability: str = "in",
        delegate_ref: str = "",
        is_senior: bool = False,
        walk_in_needs_approval: bool = False,
        channels: list[str] | None = None,
        ref: str | None = None,
        active: bool = True,
    ) -> OfficeHost:
        check_name(name)
        check_email(email)
        site = self.site(site_name)
        now = self.clock.now()
        with self.db.connection_context(), self._site_writes(site):
            host = (
                OfficeHost.get_or_none((OfficeHost.ref == ref) & (OfficeHost.site == site))
                if ref
                else None
            )
            host = host or OfficeHost(ref=ref or new_ref(), site=site)
            host.name, host.email, host.department, host.phone = name, email, department, phone
            host.availability = availability
            host.delegate_ref = delegate_ref
            host.is_senior = is_senior
            host.walk_in_needs_approval = walk_in_needs_approval
            host.active = active
            host.channels = json.dumps(channels or ([f"mailto://{email}"] if email else []))
            host.updated_at = now
            host.save(force_insert=host.id is None)
            self._log(site, "host", host.ref, self._host_data(host))
        return host

    @staticmethod
    def _host_data(host: OfficeHost) -> dict[str, Any]:
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

    def add_appointments(
        self, site_name: str, bookings: Iterable[dict[str, Any]]
    ) -> list[OfficeAppointment]:
        """Book visits (each a dict of add_appointment's arguments) in one transaction."""
        site = self.site(site_name)
        now = self.clock.now()
        made = []
        with self.db.connection_context(), self._site_writes(site):
            for booking in bookings:
                appointment = self._new_appointment(site, now, **booking)
                made.append(appointment)
            columns = [
                field.name for field in OfficeAppointment._meta.sorted_fields if field.name != "id"
            ]
            insert_rows(
                self.db,
                OfficeAppointment,
                [{name: getattr(a, name) for name in columns} for a in made],
            )
            insert_rows(
                self.db,
                ChangeLog,
                [
                    {
                        "site": site.id,
                        "entity": "appointment",
                        "ref": a.ref,
                        "data": json.dumps(self._appointment_data(a), ensure_ascii=False),
                    }
                    for a in made
                ],
            )
        return made

    def add_appointment(self, site_name: str, **booking: Any) -> OfficeAppointment:
        return self.add_appointments(site_name, [booking])[0]

    @staticmethod
    def _new_appointment(
        site: Site,
        now: datetime,
        *,
        visitor_name: str,
        host_ref: str,
        starts_at: datetime,
        ends_at: datetime | None = None,
        company: str = "",
        email: str = "",
        phone: str = "",
        purpose: str = Purpose.VISIT_PERSON,
        level: str = VisitorLevel.ORDINARY,
        visitor_type: str = "visitor",
        ref: str | None = None,
        invitation_token_id: str = "",
        import_key: str = "",
        import_sequence: int = 0,
        import_digest: str = "",
    ) -> OfficeAppointment:
        check_name(visitor_name, "visitor_name")
        Purpose(purpose)
        VisitorLevel(level)
        return OfficeAppointment(
            ref=ref or new_ref(),
            site=site,
            visit_ref=new_ref(),
            host_ref=host_ref,
            visitor_name=visitor_name,
            company=company,
            email=email,
            phone=phone,
            starts_at=starts_at,
            ends_at=ends_at or starts_at + timedelta(hours=1),
            purpose=str(purpose),
            level=str(level),
            visitor_type=visitor_type,
            # Chosen at booking so a cancellation revokes it even before the mail is signed.
            invitation_token_id=invitation_token_id,
            updated_at=now,
            import_key=import_key,
            import_sequence=import_sequence,
            import_digest=import_digest,
        )

    @staticmethod
    def _appointment_data(appointment: OfficeAppointment) -> dict[str, Any]:
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
            "cancelled_at": appointment.cancelled_at.isoformat()
            if appointment.cancelled_at
            else None,
        }

    def invite(
        self,
        appointment_ref: str,
        *,
        early: timedelta = timedelta(hours=2),
        late: timedelta = timedelta(hours=4),
        reuse_token: bool = False,
    ) -> str:
        """Sign the appointment's invitation with the site's key, which never leaves here.

        With `reuse_token`, an appointment that already has a token id is signed again with
        the same id (Ed25519 is deterministic: the same code as before), so a resent e-mail
        carries the code the kiosks already know and nothing changes in the feed. A new
        token id revokes the one it replaces."""
        with self.db.connection_context():
            appointment = self._booked_appointment(appointment_ref)
            key = SiteKey.get((SiteKey.site == appointment.site) & (SiteKey.kind == "invitation"))
            private = load_pem_private_key(key.private_key_pem.encode(), password=None)
            assert isinstance(private, Ed25519PrivateKey)
            previous = appointment.invitation_token_id
            text, token = TokenSigner(private).sign_invitation(
                appointment_ref=appointment.ref,
                host_ref=appointment.host_ref,
                visitor_name=appointment.visitor_name,
                not_before=appointment.starts_at - early,
                not_after=appointment.starts_at + late,
                token_id=previous if reuse_token and previous else None,
            )
            if token.token_id == previous:
                return text
            with self._site_writes(appointment.site):
                if previous:
                    self._log(appointment.site, "revoked_token", previous, {"kind": "invitation"})
                appointment.invitation_token_id = token.token_id
                appointment.updated_at = self.clock.now()
                appointment.save()
                self._log(
                    appointment.site,
                    "appointment",
                    appointment.ref,
                    self._appointment_data(appointment),
                )
        return text

    def cancel_appointment(self, appointment_ref: str) -> None:
        with self.db.connection_context():
            appointment = OfficeAppointment.get_or_none(OfficeAppointment.ref == appointment_ref)
            if appointment is None:
                raise NotFound(f"no appointment {appointment_ref}")
            with self._site_writes(appointment.site):
                appointment.cancelled_at = appointment.updated_at = self.clock.now()
                appointment.calendar_sequence += 1  # the cancellation notice's .ics wins
                appointment.save()
                self._log(
                    appointment.site,
                    "appointment",
                    appointment.ref,
                    self._appointment_data(appointment),
                )
                if appointment.invitation_token_id:
                    self._log(
                        appointment.site,
                        "revoked_token",
                        appointment.invitation_token_id,
                        {"kind": "invitation"},
                    )

    @staticmethod
    def _booked_appointment(appointment_ref: str) -> OfficeAppointment:
        """The appointment, still booked: NotFound or InvalidInput (cancelled) otherwise."""
        appointment = OfficeAppointment.get_or_none(OfficeAppointment.ref == appointment_ref)
        if appointment is None:
            raise NotFound(f"no appointment {appointment_ref}")
        if appointment.cancelled_at is not None:
            raise InvalidInput("appointment", "is cancelled")
        return appointment

    def change_appointment(self, appointment_ref: str, changes: dict[str, Any]) -> bool:
        """Change a booked visit's details (`changes`: field name to new value) and tell the
        kiosks. If the invitation's signed code no longer matches (its time window, host or
        visitor), the old code is revoked and a new token id chosen, so the code mailed
        before admits nobody. Returns whether the visitor's invitation must go out again:
        something it tells them has changed."""
        with self.db.connection_context():
            appointment = self._booked_appointment(appointment_ref)
            changed = {
                name for name, value in changes.items() if getattr(appointment, name) != value
            }
            if "visitor_name" in changed:
                check_name(changes["visitor_name"], "visitor_name")
            for name in changed:
                setattr(appointment, name, changes[name])
            told = bool(changed & INVITATION_FIELDS)
            with self._site_writes(appointment.site):
                previous = appointment.invitation_token_id
                if previous and changed & SIGNED_FIELDS:
                    self._log(appointment.site, "revoked_token", previous, {"kind": "invitation"})
                    appointment.invitation_token_id = new_ref()
                if told:
                    appointment.calendar_sequence += 1  # the new invitation's .ics wins
                appointment.updated_at = self.clock.now()
                appointment.save()
                if changed & FEED_FIELDS:
                    self._log(
                        appointment.site,
                        "appointment",
                        appointment.ref,
                        self._appointment_data(appointment),
                    )
        return told

    def add_watchlist_entry(
        self, site_name: str, name: str, *, reason: str = "", document_hash: str | None = None
    ) -> OfficeWatchlistEntry:
        check_name(name)
        site = self.site(site_name)
        with self.db.connection_context(), self._site_writes(site):
            entry = OfficeWatchlistEntry.create(
                ref=new_ref(), site=site, name=name, document_hash=document_hash, reason=reason,
                updated_at=self.clock.now(),
            )  # fmt: skip
            self._log(site, "watchlist", entry.ref, self._watchlist_data(entry))
        return entry

    def visits(self, since: datetime, site_name: str | None = None) -> list[dict[str, Any]]:
        with self.db.connection_context():
            query = (
                OfficeVisit.select(OfficeVisit, Kiosk)
                .join(Kiosk)
                .where((OfficeVisit.arrived_at >= since) | (OfficeVisit.updated_at >= since))
            )
            if site_name:
                query = query.switch(OfficeVisit).join(Site).where(Site.name == site_name)
            return [
                {"ref": visit.ref, **self._visit_data(visit)}
                for visit in query.order_by(OfficeVisit.arrived_at)
            ]

    # --- directory (office web)

    @contextmanager
    def site_change(self, site: Site) -> Iterator[None]:
        """One transaction for a change made at the office and its audit entry: the
        directory methods called inside join it, so the change, its feed rows and the audit
        commit together or not at all."""
        with self.db.connection_context(), self._site_writes(site):
            yield

    def document_salt(self, site: Site) -> bytes:
        """The site's secret salt for document numbers, made on first use. Kiosks receive
        it at enrolment (see kiosk.sync.client), so hashes made here match theirs."""
        with self.db.connection_context():
            found = SiteSecret.get_or_none(
                (SiteSecret.site == site) & (SiteSecret.kind == "document_salt")
            )
            if found is None:
                with self._site_writes(site):  # one writer of the site at a time: one salt
                    SiteSecret.insert(
                        site=site,
                        kind="document_salt",
                        value=secrets.token_hex(32),
                        created_at=self.clock.now(),
                    ).on_conflict_ignore().execute()
                found = SiteSecret.get(
                    (SiteSecret.site == site) & (SiteSecret.kind == "document_salt")
                )
            return bytes.fromhex(found.value)

    def set_host_active(self, host_ref: str, active: bool) -> OfficeHost:
        host: OfficeHost = self._set_active(
            OfficeHost, "host", "host", host_ref, active, self._host_data
        )
        return host

    def set_watchlist_active(self, entry_ref: str, active: bool) -> OfficeWatchlistEntry:
        entry: OfficeWatchlistEntry = self._set_active(
            OfficeWatchlistEntry,
            "watchlist",
            "watchlist entry",
            entry_ref,
            active,
            self._watchlist_data,
        )
        return entry

    def _set_active(
        self,
        model: Any,
        entity: str,
        what: str,
        ref: str,
        active: bool,
        data: Callable[[Any], dict[str, Any]],
    ) -> Any:
        """Switch a host or watchlist entry on or off, and tell the site's kiosks."""
        with self.db.connection_context():
            row = model.get_or_none(model.ref == ref)
            if row is None:
                raise NotFound(f"no {what} {ref}")
            with self._site_writes(row.site):
                row.active = active
                row.updated_at = self.clock.now()
                row.save()
                self._log(row.site, entity, row.ref, data(row))
        return row

    @staticmethod
    def _watchlist_data(entry: OfficeWatchlistEntry) -> dict[str, Any]:
        """A watchlist entry as the change feed carries it (kiosk.sync.apply._watchlist)."""
        return {
            "name": entry.name,
            "exact_key": names.exact_key(entry.name),
            "latin_key": names.latin_key(entry.name),
            "document_hash": entry.document_hash,
            "reason": entry.reason,
            "active": entry.active,
        }

    # --- links and forwarded notifications

    def _record_forward(self, kiosk: Kiosk, event: dict[str, Any], now: datetime) -> None:
        """A delivery a kiosk handed over: recorded once per delivery key and channel (a
        kiosk that pushes again after a lost answer adds nothing), and the message kept
        only in that row, which is cleared once sent (kiosk.office.forwarding)."""
        from kiosk.office.forwarding import forward_row, stored_forward_payload
        from kiosk.office.models import ForwardedNotification

        payload = event["payload"]
        ForwardedNotification.insert(
            forward_row(kiosk, event["event_id"], payload, now)
        ).on_conflict_ignore().execute()
        Event.update(payload=json.dumps(stored_forward_payload(payload), ensure_ascii=False)).where(
            Event.event_id == event["event_id"]
        ).execute()

    def link_preview(self, token: str) -> LinkPreview:
        """What a link would do, for the page that asks to confirm it; LinkRefused when it
        would do nothing. Reads only."""
        with self.db.connection_context():
            claim, kiosk = self._verified_link(token)
            visit = self._linked_visit(claim, kiosk)
            self._check_link_unused(claim, visit)
            return self._preview(claim, kiosk, visit)

    def redeem_link(self, token: str) -> LinkPreview:
        """Carry out a link once across the office: the visit is updated at once (live list,
        reports), and the change feed tells the kiosk that sent the link, which applies it
        through its engine on its next pull (kiosk.sync.apply). Raises LinkRefused."""
        from kiosk.notify.links import LinkAction, LinkRefusal, LinkRefused
        from kiosk.office.models import OfficeUsedLink

        now = self.clock.now()
        with self.db.connection_context():
            claim, kiosk = self._verified_link(token)
            try:
                self._linked_visit(claim, kiosk)
            except LinkRefused as err:
                if err.reason is LinkRefusal.FOREIGN:
                    target = OfficeVisit.get(OfficeVisit.ref == claim.visit_ref)
                    raise_alert(
                        kiosk, OfficeAlert.FOREIGN_SITE, claim.visit_ref,
                        {"link": claim.link_id, "action": claim.action.value}, now, now,
                        also=target.site,
                    )  # fmt: skip
                raise
            try:
                with self._site_writes(kiosk.site):
                    visit = self._linked_visit(claim, kiosk)
                    self._check_link_unused(claim, visit)
                    assert visit is not None
                    OfficeUsedLink.create(
                        link_id=claim.link_id, site=kiosk.site, kiosk=kiosk,
                        action=claim.action.value, visit_ref=claim.visit_ref,
                        party=claim.party, used_at=now,
                    )  # fmt: skip
                    if claim.action is LinkAction.DENY:
                        visit.state, visit.left_at = "denied", now
                    else:
                        visit.state, visit.host_acknowledged_at = "host_acknowledged", now
                    visit.updated_at = now
                    visit.save()
                    self._log(kiosk.site, "visit", visit.ref, self._visit_data(visit))
                    self._log(
                        kiosk.site,
                        "link_response",
                        claim.link_id,
                        {
                            "kiosk": kiosk.kiosk_id,
                            "visit": visit.ref,
                            "action": claim.action.value,
                            "party": claim.party,
                            "answered_at": now.isoformat(),
                        },
                    )
            except IntegrityError as err:  # another request used it at the same moment
                raise LinkRefused(LinkRefusal.USED, "this link has been used") from err
            return self._preview(claim, kiosk, visit, answered_at=now)

    def _verified_link(self, token: str) -> tuple[Any, Kiosk]:
        """The claim of a link genuinely signed by a kiosk of this office that is not
        revoked and not expired, and that kiosk. The signature is checked first, so a
        forged link learns nothing about expiry or revocation."""
        from kiosk.notify.links import LinkRefusal, LinkRefused, read_link, verify_link

        claim, _, _ = read_link(token)
        kiosk = Kiosk.get_or_none(Kiosk.kiosk_id == claim.kiosk_id)
        if kiosk is None:
            raise LinkRefused(LinkRefusal.FORGED, "no kiosk of this office sent this link")
        ever = datetime.min.replace(tzinfo=UTC)  # the signature alone, expiry next
        claim = verify_link(token, kiosk.auth_public_key, ever)
        if kiosk.revoked_at is not None:
            raise LinkRefused(LinkRefusal.REVOKED, "the kiosk that sent this link is revoked")
        if self.clock.now() >= claim.expires_at:
            raise LinkRefused(LinkRefusal.EXPIRED, "the link has expired")
        return claim, kiosk

    @staticmethod
    def _linked_visit(claim: Any, kiosk: Kiosk) -> OfficeVisit | None:
        """The visit a link names, looked up only among the visits of the site of the kiosk
        that signed it; LinkRefused (FOREIGN) when the ref is another site's visit."""
        from kiosk.notify.links import LinkRefusal, LinkRefused

        visit = OfficeVisit.get_or_none(
            (OfficeVisit.ref == claim.visit_ref) & (OfficeVisit.site == kiosk.site_id)
        )
        if visit is None and OfficeVisit.get_or_none(OfficeVisit.ref == claim.visit_ref):
            raise LinkRefused(LinkRefusal.FOREIGN, "the visit is not of this kiosk's site")
        return visit

    @staticmethod
    def _check_link_unused(claim: Any, visit: OfficeVisit | None) -> None:
        from kiosk.notify.links import LinkAction, LinkRefusal, LinkRefused
        from kiosk.office.models import OfficeUsedLink

        if OfficeUsedLink.get_or_none(OfficeUsedLink.link_id == claim.link_id) is not None:
            raise LinkRefused(LinkRefusal.USED, "this link has been used")
        if visit is None:
            raise LinkRefused(LinkRefusal.NOT_YET, "the office has not heard of this visit yet")
        if visit.state != "awaiting_host":
            raise LinkRefused(LinkRefusal.TOO_LATE, "the visit has moved on")
        if claim.action is not LinkAction.ACKNOWLEDGE and visit.host_acknowledged_at:
            raise LinkRefused(LinkRefusal.TOO_LATE, "the visit has been decided")

    @staticmethod
    def _preview(
        claim: Any, kiosk: Kiosk, visit: OfficeVisit | None, answered_at: datetime | None = None
    ) -> LinkPreview:
        from kiosk.office.settings import load_site_settings

        host = (
            OfficeHost.get_or_none(
                (OfficeHost.ref == visit.host_ref) & (OfficeHost.site == visit.site_id)
            )
            if visit is not None and visit.host_ref
            else None
        )
        return LinkPreview(
            action=claim.action.value,
            party=claim.party,
            visitor_name=visit.visitor_name if visit else "",
            company=visit.company if visit else "",
            host_name=host.name if host else "",
            kiosk_name=kiosk.name or kiosk.kiosk_id,
            site_name=kiosk.site.name,
            timezone=load_site_settings(kiosk.site).timezone,
            arrived_at=visit.arrived_at if visit else None,
            answered_at=answered_at,
        )
