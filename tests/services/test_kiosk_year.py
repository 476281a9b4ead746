"""A year of a kiosk's visits in bulk (kiosk.services.kiosk_year, for make growth): each
copied visit has the rows the engine wrote for a visit of its kind, both hash chains verify,
the real purge then leaves what the retention keeps (the notifier's rows too), and the kiosk
checks visitors in on top of its year. On a real SQLite file."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests_support import make_kiosk

from kiosk.app import Kiosk, build_notifier
from kiosk.config import KioskConfig
from kiosk.domain.clock import ManualClock
from kiosk.domain.event_chain import event_chain_hash, payload_digest
from kiosk.notify.channels import SendResult
from kiosk.services.checkin import Collected, Outcome
from kiosk.services.kiosk_year import SeededYear, YearShape, seed_kiosk_year
from kiosk.services.retention import purge
from kiosk.storage.journal import chain_head, verify_audit_chain

END = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
SHAPE = YearShape(visits=730, hosts=6, photo_bytes=2_000, signature_bytes=500)


class Delivered:
    def send(self, url: str, message: Any) -> SendResult:
        return SendResult(True, "")


@pytest.fixture
def config_extra() -> str:
    return 'after_hours = "open"\n'


@pytest.fixture
def year(config: KioskConfig, tmp_path: Path) -> tuple[Kiosk, ManualClock, SeededYear]:
    clock = ManualClock(END)
    kiosk = make_kiosk(config, clock, str(tmp_path / "kiosk.sqlite3"))
    notifier = build_notifier(kiosk, sender=Delivered())
    return kiosk, clock, seed_kiosk_year(kiosk, clock, notifier.tick, SHAPE, end=END)


def _rows(kiosk: Kiosk, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return list(kiosk.db.execute_sql(sql, params).fetchall())


def _kind(appointment_id: int | None, visitor_type: str) -> str:
    return "invitation" if appointment_id else visitor_type


def _rows_per_visit(kiosk: Kiosk) -> dict[str, tuple[str, Counter[str]]]:
    """Each visit's kind and how many rows of each table name it."""
    found: dict[str, tuple[str, Counter[str]]] = {}
    for visit_id, ref, appointment_id, visitor_type in _rows(
        kiosk, 'SELECT "id", "ref", "appointment_id", "visitor_type" FROM "visit"'
    ):
        counts: Counter[str] = Counter()
        for table in ("visit_photo", "badge", "agreement_signature"):
            counts[table] = _rows(
                kiosk, f'SELECT count(*) FROM "{table}" WHERE "visit_id" = ?', visit_id
            )[0][0]
        counts["audit"] = _rows(
            kiosk, 'SELECT count(*) FROM "audit_entry" WHERE "subject" = ?', ref
        )[0][0]
        counts["events"] = _rows(
            kiosk, 'SELECT count(*) FROM "outbox_event" WHERE "subject_ref" = ?', ref
        )[0][0]
        counts["deliveries"] = _rows(
            kiosk, 'SELECT count(*) FROM "notification_delivery" WHERE "subject_ref" = ?', ref
        )[0][0]
        found[ref] = (_kind(appointment_id, visitor_type), counts)
    return found


def test_each_copy_has_the_rows_the_engine_wrote_and_both_chains_verify(
    year: tuple[Kiosk, ManualClock, SeededYear],
) -> None:
    kiosk, _clock, seeded = year
    assert seeded.visits == seeded.rows["visit"] == SHAPE.visits
    per_visit = _rows_per_visit(kiosk)
    assert len(per_visit) == SHAPE.visits + 3  # the three visits the engine made first
    first_three = _rows(kiosk, 'SELECT "ref" FROM "visit" ORDER BY "id" LIMIT 3')
    engine_made = {per_visit[ref][0]: per_visit[ref][1] for (ref,) in first_three}
    assert set(engine_made) == {"invitation", "visitor", "interview"}
    assert engine_made["interview"]["agreement_signature"] == 1
    recent_since = int((END - timedelta(days=SHAPE.recent_days)).timestamp() * 1000)
    arrivals = dict(_rows(kiosk, 'SELECT "ref", "arrived_at" FROM "visit"'))
    kinds = Counter()
    for ref, (kind, counts) in per_visit.items():
        expected = Counter(engine_made[kind])
        if arrivals[ref] < recent_since and (ref,) not in first_three:  # purged long ago
            expected["visit_photo"] = expected["events"] = 0
        assert counts == expected, (ref, kind)
        kinds[kind] += 1
    assert 0.5 < kinds["invitation"] / len(per_visit) < 0.7
    assert 0.05 < kinds["interview"] / len(per_visit) < 0.15

    audit = verify_audit_chain()
    assert (
        audit.intact and audit.entries == _rows(kiosk, 'SELECT count(*) FROM "audit_entry"')[0][0]
    )
    previous = None
    for seq, event_id, kind, at, payload, prev_hash, event_hash, sent_at in _rows(
        kiosk,
        'SELECT "id", "event_id", "kind", "occurred_at", "payload", "prev_hash", "event_hash",'
        ' "sent_at" FROM "outbox_event" ORDER BY "id"',
    ):
        assert sent_at is not None
        if previous is not None:
            assert prev_hash == previous
        assert event_hash == event_chain_hash(
            prev_hash, seq, event_id, kind, at, payload_digest(payload)
        )
        previous = event_hash
    assert chain_head()[1] == previous


def test_the_purge_keeps_what_retention_says_and_the_kiosk_works_on(
    year: tuple[Kiosk, ManualClock, SeededYear],
) -> None:
    kiosk, clock, _seeded = year
    retention = kiosk.config.retention
    report = purge(kiosk.db, retention, clock)
    assert report.photos_deleted and report.events_deleted and report.notifications_deleted

    def older(days: int) -> int:
        return int((END - timedelta(days=days)).timestamp() * 1000)

    for sql, days in (
        ('SELECT count(*) FROM "visit_photo" WHERE "taken_at" < ?', retention.photos_days),
        ('SELECT count(*) FROM "outbox_event" WHERE "sent_at" < ?', retention.sent_events_days),
        (
            'SELECT count(*) FROM "notification_delivery" WHERE "created_at" < ?',
            retention.sent_events_days,
        ),
        (
            'SELECT count(*) FROM "visitor" JOIN "visit" ON "visit"."visitor_id" = "visitor"."id"'
            ' WHERE "visit"."updated_at" < ? AND "visitor"."name" <> \'\'',
            retention.visitor_details_days,
        ),
    ):
        assert _rows(kiosk, sql, older(days))[0][0] == 0, sql
    recent = _rows(kiosk, 'SELECT count(*) FROM "visit_photo" WHERE "taken_at" >= ?', older(29))[0][
        0
    ]
    assert recent > 0
    again = purge(kiosk.db, retention, clock).as_dict()
    assert set(again.values()) == {0}  # a second night changes nothing

    signer = kiosk.keys.invitation_signer()
    invitation = kiosk.directory.invite(
        signer, visitor_name="Nadia Kowalski", host="host1@example.com", at=clock.now()
    )
    result = kiosk.engine.check_in_with_invitation(
        invitation.token, Collected(photo_jpeg=b"\xff\xd8\xff\xe0 a face")
    )
    assert result.outcome is Outcome.CHECKED_IN
    assert kiosk.engine.today_summary().on_site >= 1
