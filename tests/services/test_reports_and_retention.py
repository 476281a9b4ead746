"""Reports give the procedures' figures; the purge removes personal data on schedule and
keeps the counts; an office-run kiosk holds no invitation key."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from tests_support import MONDAY_10AM, SHANGHAI

from kiosk.app import Kiosk, init_kiosk, open_kiosk
from kiosk.domain.clock import ManualClock
from kiosk.domain.errors import NotFound
from kiosk.domain.values import Purpose, VisitorLevel
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.services.reports import build_report, percentile
from kiosk.services.retention import purge
from kiosk.storage.journal import verify_audit_chain
from kiosk.storage.models import (
    AgreementSignature,
    HostMessage,
    OutboxEvent,
    Visit,
    Visitor,
    VisitPhoto,
)

JPEG = b"\xff\xd8\xff\xe0 a jpeg"
PNG = b"\x89PNG\r\n\x1a\n signature"


def visit_with_response(kiosk: Kiosk, hosts, clock: ManualClock, seconds: int, **kw) -> str:
    walk_in = WalkIn(VisitorDetails(f"Visitor {seconds}"), hosts["Maria Schmidt"], **kw)
    result = kiosk.engine.check_in_walk_in(walk_in, Collected(photo_jpeg=JPEG))
    assert result.visit_ref
    clock.advance(timedelta(seconds=seconds))
    kiosk.engine.acknowledge(result.visit_ref)
    return result.visit_ref


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 0.9) == 9.0
    assert percentile(values, 0.5) == 5.0
    assert percentile([42.0], 0.9) == 42.0


def test_the_daily_report_has_the_procedures_figures(
    kiosk: Kiosk, hosts, clock: ManualClock
) -> None:
    for seconds in (20, 40, 50, 70, 300):
        visit_with_response(kiosk, hosts, clock, seconds, purpose=Purpose.INQUIRY)
    vip = visit_with_response(kiosk, hosts, clock, 30, level=VisitorLevel.VIP)
    kiosk.engine.check_out(vip)
    kiosk.engine.rate_visit(vip, 4)
    kiosk.directory.add_appointment(
        visitor_name="Never Came",
        host="li.na@example.com",
        starts_at=MONDAY_10AM,
        ends_at=MONDAY_10AM + timedelta(hours=1),
    )
    kiosk.directory.add_watchlist_entry("Mallory")
    with pytest.raises(Exception):  # noqa: B017 - the refusal itself is tested elsewhere
        kiosk.engine.check_in_walk_in(
            WalkIn(VisitorDetails("Mallory"), hosts["李娜"]), Collected(photo_jpeg=JPEG)
        )
    clock.set(datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI))
    kiosk.engine.close_day()

    report = build_report("daily", date(2026, 11, 23), kiosk.engine.calendar)

    assert report.visits == 6 and report.denied == 1 and report.no_shows == 1
    assert report.by_purpose == {"inquiry": 5, "visit_person": 1}
    assert report.by_level == {"ordinary": 5, "vip": 1}
    assert report.by_host == {"Maria Schmidt": 6}
    assert report.by_department == {"Engineering": 6}
    assert report.response.answered == 6
    assert report.response.median_seconds == 45.0  # 20 30 40 50 70 300
    assert report.response.p90_seconds == 300.0
    assert report.response.within_standard == pytest.approx(4 / 6)
    assert report.satisfaction.ratings == 1 and report.satisfaction.average == 4.0
    assert report.auto_checked_out == 5

    month = build_report("monthly", date(2026, 11, 1), kiosk.engine.calendar)
    assert (
        month.visits == 6
        and month.start.startswith("2026-11-01")
        and month.end.startswith("2026-12-01")
    )
    other_day = build_report("daily", date(2026, 11, 24), kiosk.engine.calendar)
    assert other_day.visits == 0 and other_day.response.median_seconds is None


def test_the_purge_anonymises_after_the_period_and_keeps_counts(
    kiosk: Kiosk, hosts, clock: ManualClock
) -> None:
    walk_in = WalkIn(
        VisitorDetails("张伟", company="Acme", phone="+86 1", document_hash="a" * 64),
        hosts["Maria Schmidt"],
        visitor_type="contractor",
    )
    result = kiosk.engine.check_in_walk_in(
        walk_in, Collected(photo_jpeg=JPEG, agreement_accepted=True, signature_png=PNG)
    )
    assert result.visit_ref
    kiosk.engine.decide_approval(result.visit_ref, True)
    kiosk.engine.check_out(result.visit_ref)
    kiosk.engine.rate_visit(result.visit_ref, 5, "Call me on +86 1")
    kiosk.engine.leave_message(hosts["李娜"], VisitorDetails("Carol"), contact="carol@example.com")
    OutboxEvent.update(sent_at=clock.now()).where(OutboxEvent.id <= 3).execute()
    unsent_before = OutboxEvent.select().where(OutboxEvent.sent_at.is_null()).count()

    clock.advance(timedelta(days=10))
    assert purge(kiosk.db, kiosk.config.retention, kiosk.clock).visitors_anonymised == 0
    assert Visitor.select().where(Visitor.name == "张伟").exists()

    clock.advance(timedelta(days=100))  # past every default period but signatures (3 years)
    report = purge(kiosk.db, kiosk.config.retention, kiosk.clock)

    assert report.visitors_anonymised == 2  # the contractor and the visitor who left a message
    assert (
        report.photos_deleted == 1 and report.messages_deleted == 1 and report.events_deleted == 3
    )
    person = Visitor.get()
    assert (person.name, person.company, person.phone, person.document_hash) == ("", "", "", None)
    visit = Visit.get(Visit.ref == result.visit_ref)
    assert (visit.satisfaction, visit.purpose, visit.feedback, visit.company) == (
        5,
        "visit_person",
        "",
        "",
    )
    assert not VisitPhoto.select().exists() and not HostMessage.select().exists()
    assert AgreementSignature.get().signature_png == PNG  # kept for its own, longer period
    # Events the office has not confirmed are never purged, whatever their age.
    assert OutboxEvent.select().where(OutboxEvent.sent_at.is_null()).count() == unsent_before + 0
    assert verify_audit_chain().intact

    clock.advance(timedelta(days=3 * 365))
    assert purge(kiosk.db, kiosk.config.retention, kiosk.clock).signatures_blanked == 1
    signature = AgreementSignature.get()
    assert (signature.signature_png, signature.signer_name) == (None, "")
    assert signature.version and signature.document_sha256  # the record of agreement stays


def test_an_office_run_kiosk_cannot_sign_invitations(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[office]\nurl = "https://office.example.com"\n', encoding="utf-8")
    created = init_kiosk(config).created
    assert not any(name.endswith("invitation.key") for name in created)
    kiosk = open_kiosk(config)
    try:
        with pytest.raises(NotFound, match="signed at the office"):
            kiosk.keys.invitation_signer()
    finally:
        kiosk.close()
