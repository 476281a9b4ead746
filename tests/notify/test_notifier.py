"""Host notifications end to end: the engine queues, the notifier sends through apprise to
a real SMTP server and a webhook receiver on loopback, links are redeemed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from conftest import LINK_BASE
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from local_servers import Mailbox, Webhook, attachments_of, text_of
from tests_support import MONDAY_10AM, SHANGHAI

from kiosk.app import Kiosk, build_notifier
from kiosk.domain.clock import ManualClock
from kiosk.domain.errors import CheckInRefused, TokenRejected
from kiosk.domain.values import Purpose, VisitorLevel, VisitState
from kiosk.notify import LinkAction, LinkRefusal, LinkRefused, LinkSigner, Notifier
from kiosk.notify.models import NotificationDelivery, UsedLink
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.storage.models import Visit

JPEG = b"\xff\xd8\xff\xe0 a visitor's face"
PHOTO = Collected(photo_jpeg=JPEG)
SIGNED = Collected(photo_jpeg=JPEG, agreement_accepted=True, signature_png=b"\x89PNG\r\n\x1a\n")


def walk_in(hosts, name="Carol White", host="Maria Schmidt", **kw) -> WalkIn:
    return WalkIn(VisitorDetails(name, company="Initech"), hosts[host], **kw)


def links_in(text: str) -> dict[str, str]:
    """Label -> token of every link in a message."""
    found = re.findall(
        r"^(I'm on my way|Approve|Deny): " + re.escape(LINK_BASE) + r"(\S+)$", text, re.M
    )
    return dict(found)


def arrive(kiosk: Kiosk, hosts, **kw) -> str:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts, purpose=Purpose.INQUIRY, **kw), PHOTO)
    assert result.visit_ref
    return result.visit_ref


# ------------------------------------------------------------------ the host's e-mail


def test_the_host_gets_an_email_with_the_visitor_company_purpose_photo_place_and_a_working_link(
    kiosk: Kiosk, hosts, smtp: Mailbox, notifier: Notifier, clock: ManualClock
) -> None:
    visit_ref = arrive(kiosk, hosts)

    report = notifier.tick()

    assert (report.planned, report.sent, report.failed) == (1, 1, 0)
    [mail] = smtp.to("maria@tower.test")
    text = text_of(mail)
    assert "Carol White (Initech)" in mail["Subject"]
    assert "Carol White (Initech) is at Lobby kiosk, Test Tower to see Maria Schmidt." in text
    assert "Purpose: Inquiry" in text and "Arrived: 10:00" in text
    assert attachments_of(mail) == [("visitor.jpg", JPEG)]
    token = links_in(text)["I'm on my way"]

    clock.advance(timedelta(seconds=35))
    redeemed = notifier.redeem_link(token)

    assert (redeemed.action, redeemed.visit_ref, redeemed.party) == (
        LinkAction.ACKNOWLEDGE,
        visit_ref,
        "host",
    )
    assert redeemed.response_seconds == 35
    visit = Visit.get(Visit.ref == visit_ref)
    assert visit.state == VisitState.HOST_ACKNOWLEDGED
    assert visit.host_acknowledged_at == MONDAY_10AM + timedelta(seconds=35)


def test_a_link_works_once_and_is_refused_twice_after_expiry_and_forged(
    kiosk: Kiosk, hosts, smtp: Mailbox, notifier: Notifier, clock: ManualClock
) -> None:
    arrive(kiosk, hosts)
    arrive(kiosk, hosts, name="Dan Brown")
    notifier.tick()
    first, second = (links_in(text_of(m))["I'm on my way"] for m in smtp.to("maria@tower.test"))

    notifier.redeem_link(first)
    with pytest.raises(LinkRefused) as twice:
        notifier.redeem_link(first)
    assert twice.value.reason is LinkRefusal.USED

    version, claim, signature = second.split(".")
    stranger = LinkSigner(Ed25519PrivateKey.generate(), kiosk.kiosk_id, clock.now)
    forgeries = [
        f"{version}.{claim}.{signature[:-3]}AAA",  # altered signature
        f"{version}.{claim[:-2]}xx.{signature}",  # altered claim
        # another key naming this kiosk: only this kiosk's key will do
        stranger.issue(LinkAction.ACKNOWLEDGE, "whatever", "host", timedelta(hours=1)),
    ]
    for forged in forgeries:
        with pytest.raises(LinkRefused) as refused:
            notifier.redeem_link(forged)
        assert refused.value.reason is LinkRefusal.FORGED
    with pytest.raises(LinkRefused) as garbage:
        notifier.redeem_link("not a link")
    assert garbage.value.reason is LinkRefusal.MALFORMED

    clock.advance(timedelta(hours=2, seconds=1))
    with pytest.raises(LinkRefused) as late:
        notifier.redeem_link(second)
    assert late.value.reason is LinkRefusal.EXPIRED
    assert UsedLink.select().count() == 1
    assert Visit.select().where(Visit.state == VisitState.AWAITING_HOST).count() == 1


def test_a_walk_in_needing_approval_is_approved_by_link_and_the_deny_link_then_does_nothing(
    kiosk: Kiosk, hosts, smtp: Mailbox, notifier: Notifier
) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts, visitor_type="contractor"), SIGNED)
    notifier.tick()
    [mail] = smtp.to("maria@tower.test")
    assert mail["Subject"].startswith("Approve a visitor?")
    links = links_in(text_of(mail))
    assert set(links) == {"Approve", "Deny"}

    assert notifier.redeem_link(links["Approve"]).action is LinkAction.APPROVE
    with pytest.raises(LinkRefused) as refused:
        notifier.redeem_link(links["Deny"])

    assert refused.value.reason is LinkRefusal.TOO_LATE
    assert Visit.get(Visit.ref == result.visit_ref).state == VisitState.HOST_ACKNOWLEDGED


def test_a_deny_link_denies_the_walk_in(
    kiosk: Kiosk, hosts, smtp: Mailbox, notifier: Notifier
) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts, visitor_type="contractor"), SIGNED)
    notifier.tick()
    notifier.redeem_link(links_in(text_of(smtp.messages[0]))["Deny"])
    visit = Visit.get(Visit.ref == result.visit_ref)
    assert (visit.state, visit.denied_reason) == (VisitState.DENIED, "host declined")


# ------------------------------------------------------------------ escalation


def test_an_unanswered_host_escalates_to_the_delegate_then_to_reception(
    kiosk: Kiosk, hosts, smtp: Mailbox, notifier: Notifier, clock: ManualClock
) -> None:
    visit_ref = arrive(kiosk, hosts)
    notifier.tick()
    assert [m["To"] for m in smtp.messages] == ["maria@tower.test"]

    clock.advance(timedelta(seconds=59))
    assert notifier.tick().escalated == 0
    clock.advance(timedelta(seconds=1))
    assert notifier.tick().escalated == 1
    assert [m["To"] for m in smtp.messages] == ["maria@tower.test", "amy@tower.test"]
    to_amy = text_of(smtp.messages[1])
    assert "Maria Schmidt has not answered after 60 seconds." in to_amy
    assert "Carol White (Initech)" in to_amy

    clock.advance(timedelta(seconds=59))
    notifier.tick()
    assert len(smtp.messages) == 2
    clock.advance(timedelta(seconds=1))
    notifier.tick()
    assert [m["To"] for m in smtp.messages][-1] == "reception@tower.test"

    # Reception answers through its own link; nothing more goes out.
    redeemed = notifier.redeem_link(links_in(text_of(smtp.messages[-1]))["I'm on my way"])
    assert redeemed.party == "reception" and redeemed.response_seconds == 120
    assert Visit.get(Visit.ref == visit_ref).state == VisitState.HOST_ACKNOWLEDGED
    clock.advance(timedelta(minutes=10))
    notifier.tick()
    assert len(smtp.messages) == 3


def test_a_host_who_answers_in_time_is_not_escalated(
    kiosk: Kiosk, hosts, smtp: Mailbox, notifier: Notifier, clock: ManualClock
) -> None:
    arrive(kiosk, hosts)
    notifier.tick()
    clock.advance(timedelta(seconds=20))
    notifier.redeem_link(links_in(text_of(smtp.messages[0]))["I'm on my way"])
    clock.advance(timedelta(minutes=5))
    assert notifier.tick().escalated == 0
    assert len(smtp.messages) == 1


def test_an_escalation_planned_before_the_host_answered_is_dropped_at_send_time(
    kiosk: Kiosk, hosts, smtp: Mailbox, notifier: Notifier, clock: ManualClock
) -> None:
    visit_ref = arrive(kiosk, hosts)
    notifier.tick()
    clock.advance(timedelta(seconds=60))
    notifier.plan_events()
    notifier.escalate()  # planned, not yet sent
    kiosk.engine.acknowledge(visit_ref)
    report = notifier.deliver_due()
    assert (report.sent, report.dropped) == (0, 1)
    assert len(smtp.messages) == 1


# ------------------------------------------------------------------ the other audiences


def test_watchlist_hits_and_device_problems_reach_the_security_webhook(
    kiosk: Kiosk, hosts, webhook: Webhook, notifier: Notifier
) -> None:
    kiosk.directory.add_watchlist_entry("Mallory Evil", reason="trespass")
    with pytest.raises(CheckInRefused):
        kiosk.engine.check_in_walk_in(walk_in(hosts, name="Mallory Evil"), PHOTO)
    kiosk.engine.record_device_problem("printer", "paper out")

    report = notifier.tick()

    assert report.sent == 2
    alert, device = webhook.at("security")
    assert alert["title"] == "Security alert: watchlist"
    assert "Visitor: Mallory Evil (Initech)" in alert["message"]
    assert device["title"] == "Kiosk problem: printer"
    assert "paper out" in device["message"] and "Test Tower" in device["message"]


def test_a_badge_refused_at_the_door_reaches_the_security_webhook(
    kiosk: Kiosk, hosts, webhook: Webhook, notifier: Notifier, clock: ManualClock
) -> None:
    result = kiosk.engine.check_in_walk_in(walk_in(hosts, visitor_type="delivery"), PHOTO)
    assert result.badge is not None
    clock.advance(timedelta(hours=3))
    with pytest.raises(TokenRejected):
        kiosk.engine.check_badge_at_door(result.badge.token)

    notifier.tick()  # (the host's notification and its escalations go out too)
    [alert] = webhook.at("security")
    assert alert["title"] == "Security alert: badge refused"
    assert "A guard's scan refused a badge: the badge has expired." in alert["message"]
    assert "Carol White (Initech)" in alert["message"]


def test_a_vip_visit_also_notifies_the_vip_list(
    kiosk: Kiosk, hosts, smtp: Mailbox, webhook: Webhook, notifier: Notifier
) -> None:
    arrive(kiosk, hosts, level=VisitorLevel.VIP)
    notifier.tick()
    [vip] = webhook.at("vip")
    assert vip["title"] == "VIP visitor: Carol White (Initech)"
    assert "I'm on my way" not in vip["message"]  # the host answers, not the VIP list
    assert len(smtp.to("maria@tower.test")) == 1


def test_an_absent_host_receives_the_message_left_at_the_kiosk(
    kiosk: Kiosk, hosts, smtp: Mailbox, notifier: Notifier
) -> None:
    kiosk.engine.leave_message(
        hosts["李娜"],
        VisitorDetails("Zhang Wei", company="Acme"),
        contact="+86 139 1234 5678",
        purpose=Purpose.ERRAND,
        message="Please call me back about the lease.",
    )
    notifier.tick()
    [mail] = smtp.to("li.na@tower.test")
    text = text_of(mail)
    assert mail["Subject"] == "Message from Zhang Wei"
    assert "Zhang Wei (Acme) came to see you at Lobby kiosk, Test Tower at 10:00" in text
    assert "Contact: +86 139 1234 5678" in text
    assert "Message: Please call me back about the lease." in text


def test_hosts_whose_visitors_are_still_on_site_at_closing_get_one_reminder(
    kiosk: Kiosk, hosts, smtp: Mailbox, notifier: Notifier, clock: ManualClock
) -> None:
    staying = arrive(kiosk, hosts)
    leaving = arrive(kiosk, hosts, name="Dan Brown")
    kiosk.engine.acknowledge(staying)
    kiosk.engine.acknowledge(leaving)
    kiosk.engine.check_out(leaving)
    notifier.tick()
    arrivals = len(smtp.messages)

    clock.set(MONDAY_10AM.replace(hour=16, minute=59))
    assert notifier.tick().reminded == 0
    clock.set(MONDAY_10AM.replace(hour=17, minute=0, tzinfo=SHANGHAI))
    assert notifier.tick().reminded == 1
    clock.advance(timedelta(minutes=30))
    assert notifier.tick().reminded == 0

    [reminder] = smtp.messages[arrivals:]
    assert reminder["To"] == "maria@tower.test"
    text = text_of(reminder)
    assert "- Carol White (Initech), since 10:00" in text and "Dan Brown" not in text


# ------------------------------------------------------------------ once, and store and forward


def test_nothing_is_sent_twice_across_two_notifier_runs(
    kiosk: Kiosk, hosts, smtp: Mailbox, webhook: Webhook, notifier: Notifier
) -> None:
    arrive(kiosk, hosts)
    kiosk.engine.record_device_problem("camera", "no frames")
    notifier.tick()
    again = build_notifier(kiosk, link_base_url=LINK_BASE)
    report = again.tick()
    assert (report.planned, report.sent) == (0, 0)
    assert len(smtp.messages) == 1 and len(webhook.posts) == 1


class PowerCut(BaseException):
    """The process dies: nothing after it runs."""


def test_a_crash_between_sending_and_recording_does_not_resend_to_a_host(
    kiosk: Kiosk,
    hosts,
    smtp: Mailbox,
    notifier: Notifier,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arrive(kiosk, hosts)

    def cut(row: NotificationDelivery) -> None:
        raise PowerCut

    monkeypatch.setattr(notifier, "_record_sent", cut)
    with pytest.raises(PowerCut):
        notifier.tick()
    assert len(smtp.messages) == 1  # the channel took it; the kiosk did not record it

    restarted = build_notifier(kiosk, link_base_url=LINK_BASE)
    restarted.tick()  # too soon to tell a crash from a send under way
    clock.advance(timedelta(minutes=5))
    restarted.deliver_due()

    assert len(smtp.to("maria@tower.test")) == 1
    row = NotificationDelivery.get(NotificationDelivery.kind == "arrived")
    assert row.sent_at is None and row.gave_up_at is not None
    assert "not resent" in row.last_error


def test_a_crash_between_sending_and_recording_resends_a_security_alert(
    kiosk: Kiosk,
    hosts,
    webhook: Webhook,
    notifier: Notifier,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kiosk.engine.record_device_problem("printer", "jammed")
    monkeypatch.setattr(notifier, "_record_sent", lambda row: (_ for _ in ()).throw(PowerCut()))
    with pytest.raises(PowerCut):
        notifier.tick()

    clock.advance(timedelta(minutes=5))
    restarted = build_notifier(kiosk, link_base_url=LINK_BASE)
    assert restarted.tick().sent == 1
    assert restarted.tick().sent == 0

    first, second = webhook.at("security")
    assert first["message"] == second["message"]  # same "ref:" line: a receiver can dedupe
    assert NotificationDelivery.get().sent_at is not None


def test_a_channel_that_is_down_is_retried_later_with_backoff(
    kiosk: Kiosk, hosts, webhook: Webhook, notifier: Notifier, clock: ManualClock
) -> None:
    webhook.status = 503
    kiosk.engine.record_device_problem("printer", "paper out")
    kiosk.engine.record_device_problem("camera", "unplugged")

    report = notifier.tick()
    assert (report.sent, report.failed) == (0, 1)  # the second was not tried: the URL is down
    row = NotificationDelivery.select().order_by(NotificationDelivery.id).first()
    assert row.attempts == 1 and row.sent_at is None and "error=503" in row.last_error
    assert 8 <= (row.next_attempt_at - clock.now()).total_seconds() <= 12

    assert notifier.tick().failed == 1  # the second's turn: it fails on its own
    assert notifier.tick().failed == 0  # neither is due yet: no attempt
    clock.advance(timedelta(seconds=12))
    assert notifier.tick().failed == 1
    row = NotificationDelivery.get_by_id(row.id)
    assert row.attempts == 2 and 16 <= (row.next_attempt_at - clock.now()).total_seconds() <= 24

    webhook.status = 200
    clock.advance(timedelta(seconds=24))
    assert notifier.tick().sent == 2
    assert [p["title"] for p in webhook.at("security")] == [
        "Kiosk problem: printer",
        "Kiosk problem: camera",
    ]


def test_a_host_without_channels_falls_back_to_reception(
    kiosk: Kiosk, hosts, smtp: Mailbox, notifier: Notifier
) -> None:
    kiosk.directory.add_host("Nobody Reachable", channels=None)
    kiosk.engine.check_in_walk_in(
        WalkIn(VisitorDetails("Eve Quiet"), kiosk.directory.find_host("Nobody Reachable").ref),
        PHOTO,
    )
    notifier.tick()
    [mail] = smtp.messages
    assert mail["To"] == "reception@tower.test"
    assert notifier.redeem_link(links_in(text_of(mail))["I'm on my way"]).party == "reception"
