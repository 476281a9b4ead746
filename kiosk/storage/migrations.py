"""Versioned schema migrations, tracked in SQLite's `PRAGMA user_version`.

The database lives on a kiosk for years, so the schema is never created from the current
models: each version is a fixed script, applied in order inside one transaction. To change
the schema, append a new step (playhouse.migrate operations or SQL) and never edit an old one;
`tests/storage/test_migrations.py` checks that the migrated schema matches the models.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from peewee import Database

# Version 1: the schema as first released, generated once from the models, then frozen.
_V1_TABLES = """
CREATE TABLE "host" ("id" INTEGER NOT NULL PRIMARY KEY, "ref" VARCHAR(255) NOT NULL, "name" VARCHAR(255) NOT NULL, "search_key" TEXT NOT NULL, "department" VARCHAR(255) NOT NULL, "email" VARCHAR(255) NOT NULL, "phone" VARCHAR(255) NOT NULL, "channels" TEXT NOT NULL, "availability" VARCHAR(255) NOT NULL, "delegate_id" INTEGER, "is_senior" INTEGER NOT NULL, "walk_in_needs_approval" INTEGER NOT NULL, "active" INTEGER NOT NULL, "updated_at" INTEGER NOT NULL, FOREIGN KEY ("delegate_id") REFERENCES "host" ("id") ON DELETE SET NULL);
CREATE UNIQUE INDEX "host_ref" ON "host" ("ref");
CREATE INDEX "host_delegate_id" ON "host" ("delegate_id");
CREATE TABLE "visitor" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "company" VARCHAR(255) NOT NULL, "phone" VARCHAR(255) NOT NULL, "email" VARCHAR(255) NOT NULL, "document_hash" VARCHAR(255), "document_last4" VARCHAR(255) NOT NULL, "created_at" INTEGER NOT NULL, "anonymised_at" INTEGER);
CREATE INDEX "visitor_document_hash" ON "visitor" ("document_hash");
CREATE TABLE "appointment" ("id" INTEGER NOT NULL PRIMARY KEY, "ref" VARCHAR(255) NOT NULL, "host_id" INTEGER NOT NULL, "visitor_name" VARCHAR(255) NOT NULL, "exact_key" VARCHAR(255) NOT NULL, "latin_key" VARCHAR(255) NOT NULL, "company" VARCHAR(255) NOT NULL, "email" VARCHAR(255) NOT NULL, "phone" VARCHAR(255) NOT NULL, "document_hash" VARCHAR(255), "starts_at" INTEGER NOT NULL, "ends_at" INTEGER NOT NULL, "purpose" VARCHAR(255) NOT NULL, "level" VARCHAR(255) NOT NULL, "visitor_type" VARCHAR(255) NOT NULL, "invitation_token_id" VARCHAR(255), "cancelled_at" INTEGER, "source" VARCHAR(255) NOT NULL, "updated_at" INTEGER NOT NULL, FOREIGN KEY ("host_id") REFERENCES "host" ("id") ON DELETE RESTRICT);
CREATE UNIQUE INDEX "appointment_ref" ON "appointment" ("ref");
CREATE INDEX "appointment_host_id" ON "appointment" ("host_id");
CREATE INDEX "appointment_document_hash" ON "appointment" ("document_hash");
CREATE INDEX "appointment_invitation_token_id" ON "appointment" ("invitation_token_id");
CREATE INDEX "appointment_exact_key_starts_at" ON "appointment" ("exact_key", "starts_at");
CREATE INDEX "appointment_latin_key_starts_at" ON "appointment" ("latin_key", "starts_at");
CREATE INDEX "appointment_starts_at" ON "appointment" ("starts_at");
CREATE TABLE "visit" ("id" INTEGER NOT NULL PRIMARY KEY, "ref" VARCHAR(255) NOT NULL, "appointment_id" INTEGER, "visitor_id" INTEGER, "host_id" INTEGER, "state" VARCHAR(255) NOT NULL, "method" VARCHAR(255) NOT NULL, "purpose" VARCHAR(255) NOT NULL, "sales_class" VARCHAR(255) NOT NULL, "level" VARCHAR(255) NOT NULL, "visitor_type" VARCHAR(255) NOT NULL, "company" VARCHAR(255) NOT NULL, "companions" INTEGER NOT NULL, "companion_names" TEXT NOT NULL, "items_declared" TEXT NOT NULL, "escort_required" INTEGER NOT NULL, "needs_approval" INTEGER NOT NULL, "host_absent" INTEGER NOT NULL, "after_hours" INTEGER NOT NULL, "denied_reason" VARCHAR(255) NOT NULL, "notified_party" VARCHAR(255) NOT NULL, "arrived_at" INTEGER, "host_notified_at" INTEGER, "host_acknowledged_at" INTEGER, "left_at" INTEGER, "auto_checked_out" INTEGER NOT NULL, "satisfaction" INTEGER, "feedback" TEXT NOT NULL, "kiosk_id" VARCHAR(255) NOT NULL, "created_at" INTEGER NOT NULL, "updated_at" INTEGER NOT NULL, FOREIGN KEY ("appointment_id") REFERENCES "appointment" ("id") ON DELETE SET NULL, FOREIGN KEY ("visitor_id") REFERENCES "visitor" ("id") ON DELETE SET NULL, FOREIGN KEY ("host_id") REFERENCES "host" ("id") ON DELETE SET NULL);
CREATE UNIQUE INDEX "visit_ref" ON "visit" ("ref");
CREATE UNIQUE INDEX "visit_appointment_id" ON "visit" ("appointment_id");
CREATE INDEX "visit_visitor_id" ON "visit" ("visitor_id");
CREATE INDEX "visit_host_id" ON "visit" ("host_id");
CREATE INDEX "visit_state" ON "visit" ("state");
CREATE INDEX "visit_arrived_at" ON "visit" ("arrived_at");
CREATE TABLE "visit_photo" ("id" INTEGER NOT NULL PRIMARY KEY, "visit_id" INTEGER NOT NULL, "jpeg" BLOB NOT NULL, "taken_at" INTEGER NOT NULL, FOREIGN KEY ("visit_id") REFERENCES "visit" ("id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "visit_photo_visit_id" ON "visit_photo" ("visit_id");
CREATE TABLE "badge" ("id" INTEGER NOT NULL PRIMARY KEY, "visit_id" INTEGER NOT NULL, "token_id" VARCHAR(255) NOT NULL, "token" TEXT NOT NULL, "key_id" VARCHAR(255) NOT NULL, "issued_at" INTEGER NOT NULL, "expires_at" INTEGER NOT NULL, FOREIGN KEY ("visit_id") REFERENCES "visit" ("id") ON DELETE CASCADE);
CREATE INDEX "badge_visit_id" ON "badge" ("visit_id");
CREATE UNIQUE INDEX "badge_token_id" ON "badge" ("token_id");
CREATE TABLE "agreement_signature" ("id" INTEGER NOT NULL PRIMARY KEY, "visit_id" INTEGER NOT NULL, "agreement" VARCHAR(255) NOT NULL, "version" VARCHAR(255) NOT NULL, "document_sha256" VARCHAR(255) NOT NULL, "language" VARCHAR(255) NOT NULL, "signer_name" VARCHAR(255) NOT NULL, "signature_png" BLOB, "signed_at" INTEGER NOT NULL, FOREIGN KEY ("visit_id") REFERENCES "visit" ("id") ON DELETE CASCADE);
CREATE INDEX "agreement_signature_visit_id" ON "agreement_signature" ("visit_id");
CREATE TABLE "host_message" ("id" INTEGER NOT NULL PRIMARY KEY, "ref" VARCHAR(255) NOT NULL, "host_id" INTEGER NOT NULL, "visit_id" INTEGER, "visitor_name" VARCHAR(255) NOT NULL, "contact" VARCHAR(255) NOT NULL, "purpose" VARCHAR(255) NOT NULL, "message" TEXT NOT NULL, "left_at" INTEGER NOT NULL, "delivered_at" INTEGER, FOREIGN KEY ("host_id") REFERENCES "host" ("id") ON DELETE CASCADE, FOREIGN KEY ("visit_id") REFERENCES "visit" ("id") ON DELETE SET NULL);
CREATE UNIQUE INDEX "host_message_ref" ON "host_message" ("ref");
CREATE INDEX "host_message_host_id" ON "host_message" ("host_id");
CREATE INDEX "host_message_visit_id" ON "host_message" ("visit_id");
CREATE TABLE "watchlist_entry" ("id" INTEGER NOT NULL PRIMARY KEY, "ref" VARCHAR(255) NOT NULL, "name" VARCHAR(255) NOT NULL, "exact_key" VARCHAR(255) NOT NULL, "latin_key" VARCHAR(255) NOT NULL, "document_hash" VARCHAR(255), "reason" TEXT NOT NULL, "active" INTEGER NOT NULL, "added_at" INTEGER NOT NULL);
CREATE UNIQUE INDEX "watchlist_entry_ref" ON "watchlist_entry" ("ref");
CREATE INDEX "watchlist_entry_exact_key" ON "watchlist_entry" ("exact_key");
CREATE INDEX "watchlist_entry_latin_key" ON "watchlist_entry" ("latin_key");
CREATE INDEX "watchlist_entry_document_hash" ON "watchlist_entry" ("document_hash");
CREATE TABLE "outbox_event" ("id" INTEGER NOT NULL PRIMARY KEY, "event_id" VARCHAR(255) NOT NULL, "kind" VARCHAR(255) NOT NULL, "subject_ref" VARCHAR(255) NOT NULL, "payload" TEXT NOT NULL, "occurred_at" INTEGER NOT NULL, "sent_at" INTEGER, "attempts" INTEGER NOT NULL, "last_error" TEXT NOT NULL);
CREATE UNIQUE INDEX "outbox_event_event_id" ON "outbox_event" ("event_id");
CREATE INDEX "outbox_event_kind" ON "outbox_event" ("kind");
CREATE INDEX "outbox_event_sent_at" ON "outbox_event" ("sent_at");
CREATE TABLE "audit_entry" ("id" INTEGER NOT NULL PRIMARY KEY, "at" INTEGER NOT NULL, "actor" VARCHAR(255) NOT NULL, "action" VARCHAR(255) NOT NULL, "subject" VARCHAR(255) NOT NULL, "details" TEXT NOT NULL, "prev_hash" VARCHAR(255) NOT NULL, "entry_hash" VARCHAR(255) NOT NULL);
CREATE UNIQUE INDEX "audit_entry_entry_hash" ON "audit_entry" ("entry_hash");
CREATE TABLE "used_invitation" ("token_id" VARCHAR(255) NOT NULL PRIMARY KEY, "used_at" INTEGER NOT NULL, "visit_id" INTEGER, "kiosk_id" VARCHAR(255) NOT NULL, FOREIGN KEY ("visit_id") REFERENCES "visit" ("id") ON DELETE SET NULL);
CREATE INDEX "used_invitation_visit_id" ON "used_invitation" ("visit_id");
CREATE TABLE "revoked_token" ("token_id" VARCHAR(255) NOT NULL PRIMARY KEY, "kind" VARCHAR(255) NOT NULL, "reason" VARCHAR(255) NOT NULL, "revoked_at" INTEGER NOT NULL);
CREATE TABLE "trusted_key" ("id" INTEGER NOT NULL PRIMARY KEY, "key_id" VARCHAR(255) NOT NULL, "kind" VARCHAR(255) NOT NULL, "public_key" VARCHAR(255) NOT NULL, "owner" VARCHAR(255) NOT NULL, "added_at" INTEGER NOT NULL, "revoked_at" INTEGER);
CREATE UNIQUE INDEX "trusted_key_kind_key_id" ON "trusted_key" ("kind", "key_id");
CREATE TABLE "kiosk_state" ("key" VARCHAR(255) NOT NULL PRIMARY KEY, "value" TEXT NOT NULL);
"""

# The audit log is append-only: SQLite itself refuses to change or remove an entry.
_V1_AUDIT_GUARDS = """
CREATE TRIGGER "audit_entry_no_update" BEFORE UPDATE ON "audit_entry"
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
CREATE TRIGGER "audit_entry_no_delete" BEFORE DELETE ON "audit_entry"
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
"""


def _run_script(database: Database, script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            database.execute_sql(statement.strip())


def _v1(database: Database) -> None:
    _run_script(database, _V1_TABLES)
    # Triggers contain ';' inside BEGIN...END, so they go one by one.
    for trigger in _V1_AUDIT_GUARDS.strip().split("END;"):
        if trigger.strip():
            database.execute_sql(trigger.strip() + " END;")


def _v2(database: Database) -> None:
    """Sync: an event the office refused (by name, with its reason) is kept, not retried."""
    database.execute_sql('ALTER TABLE "outbox_event" ADD COLUMN "rejected_at" INTEGER')
    database.execute_sql(
        'CREATE INDEX "outbox_event_sent_at_rejected_at_id" '
        'ON "outbox_event" ("sent_at", "rejected_at", "id")'
    )


# Version 3: notifications (kiosk.notify.models): what was planned, each delivery per
# recipient, and the links already used.
_V3_NOTIFICATIONS = """
CREATE TABLE IF NOT EXISTS "notification_event" ("key" VARCHAR(255) NOT NULL PRIMARY KEY, "kind" VARCHAR(255) NOT NULL, "planned_at" INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS "notification_delivery" ("id" INTEGER NOT NULL PRIMARY KEY, "key" VARCHAR(255) NOT NULL, "kind" VARCHAR(255) NOT NULL, "subject_ref" VARCHAR(255) NOT NULL, "payload" TEXT NOT NULL, "audience" VARCHAR(255) NOT NULL, "channel_hash" VARCHAR(255) NOT NULL, "attempts" INTEGER NOT NULL, "next_attempt_at" INTEGER NOT NULL, "claimed_at" INTEGER, "sent_at" INTEGER, "gave_up_at" INTEGER, "last_error" TEXT NOT NULL, "created_at" INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS "notification_delivery_key_channel_hash" ON "notification_delivery" ("key", "channel_hash");
CREATE INDEX IF NOT EXISTS "notification_delivery_sent_at_gave_up_at_next_attempt_at" ON "notification_delivery" ("sent_at", "gave_up_at", "next_attempt_at");
CREATE TABLE IF NOT EXISTS "notification_used_link" ("link_id" VARCHAR(255) NOT NULL PRIMARY KEY, "action" VARCHAR(255) NOT NULL, "visit_ref" VARCHAR(255) NOT NULL, "used_at" INTEGER NOT NULL);
"""


def _v3(database: Database) -> None:
    _run_script(database, _V3_NOTIFICATIONS)


def _v4(database: Database) -> None:
    """The outbox is hash-chained (kiosk.storage.journal): the events already queued get
    their links here, in seq (id) order, and the chain's head is recorded. The digest is of
    the payload's canonical text, which is what the office computes from what it receives."""
    from kiosk.domain.event_chain import GENESIS, canonical_json, event_chain_hash, payload_digest
    from kiosk.storage.journal import CHAIN_HEAD

    for column in ("prev_hash", "event_hash"):
        database.execute_sql(
            f'ALTER TABLE "outbox_event" ADD COLUMN "{column}" VARCHAR(255) NOT NULL DEFAULT \'\''
        )
    prev_hash, seq = GENESIS, 0
    rows = database.execute_sql(
        'SELECT "id", "event_id", "kind", "occurred_at", "payload" FROM "outbox_event" ORDER BY "id"'
    ).fetchall()
    for seq, event_id, kind, occurred_at, payload in rows:
        link = event_chain_hash(
            prev_hash,
            seq,
            event_id,
            kind,
            occurred_at,
            payload_digest(canonical_json(json.loads(payload))),
        )
        database.execute_sql(
            'UPDATE "outbox_event" SET "prev_hash" = ?, "event_hash" = ? WHERE "id" = ?',
            (prev_hash, link, seq),
        )
        prev_hash = link
    if rows:
        database.execute_sql(
            'INSERT OR REPLACE INTO "kiosk_state" ("key", "value") VALUES (?, ?)',
            (CHAIN_HEAD, f"{seq} {prev_hash}"),
        )


# Version 5: deliveries the kiosk handed to the office (kiosk.notify.models.NotificationForward).
# Until this version the notifier created the table on the side; `IF NOT EXISTS` keeps a
# database that already has it from that time.
_V5_NOTIFICATION_FORWARD = """
CREATE TABLE IF NOT EXISTS "notification_forward" ("delivery_id" INTEGER NOT NULL PRIMARY KEY, "event_id" VARCHAR(255) NOT NULL, "forwarded_at" INTEGER NOT NULL);
"""


def _v5(database: Database) -> None:
    _run_script(database, _V5_NOTIFICATION_FORWARD)


def _v6(database: Database) -> None:
    """Imported appointments remember their key in the file and what it said
    (kiosk.services.appointment_import), so a file imported twice books nothing twice."""
    for column in ("import_key", "import_digest"):
        database.execute_sql(
            f'ALTER TABLE "appointment" ADD COLUMN "{column}" VARCHAR(255) NOT NULL DEFAULT \'\''
        )
    database.execute_sql('CREATE INDEX "appointment_import_key" ON "appointment" ("import_key")')


# Version 7: cases reported at the kiosk (kiosk.services.cases.models, issue 19).
_V7_CASES = """
CREATE TABLE "kiosk_case" ("id" INTEGER NOT NULL PRIMARY KEY, "ref" VARCHAR(255) NOT NULL, "number" VARCHAR(255) NOT NULL, "submission_key" VARCHAR(255) NOT NULL, "kind" VARCHAR(255) NOT NULL, "urgency" VARCHAR(255) NOT NULL, "category" VARCHAR(255) NOT NULL, "building" VARCHAR(255) NOT NULL, "floor" VARCHAR(255) NOT NULL, "unit" VARCHAR(255) NOT NULL, "place_text" TEXT NOT NULL, "unit_known" INTEGER NOT NULL, "description" TEXT NOT NULL, "reporter_name" VARCHAR(255) NOT NULL, "reporter_unit" VARCHAR(255) NOT NULL, "reporter_phone" VARCHAR(255) NOT NULL, "language" VARCHAR(255) NOT NULL, "photo_jpeg" BLOB, "receipt_token" TEXT NOT NULL, "opened_at" INTEGER NOT NULL, "response_due_at" INTEGER NOT NULL, "purged_at" INTEGER);
CREATE UNIQUE INDEX "kiosk_case_ref" ON "kiosk_case" ("ref");
CREATE UNIQUE INDEX "kiosk_case_number" ON "kiosk_case" ("number");
CREATE UNIQUE INDEX "kiosk_case_submission_key" ON "kiosk_case" ("submission_key");
CREATE TABLE "case_status" ("case_ref" VARCHAR(255) NOT NULL PRIMARY KEY, "number" VARCHAR(255) NOT NULL, "kind" VARCHAR(255) NOT NULL, "state" VARCHAR(255) NOT NULL, "opened_at" INTEGER NOT NULL, "response_due_at" INTEGER NOT NULL, "resolved_at" INTEGER, "followup_due_at" INTEGER, "updated_at" INTEGER NOT NULL);
CREATE TABLE "case_follow_up" ("id" INTEGER NOT NULL PRIMARY KEY, "case_ref" VARCHAR(255) NOT NULL, "resolved_at" INTEGER NOT NULL, "outcome" VARCHAR(255) NOT NULL, "note" TEXT NOT NULL, "at" INTEGER NOT NULL);
CREATE UNIQUE INDEX "case_follow_up_case_ref_resolved_at" ON "case_follow_up" ("case_ref", "resolved_at");
"""


def _v7(database: Database) -> None:
    _run_script(database, _V7_CASES)


def _v8(database: Database) -> None:
    """Deliveries (issue 20): parcels and their collection signatures (kiosk.storage.parcels)."""
    from kiosk.storage.parcels import PARCEL_TABLES

    _run_script(database, PARCEL_TABLES)


def _v9(database: Database) -> None:
    """Growth (issue 21): partial indexes of what the nightly purge may still change."""
    from kiosk.storage.purge_indexes import PURGE_INDEXES

    _run_script(database, PURGE_INDEXES)


MIGRATIONS: list[tuple[int, Callable[[Database], None]]] = [
    (1, _v1),
    (2, _v2),
    (3, _v3),
    (4, _v4),
    (5, _v5),
    (6, _v6),
    (7, _v7),
    (8, _v8),
    (9, _v9),
]
LATEST_VERSION = MIGRATIONS[-1][0]


def schema_version(database: Database) -> int:
    return int(database.execute_sql("PRAGMA user_version").fetchone()[0])


def migrate(database: Database) -> list[int]:
    """Bring the schema to the latest version; return the versions applied."""
    applied = []
    current = schema_version(database)
    if current > LATEST_VERSION:
        raise RuntimeError(
            f"database schema version {current} is newer than this kiosk ({LATEST_VERSION}); upgrade the software"
        )
    for version, step in MIGRATIONS:
        if version <= current:
            continue
        with database.atomic():
            step(database)
            database.execute_sql(f"PRAGMA user_version = {version}")
        applied.append(version)
    return applied
