"""The office's side of host notifications: the public link page (GET shows, POST acts once),
the link's answer reaching the kiosk through the change feed and its engine, and the
messages a kiosk could not send, forwarded to the office and sent from there exactly once.

The page tests run the app in process (`web_office`); the end-to-end ones use a real office
(`office`, SQLite and PostgreSQL) with enrolled kiosks, a real SMTP server (aiosmtpd) and a
JSON webhook receiver on loopback."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from typing import Any

import httpx
import pytest
from conftest import SITE, KioskFactory, Office, WebOffice
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from local_servers import Mailbox, Webhook, smtp_server, text_of, webhook_server
from pydantic import SecretStr
from tests_support import MONDAY_10AM

from kiosk.app import Kiosk, build_notifier
from kiosk.domain.clock import ManualClock
from kiosk.domain.tokens import raw_public_key
from kiosk.domain.values import Purpose, VisitState
from kiosk.notify import LinkAction, LinkSigner, host_response
from kiosk.notify.channels import Message, SendResult
from kiosk.notify.models import NotificationDelivery, NotificationForward, channel_hash
from kiosk.office.forwarding import OfficeNotifier
from kiosk.office.models import ChangeLog, Event, ForwardedNotification, OfficeVisit
from kiosk.office.settings import load_site_settings, save_site_settings
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.storage.models import OutboxEvent, Visit
from kiosk.sync.client import SyncClient

JPEG = b"\xff\xd8\xff\xe0 a visitor's face"


# ---------------------------------------------------------------- a kiosk of the web office


@dataclass
class SignedKiosk:
    """A kiosk enrolled at the in-process office, with its signing key: it can sign links
    and send events like a real one."""

    office: WebOffice
    kiosk_id: str
    key: Ed25519PrivateKey
    seq: int = 0

    def signer(self) -> LinkSigner:
        return LinkSigner(self.key, self.kiosk_id, self.office.clock.now)

    def link(self, action: LinkAction, visit_ref: str, party: str = "host", **ttl: Any) -> str:
        return self.signer().issue(action, visit_ref, party, timedelta(**(ttl or {"hours": 2})))

    def send(self, kind: str, payload: dict[str, Any], subject: str = "") -> Any:
        self.seq += 1
        store = self.office.store
        with store.db.connection_context():
            from kiosk.office.models import Kiosk as OfficeKiosk

            kiosk = OfficeKiosk.get(OfficeKiosk.kiosk_id == self.kiosk_id)
            return store.ingest(
                kiosk,
                [
                    {
                        "event_id": uuid.uuid4().hex,
                        "seq": self.seq,
                        "kind": kind,
                        "subject_ref": subject,
                        "occurred_at": self.office.clock.now().isoformat(),
                        "payload": payload,
                    }
                ],
            )

    def visitor_waits(self, visit_ref: str, host_ref: str, name: str = "张伟") -> None:
        now = self.office.clock.now().isoformat()
        for state in ("checked_in", "awaiting_host"):
            self.send(
                f"visit.{state}",
                {
                    "visit": visit_ref, "state": state, "kiosk": self.kiosk_id, "host": host_ref,
                    "visitor": {"name": name, "company": "Acme 公司"}, "arrived_at": now,
                    "host_notified_at": now if state == "awaiting_host" else None,
                },
                visit_ref,
            )  # fmt: skip


def enrol(office: WebOffice, name: str = "Lobby east") -> SignedKiosk:
    key = Ed25519PrivateKey.generate()
    kiosk_id = f"kiosk-{uuid.uuid4().hex[:8]}"
    office.store.enrol(
        office.store.enrolment_code(SITE),
        kiosk_id=kiosk_id,
        name=name,
        auth_public_key=raw_public_key(key.public_key()).hex(),
        badge_public_key=raw_public_key(Ed25519PrivateKey.generate().public_key()).hex(),
    )
    return SignedKiosk(office, kiosk_id, key)


@pytest.fixture
def waiting(web_office: WebOffice) -> tuple[SignedKiosk, str]:
    kiosk = enrol(web_office)
    host = web_office.store.add_host(SITE, "李娜", email="li.na@example.com")
    visit_ref = uuid.uuid4().hex[:16]
    kiosk.visitor_waits(visit_ref, host.ref)
    return kiosk, visit_ref


def office_visit(web_office: WebOffice, ref: str) -> OfficeVisit:
    with web_office.store.db.connection_context():
        return OfficeVisit.get(OfficeVisit.ref == ref)


def feed(web_office: WebOffice, entity: str) -> list[dict[str, Any]]:
    with web_office.store.db.connection_context():
        rows = ChangeLog.select().where(ChangeLog.entity == entity).order_by(ChangeLog.id)
        return [{"ref": row.ref, **json.loads(row.data)} for row in rows]


# ---------------------------------------------------------------- the link page


def test_get_shows_what_the_link_will_do_and_does_not_act(web_office, waiting) -> None:
    kiosk, visit_ref = waiting
    token = kiosk.link(LinkAction.ACKNOWLEDGE, visit_ref)
    client = web_office.client()

    for _ in range(3):  # a mail scanner, a chat preview and the host
        page = client.get(f"/l/{token}", headers={"Accept-Language": "en-GB,en;q=0.9"})
        assert page.status_code == 200
    assert "Confirm: I'm on my way" in page.text
    assert "to meet 张伟 (Acme 公司) at Lobby east, Riverside Tower." in page.text
    assert f'action="/l/{token}?lang=en"' in page.text and 'method="post"' in page.text
    assert "<script" not in page.text and "style=" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert office_visit(web_office, visit_ref).state == "awaiting_host"
    assert feed(web_office, "link_response") == []


def test_post_acts_once_records_the_acknowledgement_and_tells_the_kiosk(
    web_office, waiting
) -> None:
    kiosk, visit_ref = waiting
    token = kiosk.link(LinkAction.ACKNOWLEDGE, visit_ref, "delegate")
    client = web_office.client()
    web_office.clock.advance(timedelta(seconds=42))

    done = client.post(f"/l/{token}", headers={"Accept-Language": "en"})

    assert done.status_code == 200, done.text
    assert "Thank you" in done.text and "42 s" in done.text
    visit = office_visit(web_office, visit_ref)
    assert visit.state == "host_acknowledged"
    assert visit.host_acknowledged_at == web_office.clock.now()
    [response] = feed(web_office, "link_response")
    assert response["kiosk"] == kiosk.kiosk_id and response["visit"] == visit_ref
    assert (response["action"], response["party"]) == ("ack", "delegate")
    assert response["answered_at"] == web_office.clock.now().isoformat()
    assert feed(web_office, "visit")[-1]["state"] == "host_acknowledged"

    again = client.post(f"/l/{token}", headers={"Accept-Language": "en"})
    assert again.status_code == 410 and "already been used" in again.text
    assert len(feed(web_office, "link_response")) == 1


def test_every_refusal_has_its_page(web_office, waiting) -> None:
    kiosk, visit_ref = waiting
    client = web_office.client()
    en = {"Accept-Language": "en"}
    expiring = kiosk.link(LinkAction.ACKNOWLEDGE, visit_ref, minutes=5)
    deny = kiosk.link(LinkAction.DENY, visit_ref)
    version, claim, signature = kiosk.link(LinkAction.APPROVE, visit_ref).split(".")
    impostor = LinkSigner(Ed25519PrivateKey.generate(), kiosk.kiosk_id, web_office.clock.now)
    forgeries = [
        f"{version}.{claim}.{signature[:-3]}AAA",
        impostor.issue(LinkAction.APPROVE, visit_ref, "host", timedelta(hours=1)),
        LinkSigner(Ed25519PrivateKey.generate(), "kiosk-nobody", web_office.clock.now).issue(
            LinkAction.APPROVE, visit_ref, "host", timedelta(hours=1)
        ),
    ]
    for forged in forgeries:
        for method in (client.get, client.post):
            page = method(f"/l/{forged}", headers=en)
            assert page.status_code == 403 and "not genuine" in page.text

    assert client.get("/l/v1.abc.def", headers=en).status_code == 404
    assert "not a valid link" in client.post("/l/nonsense", headers=en).text

    web_office.clock.advance(timedelta(minutes=5))
    for method in (client.get, client.post):
        page = method(f"/l/{expiring}", headers=en)
        assert page.status_code == 410 and "expired" in page.text
    assert office_visit(web_office, visit_ref).state == "awaiting_host"

    assert client.post(f"/l/{kiosk.link(LinkAction.ACKNOWLEDGE, visit_ref)}").status_code == 200
    late = client.post(f"/l/{deny}", headers=en)
    assert late.status_code == 409 and "already answered" in late.text
    assert office_visit(web_office, visit_ref).state == "host_acknowledged"
    assert client.get(f"/l/{kiosk.link(LinkAction.ACKNOWLEDGE, 'f' * 16)}").status_code == 409


def test_a_link_signed_at_another_site_has_its_own_page(web_office, waiting) -> None:
    _, visit_ref = waiting
    office = web_office.store
    key = Ed25519PrivateKey.generate()
    office.enrol(
        office.enrolment_code("Other Tower"), kiosk_id="kiosk-other", name="Other lobby",
        auth_public_key=raw_public_key(key.public_key()).hex(),
        badge_public_key=raw_public_key(Ed25519PrivateKey.generate().public_key()).hex(),
    )  # fmt: skip
    intruder = SignedKiosk(web_office, "kiosk-other", key)
    client = web_office.client()
    for language, words in (("en", "not for this building"), ("zh-CN", "此链接不属于本大厦")):
        for method in (client.get, client.post):
            page = method(
                f"/l/{intruder.link(LinkAction.DENY, visit_ref)}",
                headers={"Accept-Language": language},
            )
            assert page.status_code == 403 and words in page.text
    assert office_visit(web_office, visit_ref).state == "awaiting_host"


def test_a_revoked_kiosks_links_are_refused(web_office, waiting) -> None:
    kiosk, visit_ref = waiting
    token = kiosk.link(LinkAction.ACKNOWLEDGE, visit_ref)
    web_office.store.revoke_kiosk(kiosk.kiosk_id)
    page = web_office.client().post(f"/l/{token}", headers={"Accept-Language": "en"})
    assert page.status_code == 403 and "no longer trusted" in page.text
    assert office_visit(web_office, visit_ref).state == "awaiting_host"


def test_approve_and_deny_links(web_office) -> None:
    kiosk = enrol(web_office)
    host = web_office.store.add_host(SITE, "Maria Schmidt")
    approved, denied = uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
    kiosk.visitor_waits(approved, host.ref, "Carol White")
    kiosk.visitor_waits(denied, host.ref, "Dan Brown")
    client = web_office.client()
    en = {"Accept-Language": "en"}

    ask = client.get(f"/l/{kiosk.link(LinkAction.APPROVE, approved)}", headers=en)
    assert "Approve this visitor?" in ask.text and "Maria Schmidt" in ask.text
    assert (
        client.post(f"/l/{kiosk.link(LinkAction.APPROVE, approved)}", headers=en).status_code == 200
    )
    page = client.post(f"/l/{kiosk.link(LinkAction.DENY, denied)}", headers=en)
    assert "Denied" in page.text

    assert office_visit(web_office, approved).state == "host_acknowledged"
    visit = office_visit(web_office, denied)
    assert visit.state == "denied" and visit.left_at == web_office.clock.now()
    assert [r["action"] for r in feed(web_office, "link_response")] == ["approve", "deny"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "确认：我这就过来"),
        ("zh-TW,zh;q=0.9", "確認：我這就過來"),
        ("en-US,en;q=0.9,zh;q=0.5", "Confirm: I'm on my way"),
        ("fr-FR", "确认：我这就过来"),  # the reception procedures' language by default
    ],
)
def test_the_page_speaks_the_readers_language(web_office, waiting, accept, expected) -> None:
    kiosk, visit_ref = waiting
    page = web_office.client().get(
        f"/l/{kiosk.link(LinkAction.ACKNOWLEDGE, visit_ref)}", headers={"Accept-Language": accept}
    )
    assert expected in page.text
    assert "张伟（Acme 公司）" in page.text or "张伟 (Acme 公司)" in page.text


def test_a_language_link_overrides_the_browser(web_office, waiting) -> None:
    kiosk, visit_ref = waiting
    token = kiosk.link(LinkAction.ACKNOWLEDGE, visit_ref)
    page = web_office.client().get(f"/l/{token}?lang=zh_Hant", headers={"Accept-Language": "en"})
    assert "確認：我這就過來" in page.text
    used = web_office.client().post(f"/l/{token}?lang=zh_Hant")
    assert "謝謝" in used.text


# ---------------------------------------------------------------- the office and the kiosk


def shared_clock(office: Office) -> ManualClock:
    """One clock for the office and its kiosks (Monday 10:00 at the site), so that a
    response time measured at the office means the same at the kiosk."""
    clock = ManualClock(MONDAY_10AM)
    office.store.clock = clock
    return clock


def walk_in(kiosk: Kiosk, host_ref: str, visitor_type: str = "visitor") -> str:
    result = kiosk.engine.check_in_walk_in(
        WalkIn(
            VisitorDetails("王芳", company="华为技术"),
            host_ref,
            purpose=Purpose.INQUIRY,
            visitor_type=visitor_type,
        ),
        Collected(photo_jpeg=JPEG),
    )
    assert result.visit_ref
    return result.visit_ref


class Recording:
    """A sender that records and answers as told (the kiosk's channel, up or down)."""

    def __init__(self, ok: bool) -> None:
        self.ok = ok
        self.sent: list[tuple[str, Message]] = []

    def send(self, url: str, message: Message) -> SendResult:
        self.sent.append((url, message))
        return SendResult(True) if self.ok else SendResult(False, "connection refused")


def test_a_link_used_at_the_office_reaches_the_kiosks_engine(
    office: Office, kiosks: KioskFactory
) -> None:
    host = office.store.add_host(SITE, "李娜", channels=["json://127.0.0.1:9/nowhere"])
    kiosk, client = kiosks.new(clock=shared_clock(office))
    client.run_once(force=True)
    channel = Recording(ok=True)
    notifier = build_notifier(kiosk, sender=channel)
    with kiosk.using():
        visit_ref = walk_in(kiosk, host.ref)
        notifier.tick()
    [link] = [
        line
        for _, message in channel.sent
        for line in message.body.splitlines()
        if line.startswith("我这就过来：")
    ]
    url = link.split("：", 1)[1]
    assert url.startswith(f"{office.url}/l/v2.")
    client.run_once(force=True)  # the visit reaches the office

    with httpx.Client() as browser:
        assert browser.get(url).status_code == 200
        with kiosk.using():
            assert host_response(visit_ref) is None
        kiosk.clock.advance(timedelta(seconds=25))
        answered = browser.post(url)
        assert answered.status_code == 200, answered.text
        assert browser.post(url).status_code == 410

    client.run_once(force=True)

    with kiosk.using():
        visit = Visit.get(Visit.ref == visit_ref)
        assert visit.state == VisitState.HOST_ACKNOWLEDGED
        response = host_response(visit_ref)
        assert response is not None
        assert response == ("acknowledged", "李娜", 25.0, "host")
        assert visit.host_acknowledged_at == MONDAY_10AM + timedelta(seconds=25)
        # The kiosk has the link as used too: it cannot also act here.
        from kiosk.notify import LinkRefused

        with pytest.raises(LinkRefused):
            notifier.redeem_link(url.rsplit("/", 1)[1])
    # Pulled again (a second round, a restart): nothing changes.
    client.run_once(force=True)
    with kiosk.using():
        assert (
            OutboxEvent.select().where(OutboxEvent.kind == "visit.host_acknowledged").count() == 1
        )


# ---------------------------------------------------------------- store and forward


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    with smtp_server(sender="office@tower.test") as box:
        yield box


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with webhook_server() as hook:
        yield hook


class PowerCut(BaseException):
    """The process dies: nothing after it runs."""


def forwarded_kiosk(
    office: Office, kiosks: KioskFactory, smtp: Mailbox, webhook: Webhook
) -> tuple[Kiosk, SyncClient, Recording, Any]:
    """A kiosk whose own channels are all down, its host's mail at the local SMTP server,
    and the site's security list at the webhook (at the office; the kiosk has the same)."""
    host = office.store.add_host(SITE, "李娜", channels=[smtp.url("li.na@tower.test")])
    with office.store.db.connection_context():
        site = office.store.site(SITE)
        settings = load_site_settings(site).model_copy(
            update={"security": [SecretStr(webhook.url("security"))]}
        )
        save_site_settings(site, settings, datetime.now(UTC))
    kiosk, client = kiosks.new(clock=shared_clock(office))
    notifications = kiosk.config.notifications.model_copy(
        update={"security": [SecretStr(webhook.url("security"))]}
    )
    kiosk = replace(kiosk, config=kiosk.config.model_copy(update={"notifications": notifications}))
    client.run_once(force=True)
    down = Recording(ok=False)
    return kiosk, client, down, host


def test_a_message_the_kiosk_cannot_send_goes_through_the_office_exactly_once(
    office: Office, kiosks: KioskFactory, smtp: Mailbox, webhook: Webhook
) -> None:
    kiosk, client, down, host = forwarded_kiosk(office, kiosks, smtp, webhook)
    notifier = build_notifier(kiosk, sender=down)
    with kiosk.using():
        visit_ref = walk_in(kiosk, host.ref)
        assert notifier.tick().failed == 1
        kiosk.clock.advance(timedelta(seconds=15))
        assert notifier.tick().forwarded == 1
        row = NotificationDelivery.get(NotificationDelivery.kind == "arrived")
        assert row.gave_up_at is not None and "forwarded" in row.last_error
        forward = NotificationForward.get(NotificationForward.delivery_id == row.id)
        event = OutboxEvent.get(OutboxEvent.event_id == forward.event_id)
        payload = json.loads(event.payload)
        assert smtp.url("li.na@tower.test") not in event.payload  # only its hash travels
        assert payload["channel_hash"] == channel_hash(smtp.url("li.na@tower.test"))
        assert payload["audience"] == f"host:{host.ref}"
        kiosk.clock.advance(timedelta(minutes=30))
        assert notifier.tick().sent == 0 and len(down.sent) == 2  # never directly again

    client.run_once(force=True)
    # The answer to the push was lost: the kiosk pushes the same events again.
    with kiosk.using():
        OutboxEvent.update(sent_at=None).execute()
    report = client.run_once(force=True)
    assert report.duplicates > 0 and report.pushed == 0

    office_notifier = OfficeNotifier(office.store)
    assert office_notifier.tick().sent == 1
    assert office_notifier.tick().sent == 0

    [mail] = smtp.messages
    assert "li.na@tower.test" in mail["To"]
    text = text_of(mail)
    assert str(make_header(decode_header(mail["Subject"]))) == "访客：王芳（华为技术）"
    assert "王芳（华为技术） 正在Riverside Tower Lobby kiosk等候，要见 李娜。" in text
    assert "到达时间：10:00" in text
    assert "来访事由：事务咨询" in text
    assert f"我这就过来：{office.url}/l/v2." in text
    assert [p.get_filename() for p in mail.walk() if p.get_filename()] == ["visitor.jpg"]
    with office.store.db.connection_context():
        [row] = ForwardedNotification.select()
        assert row.sent_at is not None and row.body == "" and row.attachments == "[]"
        stored = json.loads(Event.get(Event.kind == "notification.forward").payload)
        assert "body" not in stored and "attachments" not in stored
    assert visit_ref in text or "ref:" in text


def test_an_office_crash_between_send_and_record_resends_alerts_but_not_host_messages(
    office: Office,
    kiosks: KioskFactory,
    smtp: Mailbox,
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kiosk, client, down, host = forwarded_kiosk(office, kiosks, smtp, webhook)
    notifier = build_notifier(kiosk, sender=down)
    with kiosk.using():
        walk_in(kiosk, host.ref)
        kiosk.engine.record_device_problem("printer", "卡纸")
        notifier.tick()
        notifier.tick()  # the second channel's first try
        kiosk.clock.advance(timedelta(seconds=40))
        assert notifier.tick().forwarded == 2
    client.run_once(force=True)

    crashing = OfficeNotifier(office.store)

    def cut(row: Any) -> None:
        raise PowerCut

    monkeypatch.setattr(crashing, "_record_sent", cut)
    with pytest.raises(PowerCut):
        crashing.tick()
    with pytest.raises(PowerCut):
        crashing.tick()
    assert len(smtp.messages) == 1 and len(webhook.posts) == 1  # both channels took theirs

    restarted = OfficeNotifier(office.store)
    assert restarted.tick().in_doubt == 0  # too soon to tell a crash from a send under way
    kiosk.clock.advance(timedelta(minutes=5))
    report = restarted.tick()
    assert report.in_doubt == 2 and report.sent == 1
    assert restarted.tick().sent == 0
    assert len(smtp.messages) == 1  # the host's message: at most once
    assert len(webhook.posts) == 2  # the device problem: at least once
    assert webhook.posts[0]["message"] == webhook.posts[1]["message"]
    assert "打印机" in webhook.posts[0]["title"] and "卡纸" in webhook.posts[0]["message"]
    with office.store.db.connection_context():
        host_row = ForwardedNotification.get(ForwardedNotification.kind == "arrived")
        assert host_row.sent_at is None and "not resent" in host_row.last_error


def test_the_office_refuses_a_forward_it_could_not_send(
    office: Office, kiosks: KioskFactory
) -> None:
    from kiosk.office.models import Kiosk as OfficeKiosk

    kiosk, _client = kiosks.new()
    with office.store.db.connection_context():
        enrolled = OfficeKiosk.get(OfficeKiosk.kiosk_id == kiosk.kiosk_id)
        good = {
            "delivery": "abc", "kind": "arrived", "audience": "reception",
            "channel_hash": "0" * 24, "title": "t", "body": "b", "attachments": [],
        }  # fmt: skip
        bad = [
            {**good, "channel_hash": "mailto://user:password@smtp.example"},
            {**good, "kind": "spam"},
            {**good, "audience": "everyone"},
            {**good, "attachments": [{"name": "x", "mimetype": "image/jpeg", "content": "%%%"}]},
        ]
        events = [
            {
                "event_id": uuid.uuid4().hex, "seq": number + 1, "kind": "notification.forward",
                "subject_ref": "", "occurred_at": datetime.now(UTC).isoformat(),
                "payload": payload,
            }
            for number, payload in enumerate([good, *bad])
        ]  # fmt: skip
        report = office.store.ingest(enrolled, events)
    status = {result.event_id: result.status for result in report.results}
    assert [status[e["event_id"]] for e in events] == ["stored"] + ["rejected"] * 4
    # Nobody at the office has that hash: given up with the reason, nothing sent.
    result = OfficeNotifier(office.store, sender=Recording(ok=True)).tick()
    assert (result.sent, result.dropped) == (0, 1)


# ---------------------------------------------------------------- a text message's short link


def test_a_short_link_shows_and_does_what_its_full_link_does(web_office, waiting) -> None:
    """kiosk.notify.short_links: the kiosk's `link.short` event names the full link."""
    kiosk, visit_ref = waiting
    token = kiosk.link(LinkAction.ACKNOWLEDGE, visit_ref)
    client = web_office.client()
    code = "Ab3dE6gH9k"
    assert client.get(f"/s/{code}").status_code == 409  # not heard of yet: the next sync
    assert client.get("/s/not-a-code").status_code == 404
    stored = kiosk.send("link.short", {"code": code, "token": token}, code)
    assert [r.status for r in stored.results] == ["stored"]
    assert kiosk.send("link.short", {"code": code, "token": token}, "other").results[0].status == (
        "rejected"
    )

    page = client.get(f"/s/{code}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Confirm: I'm on my way" in page.text
    assert f'action="/l/{token}?lang=en"' in page.text
    assert office_visit(web_office, visit_ref).state == "awaiting_host"
    done = client.post(f"/s/{code}", headers={"Accept-Language": "en"})
    assert done.status_code == 200
    assert office_visit(web_office, visit_ref).state == "host_acknowledged"
    assert client.post(f"/s/{code}").status_code == 410  # once only, as the full link
