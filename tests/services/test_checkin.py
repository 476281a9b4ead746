"""The check-in engine: every path of the front-desk procedures, on an in-memory database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from tests_support import MONDAY_10AM, SHANGHAI

from kiosk.app import Kiosk, KioskServices
from kiosk.devices.printers import FakePrinter
from kiosk.domain.clock import ManualClock
from kiosk.domain.errors import (
    AlreadyCheckedOut,
    AlreadyRated,
    CheckInRefused,
    IllegalTransition,
    InvalidInput,
    RefusalReason,
    RejectReason,
    StorageError,
    TokenRejected,
)
from kiosk.domain.identity import hash_document_number
from kiosk.domain.tokens import TokenKind
from kiosk.domain.values import HostAvailability, Purpose, VisitorLevel, VisitState
from kiosk.services.checkin import Collected, Outcome, VisitorDetails, WalkIn
from kiosk.storage.journal import verify_audit_chain
from kiosk.storage.models import (
    AgreementSignature,
    AuditEntry,
    HostMessage,
    OutboxEvent,
    UsedInvitation,
    Visit,
    Visitor,
    VisitPhoto,
)

JPEG = b"\xff\xd8\xff\xe0 a jpeg"
PNG = b"\x89PNG\r\n\x1a\n a signature"
PHOTO = Collected(photo_jpeg=JPEG)
SIGNED = Collected(photo_jpeg=JPEG, agreement_accepted=True, signature_png=PNG)


def invite(kiosk: Kiosk, visitor: str = "Bob Stone", host: str = "maria@example.com", **kw) -> str:
    signer = kiosk.keys.invitation_signer()
    return kiosk.directory.invite(
        signer, visitor_name=visitor, host=host, at=MONDAY_10AM, **kw
    ).token


def events(kind: str | None = None) -> list[OutboxEvent]:
    query = OutboxEvent.select().order_by(OutboxEvent.id)
    return [e for e in query if kind is None or e.kind == kind]


def visit(ref: str) -> Visit:
    return Visit.get(Visit.ref == ref)


# ------------------------------------------------------------------ invitations


def test_an_invitation_checks_in_issues_a_badge_and_notifies_the_host(kiosk: Kiosk, hosts) -> None:
    token = invite(kiosk)
    preview = kiosk.engine.preview_invitation(token)
    assert (preview.visitor_name, preview.host_name) == ("Bob Stone", "Maria Schmidt")
    assert preview.requirements.photo and preview.host_available

    result = kiosk.engine.check_in_with_invitation(token, PHOTO)

    assert result.outcome is Outcome.CHECKED_IN
    assert result.notified == "host"
    record = visit(result.visit_ref)
    assert record.state == VisitState.AWAITING_HOST
    assert record.method == "invitation"
    assert record.arrived_at == record.host_notified_at == MONDAY_10AM
    assert VisitPhoto.get(VisitPhoto.visit == record).jpeg == PHOTO.photo_jpeg
    badge = result.badge
    assert (
        badge is not None
        and badge.visitor_name == "Bob Stone"
        and badge.host_name == "Maria Schmidt"
    )
    assert kiosk.engine.verify_badge(badge.token).visit_ref == result.visit_ref
    kinds = [e.kind for e in events() if e.subject_ref == result.visit_ref]
    assert kinds == [
        "visit.expected",
        "visit.checked_in",
        "notification.visitor_arrived",
        "visit.awaiting_host",
    ]
    assert verify_audit_chain().intact


def test_an_invitation_is_accepted_once_only(kiosk: Kiosk, hosts) -> None:
    token = invite(kiosk)
    kiosk.engine.check_in_with_invitation(token, PHOTO)
    with pytest.raises(TokenRejected) as caught:
        kiosk.engine.check_in_with_invitation(token, PHOTO)
    assert caught.value.reason is RejectReason.REPLAYED


def test_a_cancelled_appointment_revokes_its_invitation(kiosk: Kiosk, hosts) -> None:
    signer = kiosk.keys.invitation_signer()
    invitation = kiosk.directory.invite(
        signer, visitor_name="Eve", host="maria@example.com", at=MONDAY_10AM
    )
    kiosk.directory.cancel_appointment(invitation.appointment_ref)
    with pytest.raises(TokenRejected) as caught:
        kiosk.engine.check_in_with_invitation(invitation.token, PHOTO)
    assert caught.value.reason is RejectReason.REVOKED
    assert events("token.revoked")


@pytest.mark.parametrize(
    ("shift", "reason"),
    [(timedelta(hours=5), RejectReason.EXPIRED), (timedelta(hours=-3), RejectReason.NOT_YET_VALID)],
)
def test_an_invitation_works_only_inside_its_window(
    kiosk: Kiosk, hosts, clock: ManualClock, shift: timedelta, reason: RejectReason
) -> None:
    token = invite(kiosk)
    clock.advance(shift)
    with pytest.raises(TokenRejected) as caught:
        kiosk.engine.check_in_with_invitation(token, PHOTO)
    assert caught.value.reason is reason


def test_a_missing_requirement_refuses_without_using_up_the_invitation(kiosk: Kiosk, hosts) -> None:
    token = invite(kiosk)
    with pytest.raises(CheckInRefused) as caught:
        kiosk.engine.check_in_with_invitation(token, Collected())
    assert caught.value.reason is RefusalReason.REQUIREMENT_MISSING
    assert UsedInvitation.select().count() == 0
    assert kiosk.engine.check_in_with_invitation(token, PHOTO).outcome is Outcome.CHECKED_IN


def test_an_agreement_is_recorded_with_its_version_and_hash(kiosk: Kiosk, hosts) -> None:
    token = invite(kiosk, visitor_type="interview")
    rules = kiosk.engine.preview_invitation(token).requirements
    assert rules.agreement_id == "confidentiality" and not rules.photo
    with pytest.raises(CheckInRefused, match="confidentiality agreement"):
        kiosk.engine.check_in_with_invitation(token, Collected())
    result = kiosk.engine.check_in_with_invitation(
        token,
        Collected(agreement_accepted=True, signature_png=PNG, agreement_language="zh_Hans"),
    )
    signature = AgreementSignature.get(AgreementSignature.visit == visit(result.visit_ref))
    assert signature.version == kiosk.config.agreements["confidentiality"].version
    import hashlib

    shown = kiosk.config.agreements["confidentiality"].text["zh_Hans"]
    assert signature.document_sha256 == hashlib.sha256(shown.encode()).hexdigest()
    assert signature.signer_name == "Bob Stone"


def test_an_office_invitation_not_yet_synced_still_checks_in(kiosk: Kiosk, hosts) -> None:
    """Offline: the signed token carries the visitor's name and host."""
    signer = kiosk.keys.invitation_signer()
    token, _ = signer.sign_invitation(
        appointment_ref="00000000000000aa",
        host_ref=hosts["李娜"],
        visitor_name="陈小明",
        not_before=MONDAY_10AM - timedelta(hours=1),
        not_after=MONDAY_10AM + timedelta(hours=1),
    )
    result = kiosk.engine.check_in_with_invitation(token, PHOTO)
    assert result.outcome is Outcome.CHECKED_IN
    assert result.badge is not None and result.badge.visitor_name == "陈小明"
    assert result.host_name == "李娜"


def test_a_badge_is_not_an_invitation(kiosk: Kiosk, hosts) -> None:
    badge = kiosk.engine.check_in_with_invitation(invite(kiosk), PHOTO).badge
    assert badge is not None
    with pytest.raises(TokenRejected) as caught:
        kiosk.engine.check_in_with_invitation(badge.token)
    assert caught.value.reason is RejectReason.WRONG_KIND


# ------------------------------------------------------------------ identity


def book(kiosk: Kiosk, name: str, host: str = "maria@example.com", **kw) -> str:
    return kiosk.directory.add_appointment(
        visitor_name=name, host=host, starts_at=MONDAY_10AM, **kw
    ).ref


@pytest.mark.parametrize(
    ("booked", "typed", "how"),
    [
        ("Bob Stone", "Bob Stone", "exact"),
        ("Bob Stone", "  bob   STONE ", "exact"),
        ("张伟", "Zhang Wei", "latin"),
        ("Zhang Wei", "张伟", "latin"),
        ("José García", "Jose Garcia", "latin"),
        ("Maria Schmidt", "Maria Schmitt", "fuzzy"),
    ],
)
def test_identity_matches_todays_appointments(
    kiosk: Kiosk, hosts, booked: str, typed: str, how: str
) -> None:
    ref = book(kiosk, booked)
    book(kiosk, "Somebody Else")
    matches = kiosk.engine.match_identity(typed)
    assert [(m.appointment_ref, m.how) for m in matches] == [(ref, how)]


def test_a_document_hash_beats_the_name(kiosk: Kiosk, hosts) -> None:
    salt = kiosk.keys.document_salt()
    digest = hash_document_number("E12345678", salt)
    ref = book(kiosk, "Robert Stone", document_hash=digest)
    book(kiosk, "Bob Stone")
    matches = kiosk.engine.match_identity("Bob Stone", document_hash=digest)
    assert [(m.appointment_ref, m.how) for m in matches] == [(ref, "document")]


def test_identity_ignores_other_days_and_used_appointments(kiosk: Kiosk, hosts) -> None:
    kiosk.directory.add_appointment(
        visitor_name="Bob Stone",
        host="maria@example.com",
        starts_at=MONDAY_10AM + timedelta(days=1),
    )
    assert kiosk.engine.match_identity("Bob Stone") == []
    ref = book(kiosk, "Bob Stone")
    kiosk.engine.check_in_appointment(ref, VisitorDetails("Bob Stone"), PHOTO)
    assert kiosk.engine.match_identity("Bob Stone") == []


def test_two_visitors_of_one_name_are_both_offered(kiosk: Kiosk, hosts) -> None:
    book(kiosk, "张伟", host="maria@example.com")
    book(kiosk, "張偉", host="li.na@example.com")  # traditional characters, same pinyin
    matches = kiosk.engine.match_identity("Zhang Wei")
    assert sorted(m.host_name for m in matches) == ["Maria Schmidt", "李娜"]


def test_checking_in_by_identity(kiosk: Kiosk, hosts) -> None:
    ref = book(kiosk, "张伟", company="Acme")
    details = VisitorDetails("张伟", document_hash="a" * 64, document_last4="5678")
    result = kiosk.engine.check_in_appointment(ref, details, PHOTO)
    record = visit(result.visit_ref)
    assert record.method == "identity" and record.appointment.ref == ref
    assert record.visitor.document_hash == "a" * 64 and record.visitor.document_last4 == "5678"


def test_an_expired_document_is_refused_when_the_rule_says_so(kiosk: Kiosk, hosts) -> None:
    ref = book(kiosk, "Bob Stone")
    with pytest.raises(CheckInRefused) as caught:
        kiosk.engine.check_in_appointment(
            ref, VisitorDetails("Bob Stone", document_expired=True), PHOTO
        )
    assert caught.value.reason is RefusalReason.DOCUMENT_EXPIRED


# ------------------------------------------------------------------ walk-ins


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Maria", "Maria Schmidt"),
        ("schmidt", "Maria Schmidt"),
        ("李娜", "李娜"),
        ("li na", "李娜"),
        ("lina", "李娜"),
        ("ln", "李娜"),
        ("行政", "李娜"),
        ("wang", "王强"),
        ("Sales", "James O'Connor"),
    ],
)
def test_hosts_are_found_by_name_pinyin_initials_or_department(
    kiosk: Kiosk, hosts, query: str, expected: str
) -> None:
    assert kiosk.engine.search_hosts(query)[0].name == expected


def walk_in(hosts, name: str = "Carol White", host: str = "Maria Schmidt", **kw) -> WalkIn:
    return WalkIn(
        VisitorDetails(name, company="Initech", phone="+86 138 0000 0000"), hosts[host], **kw
    )


def test_a_walk_in_checks_in(kiosk: Kiosk, hosts) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts, purpose=Purpose.INQUIRY), PHOTO)
    assert result.outcome is Outcome.CHECKED_IN
    record = visit(result.visit_ref)
    assert (record.method, record.purpose, record.company) == ("walk_in", "inquiry", "Initech")
    assert record.state == VisitState.AWAITING_HOST


@pytest.mark.parametrize(
    "name",
    [
        "Robert'); DROP TABLE visitor;--",
        "😀 Smiley 👩🏽‍💻",
        "\u200fשרה כהן",
        "محمد",
        "X" * 200,
    ],
)
def test_odd_names_are_stored_exactly(kiosk: Kiosk, hosts, name: str) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts, name=name), PHOTO)
    assert visit(result.visit_ref).visitor.name == name
    assert result.badge is not None and result.badge.visitor_name == name


@pytest.mark.parametrize(
    ("typed", "shown"),
    [("carol white", "Carol White"), ("sean o'connor", "Sean O'Connor"), ("张伟", "张伟")],
)
def test_a_name_typed_in_lower_case_is_stored_and_printed_capitalised(
    kiosk: Kiosk, hosts, typed: str, shown: str
) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts, name=typed), PHOTO)
    assert visit(result.visit_ref).visitor.name == shown
    assert result.badge is not None and result.badge.visitor_name == shown
    assert [e.visitor_name for e in kiosk.engine.on_site()] == [shown]
    assert [e.visitor_name for e in kiosk.engine.find_on_site(typed)] == [shown]


def test_an_appointment_booked_in_lower_case_is_shown_capitalised(kiosk: Kiosk, hosts) -> None:
    token = invite(kiosk, visitor="bob stone")
    preview = kiosk.engine.preview_invitation(token)
    assert preview.visitor_name == "Bob Stone"
    assert [m.visitor_name for m in kiosk.engine.match_identity("bob stone")] == ["Bob Stone"]


def test_a_photo_or_signature_of_the_wrong_kind_is_refused(kiosk: Kiosk, hosts) -> None:
    with pytest.raises(InvalidInput, match="photo: is not a JPEG"):
        kiosk.engine.check_in_walk_in(walk_in(hosts), Collected(photo_jpeg=b"GIF89a"))
    with pytest.raises(InvalidInput, match="signature: is not a PNG"):
        kiosk.engine.check_in_walk_in(
            walk_in(hosts), Collected(photo_jpeg=JPEG, signature_png=b"x")
        )


@pytest.mark.parametrize("name", ["Bob\x1b[31m", "A\x00B", "x" * 1000])
def test_bad_names_are_refused_and_nothing_is_stored(kiosk: Kiosk, hosts, name: str) -> None:
    with pytest.raises(InvalidInput):
        kiosk.engine.check_in_walk_in(walk_in(hosts, name=name), PHOTO)
    assert Visit.select().count() == 0 and Visitor.select().count() == 0


def test_a_walk_in_that_needs_approval_waits_for_the_host(kiosk: Kiosk, hosts) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts, visitor_type="contractor"), SIGNED)
    assert result.outcome is Outcome.AWAITING_APPROVAL and result.badge is None
    assert events("notification.approval_request")
    badge = kiosk.engine.decide_approval(result.visit_ref, True)
    assert badge is not None and badge.escort_required
    assert visit(result.visit_ref).state == VisitState.HOST_ACKNOWLEDGED


def test_a_declined_walk_in_is_denied(kiosk: Kiosk, hosts) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts, visitor_type="contractor"), SIGNED)
    assert kiosk.engine.decide_approval(result.visit_ref, False) is None
    assert visit(result.visit_ref).state == VisitState.DENIED
    with pytest.raises(IllegalTransition):
        kiosk.engine.decide_approval(result.visit_ref, True)


def test_a_senior_managers_walk_in_goes_to_the_assistant(kiosk: Kiosk, hosts) -> None:
    kiosk.directory.add_host(
        "王强", email="wang.qiang@example.com", is_senior=True, delegate="李娜"
    )
    result = kiosk.engine.check_in_walk_in(walk_in(hosts, host="王强"), PHOTO)
    assert result.outcome is Outcome.AWAITING_APPROVAL
    assert result.notified == "delegate"
    payload = json.loads(events("notification.approval_request")[0].payload)
    assert payload["recipient"] == hosts["李娜"]


def test_a_vip_visit_also_notifies_the_vip_list(kiosk: Kiosk, hosts) -> None:
    kiosk.engine.check_in_walk_in(walk_in(hosts, level=VisitorLevel.VIP), PHOTO)
    assert len(events("notification.vip_arrived")) == 1


# ------------------------------------------------------------------ watchlist and absent hosts


def test_a_watchlist_hit_denies_quietly_and_alerts_security(kiosk: Kiosk, hosts) -> None:
    kiosk.directory.add_watchlist_entry("Mallory Banned", reason="trespass")
    with pytest.raises(CheckInRefused) as caught:
        kiosk.engine.check_in_walk_in(walk_in(hosts, name="MALLORY  banned"), PHOTO)
    assert caught.value.reason is RefusalReason.WATCHLIST
    assert caught.value.detail == "please see reception"
    denied = Visit.get(Visit.state == VisitState.DENIED)
    assert denied.denied_reason == "watchlist"
    assert not denied.badges.exists()
    alert = json.loads(events("security.alert")[0].payload)
    assert alert["reason"] == "watchlist" and alert["visit"] == denied.ref


def test_the_watchlist_matches_across_scripts_and_by_document(kiosk: Kiosk, hosts) -> None:
    salt = kiosk.keys.document_salt()
    kiosk.directory.add_watchlist_entry("张伟")
    kiosk.directory.add_watchlist_entry("Someone", document_hash=hash_document_number("X99", salt))
    with pytest.raises(CheckInRefused):
        kiosk.engine.check_in_walk_in(walk_in(hosts, name="Zhang Wei"), PHOTO)
    alias = WalkIn(
        VisitorDetails("Alias", document_hash=hash_document_number("x 99", salt)),
        hosts["Maria Schmidt"],
    )
    with pytest.raises(CheckInRefused):
        kiosk.engine.check_in_walk_in(alias, PHOTO)


def test_an_absent_host_gets_a_message_and_nothing_else_is_recorded(kiosk: Kiosk, hosts) -> None:
    kiosk.directory.set_availability("james@example.com", HostAvailability.OUT)
    result = kiosk.engine.check_in_walk_in(walk_in(hosts, host="James O'Connor"), PHOTO)
    assert result.outcome is Outcome.HOST_ABSENT and result.visit_ref is None
    assert Visit.select().count() == 0
    ref = kiosk.engine.leave_message(
        hosts["James O'Connor"],
        VisitorDetails("Carol White", company="Initech"),
        contact="+86 138 0000 0000",
        purpose=Purpose.ERRAND,
        message="About the lease renewal.",
    )
    message = HostMessage.get(HostMessage.ref == ref)
    assert (message.contact, message.purpose, message.left_at) == (
        "+86 138 0000 0000",
        "errand",
        MONDAY_10AM,
    )
    recorded = message.visit
    assert recorded.host_absent and recorded.state == VisitState.CHECKED_OUT
    payload = json.loads(events("notification.message_left")[0].payload)
    assert (
        payload["host"] == hosts["James O'Connor"] and payload["text"] == "About the lease renewal."
    )


def test_a_delegate_stands_in_for_an_absent_host(kiosk: Kiosk, hosts) -> None:
    kiosk.directory.add_host("James O'Connor", email="james@example.com", delegate="Maria Schmidt")
    kiosk.directory.set_availability("james@example.com", HostAvailability.IN_MEETING)
    result = kiosk.engine.check_in_walk_in(walk_in(hosts, host="James O'Connor"), PHOTO)
    assert result.outcome is Outcome.CHECKED_IN and result.notified == "delegate"


def test_checking_in_anyway_tells_reception(kiosk: Kiosk, hosts) -> None:
    kiosk.directory.set_availability("james@example.com", HostAvailability.OUT)
    result = kiosk.engine.check_in_walk_in(
        walk_in(hosts, host="James O'Connor"), PHOTO, if_host_absent="proceed"
    )
    assert result.outcome is Outcome.CHECKED_IN and result.notified == "reception"


# ------------------------------------------------------------------ opening hours


def test_after_hours_walk_ins_are_refused_but_invitations_work(
    kiosk: Kiosk, hosts, clock: ManualClock
) -> None:
    token = invite(kiosk)
    clock.set(datetime(2026, 11, 23, 12, 30, tzinfo=SHANGHAI))  # lunch: reception closed
    assert not kiosk.engine.is_open()
    with pytest.raises(CheckInRefused) as caught:
        kiosk.engine.check_in_walk_in(walk_in(hosts), PHOTO)
    assert caught.value.reason is RefusalReason.AFTER_HOURS
    result = kiosk.engine.check_in_with_invitation(token, PHOTO)
    assert visit(result.visit_ref).after_hours


@pytest.mark.parametrize("config_extra", ['after_hours = "closed"\n'])
def test_a_closed_site_refuses_everyone(kiosk: Kiosk, hosts, clock: ManualClock) -> None:
    token = invite(kiosk)
    clock.set(datetime(2026, 11, 23, 12, 30, tzinfo=SHANGHAI))  # lunch: reception closed
    with pytest.raises(CheckInRefused, match="after_hours"):
        kiosk.engine.check_in_with_invitation(token, PHOTO)


# ------------------------------------------------------------------ after check-in


def test_acknowledgement_gives_the_response_time(kiosk: Kiosk, hosts, clock: ManualClock) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts), PHOTO)
    clock.advance(timedelta(seconds=42))
    assert kiosk.engine.acknowledge(result.visit_ref) == 42
    assert visit(result.visit_ref).response_seconds == 42


def test_a_badge_never_outlives_the_day(kiosk: Kiosk, hosts, clock: ManualClock) -> None:
    clock.set(datetime(2026, 11, 23, 16, 0, tzinfo=SHANGHAI))
    badge = kiosk.engine.check_in_walk_in(walk_in(hosts, visitor_type="contractor"), SIGNED)
    badge_content = kiosk.engine.decide_approval(badge.visit_ref, True)
    assert badge_content is not None
    assert badge_content.expires_at == datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI)  # end_of_day


def test_check_out_by_badge_then_rate(kiosk: Kiosk, hosts, clock: ManualClock) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts), PHOTO)
    assert result.badge is not None
    clock.advance(timedelta(hours=1))
    assert kiosk.engine.check_out_with_badge(result.badge.token) == result.visit_ref
    kiosk.engine.rate_visit(result.visit_ref, 5, "很好，谢谢！\nThanks.")
    record = visit(result.visit_ref)
    assert (record.state, record.satisfaction, record.left_at) == (
        VisitState.CHECKED_OUT,
        5,
        clock.now(),
    )
    with pytest.raises(TokenRejected) as caught:
        kiosk.engine.verify_badge(result.badge.token)
    assert caught.value.reason is RejectReason.CHECKED_OUT
    with pytest.raises(InvalidInput):
        kiosk.engine.rate_visit(result.visit_ref, 6)


def recorded() -> tuple[int, int]:
    """How many outbox events and audit entries there are: what a refused call must not add."""
    return OutboxEvent.select().count(), AuditEntry.select().count()


def test_a_visit_is_checked_out_once_and_a_second_scan_says_when(
    kiosk: Kiosk, hosts, clock: ManualClock
) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts), PHOTO)
    assert result.badge is not None
    clock.advance(timedelta(minutes=42))
    left = clock.now()
    kiosk.engine.check_out_with_badge(result.badge.token)
    before = recorded()
    clock.advance(timedelta(minutes=5))
    with pytest.raises(AlreadyCheckedOut) as by_badge:
        kiosk.engine.check_out_with_badge(result.badge.token)
    with pytest.raises(AlreadyCheckedOut) as by_ref:
        kiosk.engine.check_out(result.visit_ref)
    for caught in (by_badge, by_ref):
        assert caught.value.visit_ref == result.visit_ref
        assert caught.value.checked_out_at == left
        assert isinstance(caught.value, IllegalTransition)  # what callers already catch
    assert recorded() == before
    assert visit(result.visit_ref).left_at == left


def test_the_touchscreen_is_told_the_first_check_out_in_site_time(
    kiosk: Kiosk, hosts, clock: ManualClock
) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts), PHOTO)
    assert result.badge is not None
    clock.set(datetime(2026, 11, 23, 10, 42, tzinfo=SHANGHAI))
    services = KioskServices(kiosk, printer=FakePrinter())
    try:
        services.check_out_with_badge(result.badge.token)
        for again in (
            lambda: services.check_out_with_badge(result.badge.token),
            lambda: services.check_out(result.visit_ref),
        ):
            with pytest.raises(AlreadyCheckedOut) as caught:
                again()
            assert caught.value.checked_out_at is not None
            assert caught.value.checked_out_at.strftime("%H:%M %z") == "10:42 +0800"
    finally:
        services.close()


def test_a_visit_is_rated_once_and_the_first_rating_stands(kiosk: Kiosk, hosts) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts), PHOTO)
    kiosk.engine.check_out(result.visit_ref)
    kiosk.engine.rate_visit(result.visit_ref, 5, "great")
    before = recorded()
    with pytest.raises(AlreadyRated) as caught:
        kiosk.engine.rate_visit(result.visit_ref, 1, "awful")
    assert (caught.value.visit_ref, caught.value.satisfaction) == (result.visit_ref, 5)
    assert recorded() == before
    assert len(events("visit.rated")) == 1
    record = visit(result.visit_ref)
    assert (record.satisfaction, record.feedback) == (5, "great")


def test_an_expired_badge_still_checks_out(kiosk: Kiosk, hosts, clock: ManualClock) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts, visitor_type="delivery"), PHOTO)
    assert result.badge is not None
    clock.advance(timedelta(hours=3))
    with pytest.raises(TokenRejected, match="expired"):
        kiosk.engine.verify_badge(result.badge.token)
    kiosk.engine.check_out_with_badge(result.badge.token)
    assert visit(result.visit_ref).state == VisitState.CHECKED_OUT


def test_check_out_by_name(kiosk: Kiosk, hosts) -> None:
    kiosk.engine.check_in_walk_in(walk_in(hosts, name="张伟"), PHOTO)
    kiosk.engine.check_in_walk_in(walk_in(hosts, name="Carol White"), PHOTO)
    found = kiosk.engine.find_on_site("zhang wei")
    assert [entry.visitor_name for entry in found] == ["张伟"]


def test_a_forged_badge_is_refused(kiosk: Kiosk, hosts) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.domain.tokens import TokenSigner

    result = kiosk.engine.check_in_walk_in(walk_in(hosts), PHOTO)
    forger = TokenSigner(Ed25519PrivateKey.generate())
    forged, _ = forger.sign_badge(
        visit_ref=result.visit_ref,
        not_before=MONDAY_10AM,
        not_after=MONDAY_10AM + timedelta(hours=4),
    )
    with pytest.raises(TokenRejected) as caught:
        kiosk.engine.verify_badge(forged)
    assert caught.value.reason is RejectReason.UNKNOWN_KEY


def test_a_badge_refused_at_the_door_alerts_security_once_and_names_only_genuine_visits(
    kiosk: Kiosk, hosts, clock: ManualClock
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.domain.tokens import TokenSigner

    result = kiosk.engine.check_in_walk_in(walk_in(hosts, visitor_type="delivery"), PHOTO)
    assert result.badge is not None
    kiosk.engine.check_badge_at_door(result.badge.token)  # a good badge: no alert
    assert events("security.alert") == []

    forged, _ = TokenSigner(Ed25519PrivateKey.generate()).sign_badge(
        visit_ref=result.visit_ref,
        not_before=MONDAY_10AM,
        not_after=MONDAY_10AM + timedelta(hours=4),
    )
    for _ in range(3):  # the guard tries the forged card three times
        with pytest.raises(TokenRejected):
            kiosk.engine.check_badge_at_door(forged)
    [alert] = events("security.alert")
    payload = json.loads(alert.payload)
    assert (payload["reason"], payload["detail"]) == ("badge_rejected", "unknown_key")
    assert payload["visit"] == ""  # a forgery names nobody's visit
    assert forged not in alert.payload  # only a digest of the card is kept

    clock.advance(timedelta(hours=3))  # the genuine badge has expired
    with pytest.raises(TokenRejected):
        kiosk.engine.check_badge_at_door(result.badge.token)
    expired = json.loads(events("security.alert")[-1].payload)
    assert (expired["detail"], expired["visit"]) == ("expired", result.visit_ref)
    assert verify_audit_chain().intact


def test_the_end_of_the_day_checks_out_and_counts_no_shows(
    kiosk: Kiosk, hosts, clock: ManualClock
) -> None:
    stayed = kiosk.engine.check_in_walk_in(walk_in(hosts), PHOTO)
    book(kiosk, "Never Came")
    clock.set(datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI))
    assert kiosk.engine.close_day() == {"checked_out": 1, "no_shows": 1}
    record = visit(stayed.visit_ref)
    assert record.state == VisitState.CHECKED_OUT and record.auto_checked_out
    assert Visit.select().where(Visit.state == VisitState.NO_SHOW).count() == 1
    assert kiosk.engine.on_site() == []


def test_on_site_lists_unsynced_visitors(kiosk: Kiosk, hosts) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts), PHOTO)
    [entry] = kiosk.engine.on_site()
    assert (entry.visit_ref, entry.synced, entry.host_name) == (
        result.visit_ref,
        False,
        "Maria Schmidt",
    )
    OutboxEvent.update(sent_at=MONDAY_10AM).execute()
    assert kiosk.engine.on_site()[0].synced
    summary = kiosk.engine.today_summary()
    assert (summary.on_site, summary.awaiting_host, summary.is_open) == (1, 1, True)


def test_a_full_disk_loses_nothing_already_recorded(kiosk: Kiosk, hosts) -> None:
    first = kiosk.engine.check_in_walk_in(walk_in(hosts), PHOTO)
    token = invite(kiosk)
    pages = kiosk.db.execute_sql("PRAGMA page_count").fetchone()[0]
    kiosk.db.execute_sql(f"PRAGMA max_page_count = {pages}")
    big_photo = Collected(photo_jpeg=JPEG + b"x" * 200_000)
    with pytest.raises(StorageError, match="storage is full"):
        kiosk.engine.check_in_with_invitation(token, big_photo)
    assert UsedInvitation.select().count() == 0  # the invitation was not used up
    assert visit(first.visit_ref).state == VisitState.AWAITING_HOST
    kiosk.db.execute_sql("PRAGMA max_page_count = 1073741823")
    assert kiosk.engine.check_in_with_invitation(token, PHOTO).outcome is Outcome.CHECKED_IN
    assert verify_audit_chain().intact


def test_the_badge_kind_is_checked_by_the_guard(kiosk: Kiosk, hosts) -> None:
    token = invite(kiosk)
    with pytest.raises(TokenRejected) as caught:
        kiosk.engine.verify_badge(token)
    assert caught.value.reason is RejectReason.WRONG_KIND
    assert TokenKind.BADGE
