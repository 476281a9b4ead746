"""The office's retention purge: personal data past its period goes (visits, their events,
appointments, the change feed), the counts and the kiosks' chains stay, a second run
changes nothing; old audit entries, sessions and nonces go. And the office's column
migration, which gave the events their chain columns and the appointments theirs for
cancellation notices and iCalendar re-imports."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import SITE, KioskFactory, Office, WebOffice
from office_visits_support import FakeKiosk, in_shanghai
from peewee import PostgresqlDatabase, SqliteDatabase
from tests_support import MONDAY_10AM

from kiosk.cli import main
from kiosk.domain.clock import ManualClock
from kiosk.office import reporting
from kiosk.office.bookings import Bookings
from kiosk.office.models import (
    AuditEntry,
    ChangeLog,
    Event,
    OfficeAppointment,
    OfficeVisit,
    RequestNonce,
    StaffSession,
)
from kiosk.office.retention import anonymise_payload, purge
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore, open_office_database
from kiosk.services.checkin import Outcome, VisitorDetails, WalkIn

SHANGHAI = ZoneInfo("Asia/Shanghai")
LATER = MONDAY_10AM + timedelta(days=91)  # past the default 90 days of visitor details


def _old_and_new(web_office: WebOffice) -> tuple[str, str]:
    store = web_office.store
    in_shanghai(store, web_office.site)
    host = store.add_host(SITE, "Maria Schmidt", email="m@example.com", department="Legal")
    lobby = FakeKiosk(store, SITE, "lobby-1")
    start = MONDAY_10AM - timedelta(hours=2)
    old = lobby.visit(
        "张伟", company="华为", state="checked_out", arrived=start,
        acknowledged=start + timedelta(seconds=30), left=start + timedelta(hours=1),
        host=host.ref,
    )  # fmt: skip
    lobby.rate(old, 4, start + timedelta(hours=1), comment="Mr Zhang liked the tea")
    recent = lobby.visit(
        "Anna Recent", company="Volvo", state="checked_out", arrived=LATER - timedelta(days=2),
        left=LATER - timedelta(days=2) + timedelta(hours=1), host=host.ref,
    )  # fmt: skip
    store.add_appointment(
        SITE, visitor_name="Absent Person", host_ref=host.ref, email="a@example.com",
        phone="+86 138", company="ACME", starts_at=start, ends_at=start + timedelta(hours=1),
        import_key="e" * 64, import_digest="d" * 64,
    )  # fmt: skip
    lobby.send(
        "notification.message_left", "msg1",
        {"message": "msg1", "host": host.ref, "visit": old, "visitor": "张伟", "company": "华为",
         "contact": "+86 139", "purpose": "visit_person", "text": "call me"},
        start + timedelta(minutes=5),
    )  # fmt: skip
    return old, recent


def test_personal_data_goes_and_the_counts_stay(web_office: WebOffice) -> None:
    old, recent = _old_and_new(web_office)
    db = web_office.store.db
    with db.connection_context():
        before = [
            reporting.build_report(web_office.site, period, MONDAY_10AM.date(), SHANGHAI, LATER)
            for period in reporting.PERIODS
        ]
        events_before = Event.select().count()
    report = purge(db, LATER)
    assert report.visits_anonymised == 1 and report.appointments_anonymised == 1
    assert report.events_anonymised >= 3  # the check-out, the rating, the message
    with db.connection_context():
        gone = OfficeVisit.get(OfficeVisit.ref == old)
        assert (gone.visitor_name, gone.company, gone.name_key) == ("", "", "")
        assert gone.anonymised_at is not None and gone.satisfaction == 4
        kept = OfficeVisit.get(OfficeVisit.ref == recent)
        assert kept.visitor_name == "Anna Recent" and kept.anonymised_at is None
        appointment = OfficeAppointment.get()
        assert (
            appointment.visitor_name,
            appointment.email,
            appointment.phone,
            appointment.company,
            appointment.import_digest,
        ) == ("", "", "", "", "")
        assert appointment.import_key == "e" * 64  # which event it was is not personal
        assert Event.select().count() == events_before  # rows stay: counts and the chain
        payloads = " ".join(e.payload for e in Event.select())
        feed = " ".join(row.data for row in ChangeLog.select())
        for personal in (
            "张伟",
            "华为",
            "Mr Zhang",
            "+86 139",
            "call me",
            "Absent Person",
            "a@example.com",
        ):
            assert personal not in payloads and personal not in feed, personal
        assert "Anna Recent" in payloads  # not yet past its period
        after = [
            reporting.build_report(web_office.site, period, MONDAY_10AM.date(), SHANGHAI, LATER)
            for period in reporting.PERIODS
        ]
    assert after == before
    again = purge(db, LATER)
    assert again.visits_anonymised == again.events_anonymised == again.appointments_anonymised == 0
    assert again.feed_rows_anonymised == 0


def test_the_log_shows_an_anonymised_visit_and_no_longer_finds_it(web_office: WebOffice) -> None:
    _old_and_new(web_office)
    purge(web_office.store.db, LATER)
    client = web_office.as_role("reception")
    assert "(anonymised)" in client.get("/visits").text
    assert "No visit matches." in client.get("/visits", params={"q": "zhang wei"}).text


def test_the_purge_works_in_batches(web_office: WebOffice) -> None:
    in_shanghai(web_office.store, web_office.site)
    lobby = FakeKiosk(web_office.store, SITE, "lobby-1")
    for n in range(7):
        lobby.visit(f"Visitor {n}", state="checked_out", arrived=MONDAY_10AM, left=MONDAY_10AM)
    report = purge(web_office.store.db, LATER, batch=3)
    assert report.visits_anonymised == 7 and report.events_anonymised == 7
    with web_office.store.db.connection_context():
        assert not OfficeVisit.select().where(OfficeVisit.visitor_name != "").exists()


def test_audit_sessions_and_nonces_expire(web_office: WebOffice) -> None:
    web_office.as_role("reception")  # a session, expiring in 12 hours
    lobby = FakeKiosk(web_office.store, SITE, "lobby-1")
    lobby.visit("Anna", arrived=MONDAY_10AM)
    db = web_office.store.db
    with db.connection_context():
        AuditEntry.create(site=web_office.site, at=MONDAY_10AM, actor="x", action="host.add")
        RequestNonce.create(kiosk=lobby.record, nonce="n" * 32, seen_at=MONDAY_10AM)
        assert StaffSession.select().count() == 1
    report = purge(db, MONDAY_10AM + timedelta(days=731))
    assert report.sessions_deleted == 1 and report.nonces_deleted == 1
    assert report.audit_entries_deleted >= 1
    with db.connection_context():
        actions = [entry.action for entry in AuditEntry.select()]
    assert actions == ["retention.purge"]  # what the purge did is recorded


def test_anonymising_keeps_everything_but_people() -> None:
    payload = {"visit": "v1", "state": "checked_out", "visitor": {"name": "张伟", "company": "华为"},
               "satisfaction": 5, "comment": "nice", "host": "h1"}  # fmt: skip
    assert anonymise_payload(payload) == {
        "visit": "v1", "state": "checked_out", "visitor": {"name": "", "company": ""},
        "satisfaction": 5, "comment": "", "host": "h1",
    }  # fmt: skip


def test_the_chain_still_verifies_after_the_purge(office: Office, kiosks: KioskFactory) -> None:
    host = office.store.add_host(SITE, "Maria Schmidt", email="maria@example.com")
    kiosk, client = kiosks.new()
    client.run_once()
    with kiosk.using():
        result = kiosk.engine.check_in_walk_in(WalkIn(VisitorDetails("Zhang Wei"), host.ref))
        assert result.outcome is Outcome.CHECKED_IN and result.visit_ref
        kiosk.engine.check_out(result.visit_ref)
    client.run_once()
    db = office.store.db
    report = purge(db, MONDAY_10AM + timedelta(days=400))
    assert report.events_anonymised >= 2
    with db.connection_context():
        assert "Zhang Wei" not in " ".join(e.payload for e in Event.select())
        site = office.store.site(SITE)
        (check,) = reporting.verify_site_chains(site.id)
    assert check.status == "ok" and check.checked >= 4


def test_kiosk_office_purge_runs_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(tmp_path / "office.sqlite3")
    open_office_database(url).close()
    assert main(["office", "purge", "--db", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["visits_anonymised"] == 0


# ---------------------------------------------------------------- the column migration

OLD_EVENT_TABLE = {
    "sqlite": 'CREATE TABLE "event" ("id" INTEGER NOT NULL PRIMARY KEY, "event_id" VARCHAR(255) NOT NULL, "kiosk_id" INTEGER NOT NULL, "seq" BIGINT NOT NULL, "kind" VARCHAR(255) NOT NULL, "subject_ref" VARCHAR(255) NOT NULL, "payload" TEXT NOT NULL, "occurred_at" BIGINT NOT NULL, "received_at" BIGINT NOT NULL)',
    "postgresql": 'CREATE TABLE "event" ("id" BIGSERIAL NOT NULL PRIMARY KEY, "event_id" VARCHAR(255) NOT NULL, "kiosk_id" INTEGER NOT NULL, "seq" BIGINT NOT NULL, "kind" VARCHAR(255) NOT NULL, "subject_ref" VARCHAR(255) NOT NULL, "payload" TEXT NOT NULL, "occurred_at" BIGINT NOT NULL, "received_at" BIGINT NOT NULL)',
}
OLD_VISIT_TABLE = 'CREATE TABLE "office_visit" ("id" {id}, "ref" VARCHAR(255) NOT NULL, "site_id" INTEGER NOT NULL, "kiosk_id" INTEGER NOT NULL, "state" VARCHAR(255) NOT NULL, "visitor_name" VARCHAR(255) NOT NULL, "company" VARCHAR(255) NOT NULL, "host_ref" VARCHAR(255) NOT NULL, "appointment_ref" VARCHAR(255) NOT NULL, "method" VARCHAR(255) NOT NULL, "purpose" VARCHAR(255) NOT NULL, "level" VARCHAR(255) NOT NULL, "visitor_type" VARCHAR(255) NOT NULL, "escort_required" BOOLEAN NOT NULL, "arrived_at" BIGINT, "host_notified_at" BIGINT, "host_acknowledged_at" BIGINT, "left_at" BIGINT, "satisfaction" INTEGER, "auto_checked_out" BOOLEAN NOT NULL, "updated_at" BIGINT NOT NULL)'


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_office_database_from_before_the_chain_is_migrated(backend: str, tmp_path: Path) -> None:
    if backend == "sqlite":
        url = str(tmp_path / "old.sqlite3")
        raw: SqliteDatabase | PostgresqlDatabase = SqliteDatabase(url)
        id_column = "INTEGER NOT NULL PRIMARY KEY"
    else:
        url = os.environ.get("KIOSK_TEST_POSTGRES_URL", "")
        if not url:
            pytest.skip("PostgreSQL comes with `make test` (scripts/test-postgres.sh start)")
        from urllib.parse import urlparse

        parsed = urlparse(url)
        raw = PostgresqlDatabase(
            parsed.path.lstrip("/"), user=parsed.username, host=parsed.hostname, port=parsed.port
        )
        raw.execute_sql('DROP TABLE IF EXISTS "event", "office_visit" CASCADE')
        id_column = "SERIAL NOT NULL PRIMARY KEY"
    raw.execute_sql(OLD_EVENT_TABLE[backend])
    raw.execute_sql(OLD_VISIT_TABLE.format(id=id_column))
    raw.execute_sql(
        "INSERT INTO event (event_id, kiosk_id, seq, kind, subject_ref, payload, occurred_at,"
        " received_at) VALUES ('e1', 1, 1, 'visit.checked_in', 'v1', '{}', 1, 1)"
    )
    raw.execute_sql(
        "INSERT INTO office_visit (ref, site_id, kiosk_id, state, visitor_name, company, host_ref,"
        " appointment_ref, method, purpose, level, visitor_type, escort_required,"
        " auto_checked_out, updated_at) VALUES ('v1', 1, 1, 'checked_in', '张伟', '', '', '',"
        " '', '', '', '', FALSE, FALSE, 1)"
    )
    raw.close()

    db = open_office_database(url)
    with db.connection_context():
        columns = {column.name for column in db.get_columns("event")}
        assert {"prev_hash", "event_hash", "payload_digest", "anonymised_at"} <= columns
        event = Event.get()
        assert (event.event_id, event.prev_hash, event.anonymised_at) == ("e1", "", None)
        indexes = {index.name for index in db.get_indexes("event")}
        assert "event_kiosk_id_seq" in indexes
        visit = OfficeVisit.get()
        assert "zhang wei" in visit.name_key  # search keys filled in for the old rows
        assert "office_visit_site_log_at_id" in {i.name for i in db.get_indexes("office_visit")}
    db.close()
    open_office_database(url).close()  # a second opening has nothing to do


#: The appointment columns of the cancellation notices and the iCalendar re-import.
NEW_APPOINTMENT_COLUMNS = ("calendar_sequence", "import_key", "import_sequence", "import_digest")


def test_an_office_database_from_before_calendar_imports_were_remembered_is_migrated(
    office_db_url: str,
) -> None:
    """An appointments table without the new columns (as an office had it before) gets
    them, with their index, and its visits can be cancelled and imported again."""
    db = open_office_database(office_db_url)
    store = OfficeStore(db, clock=ManualClock(MONDAY_10AM - timedelta(days=1)))
    host = store.add_host(SITE, "李娜", email="li.na@tower.test")
    old = store.add_appointment(
        SITE, visitor_name="张伟", host_ref=host.ref, email="zhang.wei@example.cn",
        starts_at=MONDAY_10AM,
    )  # fmt: skip
    index = "office_appointment_site_id_import_key"
    with db.connection_context():
        assert index in {i.name for i in db.get_indexes("office_appointment")}
        db.execute_sql(f'DROP INDEX "{index}"')
        for column in NEW_APPOINTMENT_COLUMNS:
            db.execute_sql(f'ALTER TABLE "office_appointment" DROP COLUMN "{column}"')
    _close(db)

    db = open_office_database(office_db_url)
    store = OfficeStore(db, clock=ManualClock(MONDAY_10AM - timedelta(days=1)))
    try:
        with db.connection_context():
            columns = {column.name for column in db.get_columns("office_appointment")}
            assert set(NEW_APPOINTMENT_COLUMNS) <= columns
            assert index in {i.name for i in db.get_indexes("office_appointment")}
            kept = OfficeAppointment.get(OfficeAppointment.ref == old.ref)
            assert (kept.visitor_name, kept.calendar_sequence, kept.import_key) == ("张伟", 0, "")
            site = store.site(SITE)
            bookings = Bookings(store, StaffDirectory(db, store.clock))
            bookings.cancel(site, "reception1", old.ref)
            assert OfficeAppointment.get_by_id(kept.id).calendar_sequence == 1
            ics = (
                b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\n"
                b"UID:review@example.com\r\nDTSTAMP:20261120T080000Z\r\n"
                b"DTSTART:20261124T020000Z\r\nSUMMARY:Review\r\n"
                b"ORGANIZER:mailto:li.na@tower.test\r\nATTENDEE;CN=Anna:mailto:anna@example.se\r\n"
                b"END:VEVENT\r\nEND:VCALENDAR\r\n"
            )
            for added in (1, 0):  # the second import finds the first one's visit
                found = bookings.read_file(site, "review.ics", ics)
                result = bookings.import_file(site, "reception1", found, source="ics")
                assert (result.added, result.unchanged) == (added, 1 - added)
    finally:
        _close(db)
    open_office_database(office_db_url).close()  # a second opening has nothing to do


def _close(db: Any) -> None:
    db.close_all() if hasattr(db, "close_all") else db.close()
