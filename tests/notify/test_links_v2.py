"""Links anyone with the kiosk's public key can verify, messages in Chinese, the host's answer
as the waiting screen reads it, store and forward on the kiosk's side, and `kiosk doctor`."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
from conftest import LINK_BASE
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from local_servers import Mailbox, Webhook, text_of

from kiosk.app import Kiosk, build_notifier, link_signer
from kiosk.domain.clock import ManualClock
from kiosk.domain.tokens import raw_public_key
from kiosk.domain.values import Purpose
from kiosk.notify import (
    LinkAction,
    LinkRefusal,
    LinkRefused,
    Notifier,
    host_response,
    read_link,
    verify_link,
)
from kiosk.notify.links import AUTH_KEY, STANDALONE_LINK_KEY, load_link_key
from kiosk.notify.models import NotificationDelivery, NotificationForward, UsedLink
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.storage.models import KioskState, OutboxEvent
from kiosk.sync.apply import apply_changes

JPEG = b"\xff\xd8\xff\xe0 a visitor's face"


def arrive(kiosk: Kiosk, hosts, host="Maria Schmidt", **kw) -> str:
    result = kiosk.engine.check_in_walk_in(
        WalkIn(
            VisitorDetails("王芳", company="华为技术"), hosts[host], purpose=Purpose.INQUIRY, **kw
        ),
        Collected(photo_jpeg=JPEG, agreement_accepted=True, signature_png=b"\x89PNG\r\n\x1a\n"),
    )
    assert result.visit_ref
    return result.visit_ref


def links_in(text: str) -> dict[str, str]:
    labels = "I'm on my way|Approve|Deny|我这就过来|同意|拒绝|我這就過來|拒絕"
    return dict(re.findall(rf"^({labels})(?:: |：)\S*?/l/(\S+)$", text, re.M))


# ------------------------------------------------------------------ the link itself


def test_a_link_is_verified_with_the_kiosks_public_key_alone(kiosk: Kiosk, clock) -> None:
    signer = link_signer(kiosk)
    token = signer.issue(LinkAction.APPROVE, "0123456789abcdef", "delegate", timedelta(hours=2))

    assert len(LINK_BASE + token) < 220  # fits a chat line or an e-mail without wrapping
    claim = verify_link(token, signer.public_key_hex, clock.now())
    assert (claim.kiosk_id, claim.action, claim.visit_ref, claim.party) == (
        kiosk.kiosk_id,
        LinkAction.APPROVE,
        "0123456789abcdef",
        "delegate",
    )
    other = raw_public_key(Ed25519PrivateKey.generate().public_key()).hex()
    with pytest.raises(LinkRefused) as forged:
        verify_link(token, other, clock.now())
    assert forged.value.reason is LinkRefusal.FORGED
    with pytest.raises(LinkRefused) as late:
        verify_link(token, signer.public_key_hex, clock.now() + timedelta(hours=2))
    assert late.value.reason is LinkRefusal.EXPIRED
    assert read_link(token)[0] == claim
    for garbage in ("", "v1.abc.def", "v2.abc", "v2.abc.def", "v2." + "A" * 700 + ".x"):
        with pytest.raises(LinkRefused) as malformed:
            verify_link(garbage, signer.public_key_hex, clock.now())
        assert malformed.value.reason is LinkRefusal.MALFORMED


def test_a_standalone_kiosk_signs_with_its_own_key_which_enrolment_makes_its_sync_key(
    kiosk: Kiosk,
) -> None:
    from kiosk.doctor import _has_office

    keys = kiosk.config.keys_dir
    standalone = load_link_key(keys)
    assert (keys / STANDALONE_LINK_KEY).exists() and not (keys / AUTH_KEY).exists()
    assert not _has_office(kiosk.config)  # the link key is not taken for enrolment
    (keys / STANDALONE_LINK_KEY).rename(keys / AUTH_KEY)  # what SyncClient.enroll does
    promoted = load_link_key(keys)
    assert raw_public_key(promoted.public_key()) == raw_public_key(standalone.public_key())


# ------------------------------------------------------------------ messages in Chinese


@pytest.fixture
def config_extra(smtp: Mailbox, webhook: Webhook, request: pytest.FixtureRequest) -> str:
    language = getattr(request, "param", "")
    return f"""
[notifications]
reception = ["{smtp.url("reception@tower.test")}"]
security = ["{webhook.url("security")}"]
escalation_seconds = 60
language = "{language}"
"""


def subject(mail) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def test_messages_default_to_the_sites_language_simplified_chinese(
    kiosk: Kiosk, hosts, smtp: Mailbox, notifier: Notifier
) -> None:
    arrive(kiosk, hosts, host="李娜")
    notifier.tick()
    [mail] = smtp.to("li.na@tower.test")
    text = text_of(mail)
    assert subject(mail) == "访客：王芳（华为技术）"
    assert "王芳（华为技术） 正在Test Tower Lobby kiosk等候，要见 李娜。" in text
    assert "来访事由：事务咨询" in text and "到达时间：10:00" in text
    assert set(links_in(text)) == {"我这就过来"}


@pytest.mark.parametrize("config_extra", ["zh_Hant"], indirect=True)
def test_traditional_chinese_messages(kiosk: Kiosk, hosts, smtp: Mailbox, notifier) -> None:
    kiosk.engine.leave_message(
        hosts["李娜"],
        VisitorDetails("陳大文", company="長江實業"),
        contact="+852 9123 4567",
        purpose=Purpose.ERRAND,
    )
    arrive(kiosk, hosts, visitor_type="contractor")
    notifier.tick()
    [message] = smtp.to("li.na@tower.test")
    assert subject(message) == "陳大文 給您的留言"
    assert "陳大文（長江實業） 於 10:00 到Test Tower Lobby kiosk找您，並留了言。" in text_of(
        message
    )
    assert "來訪事由：辦事" in text_of(message)
    [approval] = smtp.to("maria@tower.test")
    assert subject(approval) == "是否同意來訪？王芳（华为技术）"  # names as typed
    assert set(links_in(text_of(approval))) == {"同意", "拒絕"}


# ------------------------------------------------------------------ the host's answer


@pytest.mark.parametrize("config_extra", ["en"], indirect=True)
def test_host_response_is_none_until_answered_then_says_who_and_how_fast(
    kiosk: Kiosk, hosts, smtp: Mailbox, notifier: Notifier, clock: ManualClock
) -> None:
    waiting = arrive(kiosk, hosts)
    notifier.tick()
    assert host_response(waiting) is None

    clock.advance(timedelta(seconds=60))
    notifier.tick()  # escalated to Maria's delegate, Amy
    [to_amy] = smtp.to("amy@tower.test")
    clock.advance(timedelta(seconds=12))
    notifier.redeem_link(links_in(text_of(to_amy))["I'm on my way"])
    assert host_response(waiting) == ("acknowledged", "Amy Assistant", 72.0, "delegate")

    cli = arrive(kiosk, hosts, host="李娜")
    clock.advance(timedelta(seconds=3))
    kiosk.engine.acknowledge(cli)  # `kiosk acknowledge`: the host, by name
    assert host_response(cli) == ("acknowledged", "李娜", 3.0, "host")

    approved = arrive(kiosk, hosts, visitor_type="contractor")
    denied = arrive(kiosk, hosts, visitor_type="contractor")
    notifier.tick()
    first, second = (links_in(text_of(m)) for m in smtp.to("maria@tower.test")[-2:])
    notifier.redeem_link(first["Approve"])
    notifier.redeem_link(second["Deny"])
    assert host_response(approved).kind == "approved"
    assert host_response(denied)[:2] == ("denied", "Maria Schmidt")


@pytest.mark.parametrize("config_extra", ["en"], indirect=True)
def test_a_link_response_from_the_change_feed_goes_through_the_engine_once(
    kiosk: Kiosk, hosts, smtp: Mailbox, notifier: Notifier, clock: ManualClock
) -> None:
    visit_ref = arrive(kiosk, hosts)
    notifier.tick()
    token = links_in(text_of(smtp.messages[0]))["I'm on my way"]
    claim = read_link(token)[0]
    answered = clock.now() + timedelta(seconds=20)
    clock.advance(timedelta(seconds=30))  # the kiosk pulls 10 s after the host answered
    change = {
        "id": 7,
        "entity": "link_response",
        "ref": claim.link_id,
        "data": {
            "kiosk": kiosk.kiosk_id,
            "visit": visit_ref,
            "action": "ack",
            "party": "host",
            "answered_at": answered.isoformat(),
        },
    }
    for cursor in (7, 8):  # applied, then pulled again
        with kiosk.db.atomic():
            apply_changes([change], cursor, kiosk.kiosk_id, clock.now(), engine=kiosk.engine)
    assert host_response(visit_ref) == ("acknowledged", "Maria Schmidt", 20.0, "host")
    acks = OutboxEvent.select().where(OutboxEvent.kind == "visit.host_acknowledged")
    assert acks.count() == 1
    assert json.loads(acks.get().payload)["host_acknowledged_at"] == answered.isoformat()
    assert UsedLink.get(UsedLink.link_id == claim.link_id).visit_ref == visit_ref
    with pytest.raises(LinkRefused) as used:
        notifier.redeem_link(token)
    assert used.value.reason is LinkRefusal.USED


# ------------------------------------------------------------------ store and forward


class Down:
    def send(self, url, message):
        from kiosk.notify.channels import SendResult

        return SendResult(False, "connection refused")


@pytest.mark.parametrize("config_extra", ["en"], indirect=True)
def test_a_standalone_kiosk_keeps_retrying_and_never_forwards(
    kiosk: Kiosk, hosts, clock: ManualClock
) -> None:
    notifier = build_notifier(kiosk, sender=Down(), link_base_url=LINK_BASE)
    arrive(kiosk, hosts)
    for _ in range(5):
        notifier.tick()
        clock.advance(timedelta(minutes=20))
    row = NotificationDelivery.get(NotificationDelivery.kind == "arrived")
    assert row.attempts >= 4 and row.gave_up_at is None and row.sent_at is None
    assert NotificationForward.select().count() == 0


@pytest.mark.parametrize("config_extra", ["en"], indirect=True)
def test_an_enrolled_kiosk_forwards_after_two_failures_and_then_never_sends_itself(
    kiosk: Kiosk, hosts, clock: ManualClock, smtp: Mailbox
) -> None:
    KioskState.create(key="sync_office_url", value="https://office.test")
    down = Down()
    notifier = build_notifier(kiosk, sender=down)
    arrive(kiosk, hosts)
    assert notifier.tick().forwarded == 0
    clock.advance(timedelta(seconds=13))
    assert notifier.tick().forwarded == 1
    [event] = OutboxEvent.select().where(OutboxEvent.kind == "notification.forward")
    payload = json.loads(event.payload)
    assert payload["title"] == "Visitor: 王芳 (华为技术)"
    assert "I'm on my way: https://office.test/l/v2." in payload["body"]
    assert payload["attachments"][0]["name"] == "visitor.jpg"
    assert "mailto" not in event.payload and "maria@" not in event.payload

    clock.advance(timedelta(hours=1))
    sent_before = smtp.messages[:]
    assert notifier.tick().sent == 0 and smtp.messages == sent_before


@pytest.mark.parametrize("config_extra", ["en"], indirect=True)
def test_doctor_reports_pending_failing_and_forwarded_with_the_channel_masked(
    kiosk: Kiosk, hosts, clock: ManualClock, tmp_path
) -> None:
    from kiosk.doctor import _notification_findings

    kiosk.directory.add_host(
        "Secretive", channels=["mailto://user:hunter2@smtp.example.com:2525?to=x@example.com"]
    )
    notifier = build_notifier(kiosk, sender=Down(), link_base_url=LINK_BASE)
    kiosk.engine.check_in_walk_in(
        WalkIn(VisitorDetails("Eve"), kiosk.directory.find_host("Secretive").ref),
        Collected(photo_jpeg=JPEG),
    )
    arrive(kiosk, hosts)
    notifier.plan_events()
    notifier.deliver_due()

    findings = _notification_findings(kiosk.config)
    summary, *failing = findings
    assert summary.status == "warn" and "0 pending, 2 failing, 0 forwarded" in summary.detail
    details = " ".join(finding.detail for finding in failing)
    assert "mailto://smtp.example.com:2525/…" in details and "connection refused" in details
    assert "hunter2" not in details and "x@example.com" not in details

    KioskState.create(key="sync_office_url", value="https://office.test")
    clock.advance(timedelta(minutes=1))
    notifier.deliver_due()
    summary = _notification_findings(kiosk.config)[0]
    assert "2 forwarded to the office (2 not yet received there)" in summary.detail
    assert summary.status == "ok"


@pytest.mark.parametrize(
    ("site", "kiosk", "language", "expected"),
    [
        ("国际大厦", "一楼大堂", "zh_Hans", "国际大厦一楼大堂"),
        ("Riverside Tower", "一楼大堂", "zh_Hans", "Riverside Tower 一楼大堂"),
        ("國際大廈", "Lobby", "zh_Hant", "國際大廈 Lobby"),
        ("Riverside Tower", "Lobby kiosk", "en", "Lobby kiosk, Riverside Tower"),
        ("Riverside Tower", "", "zh_Hans", "Riverside Tower"),
    ],
)
def test_a_place_reads_naturally_in_each_language(
    site: str, kiosk: str, language: str, expected: str
) -> None:
    from kiosk.notify.i18n import place_name

    assert place_name(site, kiosk, language) == expected
