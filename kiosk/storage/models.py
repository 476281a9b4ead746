"""The kiosk's tables. Times are stored as UTC epoch milliseconds (`UtcTimestampField`):
sortable, index-friendly, and free of time-zone guessing. Refs are 16 hex digits that
identify a row across kiosks and the office; integer ids never leave the kiosk.

Personal data lives in a few columns only (visitor name, company, contact, photo,
signature) so that the purge can anonymise it while the counts stay.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from peewee import (
    BlobField,
    BooleanField,
    CharField,
    Database,
    DatabaseProxy,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from kiosk.dbkit.fields import UtcTimestampField

_bound_database: ContextVar[Database | None] = ContextVar("kiosk_database", default=None)


class SwitchableDatabaseProxy(DatabaseProxy):
    """The models' database: the one `initialize()` set, unless code running in a context
    has bound another with `bound()`.

    A kiosk in production is one process with one database, and never binds. Tests and
    benchmarks that run several kiosks in one process (each with its own file, as separate
    machines have) bind each kiosk's database around its work, thread by thread."""

    __slots__ = ("_default",)

    def __setattr__(self, attr: str, value: Any) -> None:
        object.__setattr__(self, attr, value)

    @property
    def obj(self) -> Any:
        return _bound_database.get() or self._default

    @obj.setter
    def obj(self, value: Any) -> None:
        self._default = value

    @contextmanager
    def bound(self, db: Database) -> Iterator[None]:
        token = _bound_database.set(db)
        try:
            yield
        finally:
            _bound_database.reset(token)


database = SwitchableDatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Host(BaseModel):
    ref = CharField(unique=True)
    name = CharField()
    search_key = TextField()  # names.search_key(name, department): name, pinyin, initials
    department = CharField(default="")
    email = CharField(default="")
    phone = CharField(default="")
    channels = TextField(default="[]")  # JSON list of apprise URLs
    availability = CharField(default="in")  # values.HostAvailability
    delegate = ForeignKeyField("self", null=True, backref="delegators", on_delete="SET NULL")
    is_senior = BooleanField(default=False)  # walk-ins are asked for approval via the delegate
    walk_in_needs_approval = BooleanField(default=False)
    active = BooleanField(default=True)
    updated_at = UtcTimestampField()


class Visitor(BaseModel):
    name = CharField()
    company = CharField(default="")
    phone = CharField(default="")
    email = CharField(default="")
    document_hash = CharField(null=True, index=True)  # salted HMAC, never the number
    document_last4 = CharField(default="")
    created_at = UtcTimestampField()
    anonymised_at = UtcTimestampField(null=True)


class Appointment(BaseModel):
    ref = CharField(unique=True)
    host = ForeignKeyField(Host, backref="appointments", on_delete="RESTRICT")
    visitor_name = CharField()
    exact_key = CharField()  # names.exact_key(visitor_name)
    latin_key = CharField()  # names.latin_key(visitor_name)
    company = CharField(default="")
    email = CharField(default="")
    phone = CharField(default="")
    document_hash = CharField(null=True, index=True)
    starts_at = UtcTimestampField()
    ends_at = UtcTimestampField()
    purpose = CharField(default="visit_person")
    level = CharField(default="ordinary")
    visitor_type = CharField(default="visitor")
    invitation_token_id = CharField(null=True, index=True)
    cancelled_at = UtcTimestampField(null=True)
    source = CharField(default="local")  # local | import | office
    # Booked from a file: who it is there and what the file said (kiosk.domain.import_identity),
    # so that importing the file again changes it instead of booking it twice.
    import_key = CharField(default="")
    import_digest = CharField(default="")
    updated_at = UtcTimestampField()

    class Meta:
        # Matching looks a name up within one day: the key first, then the day's range.
        indexes = (
            (("exact_key", "starts_at"), False),
            (("latin_key", "starts_at"), False),
            (("starts_at",), False),
            (("import_key",), False),
        )


class Visit(BaseModel):
    ref = CharField(unique=True)
    appointment = ForeignKeyField(
        Appointment, null=True, unique=True, backref="visits", on_delete="SET NULL"
    )
    visitor = ForeignKeyField(Visitor, null=True, backref="visits", on_delete="SET NULL")
    host = ForeignKeyField(Host, null=True, backref="visits", on_delete="SET NULL")
    state = CharField(index=True)
    method = CharField(default="")  # values.CheckInMethod, set at check-in
    purpose = CharField(default="visit_person")
    sales_class = CharField(default="")
    level = CharField(default="ordinary")
    visitor_type = CharField(default="visitor")
    company = CharField(default="")
    companions = IntegerField(default=0)
    companion_names = TextField(default="")
    items_declared = TextField(default="")
    escort_required = BooleanField(default=False)
    needs_approval = BooleanField(default=False)
    host_absent = BooleanField(default=False)
    after_hours = BooleanField(default=False)
    denied_reason = CharField(default="")
    notified_party = CharField(default="")  # host | delegate | reception
    arrived_at = UtcTimestampField(null=True, index=True)
    host_notified_at = UtcTimestampField(null=True)
    host_acknowledged_at = UtcTimestampField(null=True)
    left_at = UtcTimestampField(null=True)
    auto_checked_out = BooleanField(default=False)
    satisfaction = IntegerField(null=True)
    feedback = TextField(default="")
    kiosk_id = CharField(default="")
    created_at = UtcTimestampField()
    updated_at = UtcTimestampField()

    @property
    def response_seconds(self) -> float | None:
        """Arrival to the host's acknowledgement: the procedures' 1-minute figure."""
        if self.arrived_at and self.host_acknowledged_at:
            return (self.host_acknowledged_at - self.arrived_at).total_seconds()
        return None


class VisitPhoto(BaseModel):
    visit = ForeignKeyField(Visit, unique=True, backref="photos", on_delete="CASCADE")
    jpeg = BlobField()
    taken_at = UtcTimestampField()


class Badge(BaseModel):
    visit = ForeignKeyField(Visit, backref="badges", on_delete="CASCADE")
    token_id = CharField(unique=True)
    token = TextField()
    key_id = CharField()
    issued_at = UtcTimestampField()
    expires_at = UtcTimestampField()


class AgreementSignature(BaseModel):
    visit = ForeignKeyField(Visit, backref="signatures", on_delete="CASCADE")
    agreement = CharField()
    version = CharField()
    document_sha256 = CharField()  # of the exact text shown, in the language shown
    language = CharField()
    signer_name = CharField()
    signature_png = BlobField(null=True)
    signed_at = UtcTimestampField()


class HostMessage(BaseModel):
    ref = CharField(unique=True)
    host = ForeignKeyField(Host, backref="messages", on_delete="CASCADE")
    visit = ForeignKeyField(Visit, null=True, backref="messages", on_delete="SET NULL")
    visitor_name = CharField()
    contact = CharField()
    purpose = CharField()
    message = TextField(default="")
    left_at = UtcTimestampField()
    delivered_at = UtcTimestampField(null=True)


class WatchlistEntry(BaseModel):
    ref = CharField(unique=True)
    name = CharField()
    exact_key = CharField(index=True)
    latin_key = CharField(index=True)
    document_hash = CharField(null=True, index=True)
    reason = TextField(default="")
    active = BooleanField(default=True)
    added_at = UtcTimestampField()


class OutboxEvent(BaseModel):
    """Events waiting to reach the office, in commit order (the integer id)."""

    event_id = CharField(unique=True)
    kind = CharField(index=True)
    subject_ref = CharField(default="")
    payload = TextField()  # JSON
    occurred_at = UtcTimestampField()
    sent_at = UtcTimestampField(null=True, index=True)
    rejected_at = UtcTimestampField(null=True)  # the office refused it, saying why
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    # The events are hash-chained in id order (kiosk.storage.journal): the office checks the
    # chain, so an event altered or removed on the way or at the office is noticed.
    prev_hash = CharField(default="")
    event_hash = CharField(default="")

    class Meta:
        indexes = ((("sent_at", "rejected_at", "id"), False),)


class AuditEntry(BaseModel):
    """Append-only and hash-chained; triggers refuse UPDATE and DELETE."""

    at = UtcTimestampField()
    actor = CharField()
    action = CharField()
    subject = CharField(default="")
    details = TextField(default="{}")  # JSON of refs and states, never personal data
    prev_hash = CharField()
    entry_hash = CharField(unique=True)


class UsedInvitation(BaseModel):
    token_id = CharField(primary_key=True)
    used_at = UtcTimestampField()
    visit = ForeignKeyField(Visit, null=True, on_delete="SET NULL")
    kiosk_id = CharField(default="")


class RevokedToken(BaseModel):
    token_id = CharField(primary_key=True)
    kind = CharField()
    reason = CharField(default="")
    revoked_at = UtcTimestampField()


class TrustedKey(BaseModel):
    key_id = CharField()
    kind = CharField()  # invitation | badge
    public_key = CharField()  # raw Ed25519, hex
    owner = CharField(default="")  # "site" or a kiosk id
    added_at = UtcTimestampField()
    revoked_at = UtcTimestampField(null=True)

    class Meta:
        indexes = ((("kind", "key_id"), True),)


class KioskState(BaseModel):
    key = CharField(primary_key=True)
    value = TextField()


ALL_MODELS: list[type[BaseModel]] = [
    Host,
    Visitor,
    Appointment,
    Visit,
    VisitPhoto,
    Badge,
    AgreementSignature,
    HostMessage,
    WatchlistEntry,
    OutboxEvent,
    AuditEntry,
    UsedInvitation,
    RevokedToken,
    TrustedKey,
    KioskState,
]
