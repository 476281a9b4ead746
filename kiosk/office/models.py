"""The office's tables. Times are UTC epoch milliseconds, as on the kiosk.

`ChangeLog` is the distribution feed: every change a kiosk must learn about (a host, an
appointment, a watchlist entry, a revocation, a key, a visit seen at another kiosk) is
appended with the entity's full state. A kiosk pulls the rows of its site after its cursor.
"""

from __future__ import annotations

from typing import Any

from peewee import (
    SQL,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseProxy,
    ForeignKeyField,
    IntegerField,
    Model,
    NodeList,
    SqliteDatabase,
    TextField,
    fn,
)

from kiosk.dbkit.fields import UtcTimestampField

office_database = DatabaseProxy()


class FeedIdField(BigAutoField):
    """An id never given twice, even after the newest row is deleted: the change feed's
    cursors depend on it. PostgreSQL's sequences promise that already; SQLite reuses the
    highest rowid unless the key is declared AUTOINCREMENT."""

    def ddl(self, ctx: Any) -> Any:
        node = super().ddl(ctx)
        if isinstance(office_database.obj, SqliteDatabase):
            return NodeList((node, SQL("AUTOINCREMENT")))
        return node


class OfficeModel(Model):
    class Meta:
        database = office_database
        legacy_table_names = False


class Site(OfficeModel):
    name = CharField(unique=True)
    created_at = UtcTimestampField()


class EnrolmentCode(OfficeModel):
    code_hash = CharField(unique=True)  # SHA-256 of the code: the code itself is never stored
    # The key both ends derive from the code (kiosk.sync.wire.enrolment_key) and the id a
    # kiosk names the code by: enrolment proves the code without sending it.
    code_id = CharField(null=True, unique=True)
    proof_key = CharField(default="")
    site = ForeignKeyField(Site, on_delete="CASCADE")
    created_at = UtcTimestampField()
    expires_at = UtcTimestampField()
    used_at = UtcTimestampField(null=True)
    used_by = CharField(default="")


class OfficeKey(OfficeModel):
    """A key the office signs its answers to kiosks with (kiosk.sync.wire); kiosks pin the
    public half at enrolment. Retired keys sign nothing more."""

    public_key = CharField(unique=True)  # raw Ed25519, hex
    private_key_pem = TextField()
    created_at = UtcTimestampField()
    retired_at = UtcTimestampField(null=True)


class Kiosk(OfficeModel):
    kiosk_id = CharField(unique=True)
    site = ForeignKeyField(Site, backref="kiosks", on_delete="CASCADE")
    name = CharField(default="")
    # Requests are signed with the kiosk's own Ed25519 key: the office keeps only public keys,
    # so a copy of its database lets nobody speak for a kiosk.
    auth_public_key = CharField()
    badge_public_key = CharField()
    enrolled_at = UtcTimestampField()
    revoked_at = UtcTimestampField(null=True)
    last_seen_at = UtcTimestampField(null=True)
    clock_skew_ms = BigIntegerField(default=0)
    last_seq = BigIntegerField(default=0)


class RequestNonce(OfficeModel):
    """Nonces of recent signed requests: a replayed request is refused."""

    kiosk = ForeignKeyField(Kiosk, on_delete="CASCADE")
    nonce = CharField()
    seen_at = UtcTimestampField(index=True)

    class Meta:
        indexes = ((("kiosk", "nonce"), True),)


class Event(OfficeModel):
    id = BigAutoField()
    event_id = CharField(unique=True)
    kiosk = ForeignKeyField(Kiosk, backref="events", on_delete="CASCADE")
    seq = BigIntegerField()
    kind = CharField(index=True)
    subject_ref = CharField(default="", index=True)
    payload = TextField()
    occurred_at = UtcTimestampField(index=True)
    received_at = UtcTimestampField()
    # The kiosk's hash chain (kiosk.storage.journal), verified per kiosk in seq order. The
    # payload's digest is taken at ingest and kept when the purge anonymises the payload.
    prev_hash = CharField(default="")
    event_hash = CharField(default="")
    payload_digest = CharField(default="")
    anonymised_at = UtcTimestampField(null=True)

    class Meta:
        indexes = ((("kiosk", "seq"), False),)


class ChangeLog(OfficeModel):
    """The feed keeps only the latest row of each entity (older ones are deleted when a new
    one is written), so a new kiosk pulls the current state of the site, not its history;
    ids only grow, so a kiosk's cursor never skips a change it has not seen."""

    id = FeedIdField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    entity = CharField()
    ref = CharField()
    data = TextField()  # JSON: the entity's whole state after the change

    class Meta:
        indexes = (
            (("site", "id"), False),
            (("site", "entity", "ref"), False),
        )


class OfficeHost(OfficeModel):
    ref = CharField(unique=True)
    site = ForeignKeyField(Site, on_delete="CASCADE")
    name = CharField()
    department = CharField(default="")
    email = CharField(default="")
    phone = CharField(default="")
    channels = TextField(default="[]")
    availability = CharField(default="in")
    delegate_ref = CharField(default="")
    is_senior = BooleanField(default=False)
    walk_in_needs_approval = BooleanField(default=False)
    active = BooleanField(default=True)
    updated_at = UtcTimestampField()


class OfficeAppointment(OfficeModel):
    ref = CharField(unique=True)
    site = ForeignKeyField(Site, on_delete="CASCADE")
    visit_ref = CharField(unique=True)
    host_ref = CharField()
    visitor_name = CharField()
    company = CharField(default="")
    email = CharField(default="")
    phone = CharField(default="")
    starts_at = UtcTimestampField(index=True)
    ends_at = UtcTimestampField()
    purpose = CharField(default="visit_person")
    level = CharField(default="ordinary")
    visitor_type = CharField(default="visitor")
    invitation_token_id = CharField(default="")
    cancelled_at = UtcTimestampField(null=True)
    updated_at = UtcTimestampField()
    # When the booked visit arrived, copied from it (kiosk.office.appointment_arrivals): the
    # reports count no-shows from this table alone.
    visit_arrived_at = UtcTimestampField(null=True)
    # The SEQUENCE of the visit's entry in the visitor's calendar (the .ics of the mails
    # kiosk.office.invitations sends, whose UID is the ref): raised whenever the visit
    # changes or is cancelled, so that the newest mail replaces the entry the older made.
    calendar_sequence = IntegerField(default=0)
    # A visit imported from an iCalendar event (kiosk.office.bookings): which event it came
    # from (the SHA-256 of its UID and RECURRENCE-ID, so that importing the file again
    # finds it), that event's SEQUENCE, and a digest of what the event said about this
    # visitor (blanked with the visitor's details by the purge). Empty for other visits.
    import_key = CharField(default="")
    import_sequence = IntegerField(default=0)
    import_digest = CharField(default="")

    class Meta:
        indexes = ((("site", "import_key"), False),)


class OfficeWatchlistEntry(OfficeModel):
    ref = CharField(unique=True)
    site = ForeignKeyField(Site, on_delete="CASCADE")
    name = CharField()
    document_hash = CharField(null=True)
    reason = TextField(default="")
    active = BooleanField(default=True)
    updated_at = UtcTimestampField()


class UsedInvitation(OfficeModel):
    """An invitation used at a kiosk of its site. Once per site: another site's kiosk that
    names the same token id burns nothing here."""

    token_id = CharField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    kiosk = ForeignKeyField(Kiosk, on_delete="CASCADE")
    visit_ref = CharField(default="")
    used_at = UtcTimestampField()

    class Meta:
        indexes = ((("site", "token_id"), True),)


class SiteKey(OfficeModel):
    site = ForeignKeyField(Site, on_delete="CASCADE")
    kind = CharField()  # invitation
    key_id = CharField()
    public_key = CharField()
    private_key_pem = TextField()  # only here, never sent to a kiosk
    created_at = UtcTimestampField()


class OfficeVisit(OfficeModel):
    """What the office knows of each visit, from the events kiosks sent."""

    ref = CharField(unique=True)
    site = ForeignKeyField(Site, on_delete="CASCADE")
    kiosk = ForeignKeyField(Kiosk, on_delete="CASCADE")
    state = CharField(index=True)
    visitor_name = CharField(default="")
    company = CharField(default="")
    host_ref = CharField(default="")
    appointment_ref = CharField(default="")
    method = CharField(default="")
    purpose = CharField(default="")
    level = CharField(default="")
    visitor_type = CharField(default="")
    escort_required = BooleanField(default=False)
    arrived_at = UtcTimestampField(null=True, index=True)
    host_notified_at = UtcTimestampField(null=True)
    host_acknowledged_at = UtcTimestampField(null=True)
    left_at = UtcTimestampField(null=True)
    satisfaction = IntegerField(null=True)
    auto_checked_out = BooleanField(default=False)
    updated_at = UtcTimestampField()
    # Exact, romanised (pinyin) and initials keys of the visitor's name, for the visit log's
    # search (kiosk.office.reporting.visit_name_key); blanked with the name by the purge.
    name_key = TextField(default="")
    anonymised_at = UtcTimestampField(null=True)

    class Meta:
        indexes = (
            (("site", "state"), False),
            (("site", "arrived_at"), False),
        )


# The visit log's order (newest first, keyset-paginated): arrival, or the last change for a
# visit that never arrived.
OfficeVisit.add_index(
    OfficeVisit.index(
        OfficeVisit.site,
        fn.COALESCE(OfficeVisit.arrived_at, OfficeVisit.updated_at),
        OfficeVisit.id,
        name="office_visit_site_log_at_id",
    )
)


# ---------------------------------------------------------------- the office web's people


class StaffUser(OfficeModel):
    """Someone who signs in to the office web. `role` is admin, reception, security or host;
    a host user sees only their own visits (`host_ref`)."""

    site = ForeignKeyField(Site, on_delete="CASCADE")
    username = CharField(unique=True)
    display_name = CharField(default="")
    password_hash = CharField()  # Argon2id: the password itself is never stored
    role = CharField()
    host_ref = CharField(default="")
    language = CharField(default="en")
    active = BooleanField(default=True)
    failed_logins = IntegerField(default=0)
    locked_until = UtcTimestampField(null=True)
    created_at = UtcTimestampField()
    last_login_at = UtcTimestampField(null=True)


class SignInThrottle(OfficeModel):
    """Failed sign-ins counted by key (kiosk.office.throttle): one account from one address,
    or one address across all accounts. A row is only a count and a lock time."""

    key = CharField(unique=True)
    failures = IntegerField(default=0)
    locked_until = UtcTimestampField(null=True)
    updated_at = UtcTimestampField()


class StaffSession(OfficeModel):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is kept, so a
    copy of the database opens no session. Each session has its own CSRF token."""

    token_hash = CharField(unique=True)
    user = ForeignKeyField(StaffUser, on_delete="CASCADE")
    csrf_token = CharField()
    created_at = UtcTimestampField()
    expires_at = UtcTimestampField(index=True)


class AuditEntry(OfficeModel):
    """Who changed what at the office (watchlist, hosts, appointments, users, settings)."""

    id = BigAutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    at = UtcTimestampField(index=True)
    actor = CharField()  # a username, or "cli" / "system"
    action = CharField()  # e.g. watchlist.add, host.update
    entity = CharField(default="")
    ref = CharField(default="")
    detail = TextField(default="{}")  # JSON: the fields changed, before and after


class SiteSettingsRow(OfficeModel):
    """A site's settings (kiosk.office.settings.SiteSettings) as JSON, one row per site."""

    site = ForeignKeyField(Site, unique=True, on_delete="CASCADE")
    data = TextField(default="{}")
    updated_at = UtcTimestampField()


# ---------------------------------------------------------------- directory (office web)


class SiteSecret(OfficeModel):
    """A site's secret that is not a signing key. `document_salt` (hex) keys the HMAC of
    identity document numbers (kiosk.domain.identity): the office hashes watchlist entries
    with it and hands it to each kiosk of the site at enrolment, so one document number gives
    one hash at the office and at every kiosk of the site."""

    site = ForeignKeyField(Site, on_delete="CASCADE")
    kind = CharField()
    value = CharField()
    created_at = UtcTimestampField()

    class Meta:
        indexes = ((("site", "kind"), True),)


# ---------------------------------------------------------------- appointments (office web)


class AppointmentSeries(OfficeModel):
    """Recurring visits booked together. Each occurrence is an OfficeAppointment of its own,
    with its own invitation; SeriesMember links them, so the whole series can be cancelled."""

    ref = CharField(unique=True)
    site = ForeignKeyField(Site, on_delete="CASCADE")
    frequency = CharField()  # daily | weekly
    occurrences = IntegerField()
    created_by = CharField(default="")
    created_at = UtcTimestampField()
    cancelled_at = UtcTimestampField(null=True)


class SeriesMember(OfficeModel):
    series = ForeignKeyField(AppointmentSeries, backref="members", on_delete="CASCADE")
    appointment = ForeignKeyField(OfficeAppointment, unique=True, on_delete="CASCADE")


class VisitorMail(OfficeModel):
    """An e-mail to the visitor of one appointment and how sending it went (the table of
    each kind below; kiosk.office.invitations sends them all alike). The address is the
    appointment's own, read at sending time: nothing personal is copied here."""

    appointment = ForeignKeyField(OfficeAppointment, unique=True, on_delete="CASCADE")
    site = ForeignKeyField(Site, on_delete="CASCADE")
    # pending | sending | sent | failed (retried) | given_up | cancelled
    status = CharField(default="pending", index=True)
    attempts = IntegerField(default=0)
    requested_at = UtcTimestampField()
    next_attempt_at = UtcTimestampField(null=True, index=True)
    sent_at = UtcTimestampField(null=True)
    last_error = TextField(default="")


class InvitationMail(VisitorMail):
    """The invitation: the signed QR code, the time, the address, what to bring."""


class CancellationMail(VisitorMail):
    """The notice that the visit is cancelled, queued only when its invitation had gone out
    (or may have): the visitor's calendar entry is withdrawn by its .ics."""


# ---------------------------------------------------------------- links and forwarded notifications


class OfficeUsedLink(OfficeModel):
    """A kiosk's acknowledgement or approval link used at the office's link page: recorded
    so that it works once across the office, whichever process serves the page."""

    link_id = CharField(unique=True)
    site = ForeignKeyField(Site, on_delete="CASCADE")
    kiosk = ForeignKeyField(Kiosk, on_delete="CASCADE")
    action = CharField()
    visit_ref = CharField()
    party = CharField(default="")
    used_at = UtcTimestampField()


class ForwardedNotification(OfficeModel):
    """A message a kiosk could not deliver and handed to the office (event kind
    notification.forward), sent from here by kiosk.office.forwarding. Once per delivery
    and channel, however often the kiosk pushed it. The recipient URL is never stored: it
    is looked up by `channel_hash` in the host's channels or the site's lists at send
    time. The message is cleared once sent or given up (visitor data is kept minimal)."""

    id = BigAutoField()
    site = ForeignKeyField(Site, on_delete="CASCADE")
    kiosk = ForeignKeyField(Kiosk, on_delete="CASCADE")
    event_id = CharField()
    delivery_key = CharField()
    kind = CharField()
    audience = CharField()  # host:<ref> | reception | security | vip
    channel_hash = CharField()
    title = TextField(default="")
    body = TextField(default="")
    attachments = TextField(default="[]")  # JSON [{name, mimetype, content (base64)}]
    attempts = IntegerField(default=0)
    next_attempt_at = UtcTimestampField()
    claimed_at = UtcTimestampField(null=True)
    sent_at = UtcTimestampField(null=True)
    gave_up_at = UtcTimestampField(null=True)
    last_error = TextField(default="")
    created_at = UtcTimestampField()

    class Meta:
        indexes = (
            (("delivery_key", "channel_hash"), True),
            (("sent_at", "gave_up_at", "next_attempt_at"), False),
        )


OFFICE_MODELS: list[type[OfficeModel]] = [
    Site,
    EnrolmentCode,
    OfficeKey,
    Kiosk,
    RequestNonce,
    Event,
    ChangeLog,
    OfficeHost,
    OfficeAppointment,
    OfficeWatchlistEntry,
    UsedInvitation,
    SiteKey,
    OfficeVisit,
    StaffUser,
    StaffSession,
    SignInThrottle,
    AuditEntry,
    SiteSettingsRow,
    OfficeUsedLink,
    ForwardedNotification,
    SiteSecret,
    AppointmentSeries,
    SeriesMember,
    InvitationMail,
    CancellationMail,
]
