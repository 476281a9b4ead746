"""Invitation e-mails from the office, received by a real SMTP server (aiosmtpd) on loopback:
the content, the QR code read back from the PNG with zxing-cpp and verified with the site's
public key, a kiosk enrolled with the site admitting the visitor with it, retries while the
mail server is down, and no second mail unless a person asks. Then the cancellation notice:
sent only to a visitor whose invitation went out, withdrawing its calendar entry, retried
like an invitation."""

from __future__ import annotations

import email
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from conftest import SITE, KioskFactory, Office
from icalendar import Calendar
from local_servers import free_port
from PIL import Image
from tests_support import MONDAY_10AM

from kiosk.domain.clock import ManualClock
from kiosk.domain.tokens import KeyRing, TokenKind, TokenVerifier
from kiosk.office.bookings import Booking, Bookings, Recurrence
from kiosk.office.invitations import (
    MAX_ATTEMPTS,
    InvitationMailer,
    SmtpServer,
    retry_delay,
)
from kiosk.office.models import CancellationMail, ChangeLog, InvitationMail, SiteKey
from kiosk.office.settings import OfficeSettings, SiteSettings, save_site_settings
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore, open_office_database
from kiosk.services.checkin import Outcome

ADDRESS = "88 Century Avenue, Pudong, Shanghai · 上海市浦东新区世纪大道88号"
BRING = "A photo ID (passport or 身份证)."


@dataclass
class Mailbox:
    """What the SMTP server accepted. `refuse` makes it answer RCPT with that reply."""

    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: str = ""
    controller: Any = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def start(self, **options: Any) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    box.start()
    yield box
    box.stop()


def settings_for(box: Mailbox) -> OfficeSettings:
    return OfficeSettings(smtp_url=box.url, mail_from="reception@tower.test", cookie_secure=False)


# ---------------------------------------------------------------- reading a received mail


def part(message: Message, content_type: str, filename: str | None = None) -> Any:
    for item in message.walk():
        if item.get_content_type() == content_type and (
            filename is None or item.get_filename() == filename
        ):
            return item
    raise AssertionError(f"no {content_type} {filename or ''} part")


def qr_text(png: bytes) -> str:
    """The QR code in a PNG, read back as a phone or the kiosk's camera would."""
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    return found.text


def site_verifier(store: OfficeStore, at: Any) -> TokenVerifier:
    """A verifier that trusts only the site's public invitation key, as a kiosk does."""
    keys = KeyRing()
    with store.db.connection_context():
        key = SiteKey.get(SiteKey.kind == "invitation")
    keys.trust(TokenKind.INVITATION, bytes.fromhex(key.public_key))
    return TokenVerifier(keys, lambda: at)


def prepare_site(store: OfficeStore) -> tuple[Any, str]:
    site = store.site(SITE)
    with store.db.connection_context():
        save_site_settings(
            site,
            SiteSettings(timezone="Asia/Shanghai", address=ADDRESS, what_to_bring=BRING),
            store.clock.now(),
        )
    host = store.add_host(SITE, "李娜", email="li.na@tower.test", department="行政部")
    return site, host.ref


def book(store: OfficeStore, site: Any, host_ref: str, **fields: Any) -> list[Any]:
    bookings = Bookings(store, StaffDirectory(store.db, store.clock))
    details = {"visitor_name": "张伟", "email": "zhang.wei@example.cn", "company": "华为",
               "host_ref": host_ref, "starts_at": MONDAY_10AM, **fields}  # fmt: skip
    with store.db.connection_context():
        checked: Booking = bookings.check(site, **details)
        return bookings.book(site, "reception1", [checked])


# ---------------------------------------------------------------- the whole way


def test_the_invitation_mail_carries_a_qr_code_that_verifies_and_admits_at_a_kiosk(
    office: Office, kiosks: KioskFactory, mailbox: Mailbox
) -> None:
    office.store.clock = ManualClock(MONDAY_10AM - timedelta(days=1))
    site, host_ref = prepare_site(office.store)
    [appointment] = book(office.store, site, host_ref)

    report = InvitationMailer(office.store, settings_for(mailbox)).send_due()
    assert (report.sent, report.failed) == (1, 0), report.errors
    [message] = mailbox.messages
    assert mailbox.envelopes == [("reception@tower.test", ["zhang.wei@example.cn"])]

    # Headers: the visitor's name as typed, the site as sender.
    assert message["To"].addresses[0].display_name == "张伟"
    assert message["To"].addresses[0].addr_spec == "zhang.wei@example.cn"
    assert message["From"].addresses[0].addr_spec == "reception@tower.test"
    assert "Riverside Tower, 2026-11-23 10:00" in message["Subject"]
    assert "来访邀请 11月23日 10:00" in message["Subject"]
    assert message.get_content_type() == "multipart/mixed"

    # The plain text, in English and Chinese, with the time in the site's zone.
    text = part(message, "text/plain").get_content()
    for expected in (
        "Dear 张伟,",
        "Monday 23 November 2026, 10:00–11:00 (Asia/Shanghai, UTC+08:00)",
        "Host:          李娜",
        f"Address:       {ADDRESS}",
        f"What to bring: {BRING}",
        "valid from 08:00 to 14:00",
        "张伟，您好！",
        "2026年11月23日 星期一 10:00–11:00（Asia/Shanghai）",
        "接待人：李娜",
        f"请携带：{BRING}",
    ):
        assert expected in text, expected

    # The HTML shows the QR code inline, from a related image part.
    html = part(message, "text/html").get_content()
    assert "张伟" in html and "李娜" in html and "上海市浦东新区世纪大道88号" in html
    inline = part(message, "multipart/related")
    [image] = [p for p in inline.iter_parts() if p.get_content_type() == "image/png"]
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html

    # The attached PNG's code is the signed invitation, for this appointment and visitor.
    png = part(message, "image/png", "invitation-qr.png").get_content()
    assert png == image.get_content()
    token = qr_text(png)
    claims = site_verifier(office.store, MONDAY_10AM).verify(token, TokenKind.INVITATION)
    assert (claims.subject_ref, claims.host_ref, claims.visitor_name) == (
        appointment.ref, host_ref, "张伟",
    )  # fmt: skip
    with office.store.db.connection_context():
        assert claims.token_id == appointment.invitation_token_id

    # The calendar entry.
    calendar = Calendar.from_ical(part(message, "text/calendar", "invitation.ics").get_content())
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == MONDAY_10AM
    assert event.decoded("DTEND") == MONDAY_10AM + timedelta(hours=1)
    assert str(event["UID"]).startswith(appointment.ref)
    assert str(event["LOCATION"]) == ADDRESS

    with office.store.db.connection_context():
        mail = InvitationMail.get()
    assert (mail.status, mail.attempts, mail.last_error) == ("sent", 1, "")
    assert mail.sent_at == office.store.clock.now()

    # A kiosk of the site admits the visitor with the code from the mail.
    kiosk, client = kiosks.new()
    client.run_once()
    with kiosk.using():
        preview = kiosk.engine.preview_invitation(token)
        assert (preview.visitor_name, preview.host_name) == ("张伟", "李娜")
        assert kiosk.engine.check_in_with_invitation(token).outcome is Outcome.CHECKED_IN

    # Accepted once: never sent again on its own.
    office.store.clock.advance(timedelta(hours=2))
    assert InvitationMailer(office.store, settings_for(mailbox)).send_due().sent == 0
    assert len(mailbox.messages) == 1


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OfficeStore]:
    built = OfficeStore(
        open_office_database(str(tmp_path / "office.sqlite3")),
        clock=ManualClock(MONDAY_10AM - timedelta(days=1)),
    )
    yield built
    built.db.close()


def mail_row(store: OfficeStore) -> InvitationMail:
    with store.db.connection_context():
        return InvitationMail.get()


def test_while_the_mail_server_is_down_the_booking_stands_and_the_mail_is_retried(
    store: OfficeStore,
) -> None:
    clock = store.clock
    assert isinstance(clock, ManualClock)
    site, host_ref = prepare_site(store)
    [appointment] = book(store, site, host_ref)
    box = Mailbox(free_port())  # nothing listens on its port yet
    mailer = InvitationMailer(store, settings_for(box), timeout=5)

    first = mailer.send_due()
    assert (first.sent, first.failed) == (0, 1)
    row = mail_row(store)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "did not answer" in row.last_error or "refused" in row.last_error.lower()
    assert row.next_attempt_at == clock.now() + timedelta(minutes=1)
    with store.db.connection_context():
        assert store.invite(appointment.ref, reuse_token=True)  # the booking stands

    # Not due yet: nothing is tried.
    assert mailer.send_due().failed == 0
    assert mail_row(store).attempts == 1
    clock.advance(timedelta(minutes=1))
    assert mailer.send_due().failed == 1
    row = mail_row(store)
    assert row.attempts == 2 and row.next_attempt_at == clock.now() + timedelta(minutes=2)

    box.start()  # the server is back
    try:
        clock.advance(timedelta(minutes=2))
        assert mailer.send_due().sent == 1
        assert (mail_row(store).status, mail_row(store).attempts) == ("sent", 3)
        clock.advance(timedelta(hours=1))
        assert mailer.send_due().sent == 0
        assert len(box.messages) == 1
        token = qr_text(part(box.messages[0], "image/png", "invitation-qr.png").get_content())
        assert site_verifier(store, MONDAY_10AM).verify(token, TokenKind.INVITATION)
    finally:
        box.stop()


def test_the_backoff_doubles_up_to_an_hour_and_gives_up_after_the_last_attempt(
    store: OfficeStore,
) -> None:
    assert [retry_delay(n).total_seconds() / 60 for n in (1, 2, 3, 6, 7, 12)] == [
        1, 2, 4, 32, 60, 60,
    ]  # fmt: skip
    clock = store.clock
    assert isinstance(clock, ManualClock)
    site, host_ref = prepare_site(store)
    book(store, site, host_ref, starts_at=MONDAY_10AM + timedelta(days=7))
    mailer = InvitationMailer(store, OfficeSettings(smtp_url=f"smtp://127.0.0.1:{free_port()}"))
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = mailer.send_due()
        assert report.failed + report.given_up == 1, attempt
        clock.advance(retry_delay(attempt))
    row = mail_row(store)
    assert (row.status, row.attempts, row.next_attempt_at) == ("given_up", MAX_ATTEMPTS, None)
    assert mailer.send_due().failed == 0


def test_a_permanent_refusal_is_not_retried(store: OfficeStore, mailbox: Mailbox) -> None:
    site, host_ref = prepare_site(store)
    book(store, site, host_ref)
    mailbox.refuse = "550 5.1.1 <zhang.wei@example.cn>: no such mailbox"
    report = InvitationMailer(store, settings_for(mailbox)).send_due()
    assert report.given_up == 1
    row = mail_row(store)
    assert row.status == "given_up" and "550" in row.last_error and row.attempts == 1
    assert "zhang.wei" not in row.last_error  # the address stays in the appointment only


def test_no_smtp_server_configured_is_a_failure_to_retry_not_a_crash(store: OfficeStore) -> None:
    site, host_ref = prepare_site(store)
    book(store, site, host_ref)
    report = InvitationMailer(store, OfficeSettings(smtp_url="")).send_due()
    assert report.failed == 1
    assert "KIOSK_OFFICE_SMTP_URL" in mail_row(store).last_error


def test_a_visit_without_e_mail_queues_no_mail_and_a_cancelled_one_sends_none(
    store: OfficeStore, mailbox: Mailbox
) -> None:
    site, host_ref = prepare_site(store)
    book(store, site, host_ref, email="")
    with store.db.connection_context():
        assert InvitationMail.select().count() == 0
    [appointment] = book(store, site, host_ref, visitor_name="Anna Eriksson",
                         email="anna@example.se")  # fmt: skip
    bookings = Bookings(store, StaffDirectory(store.db, store.clock))
    with store.db.connection_context():
        bookings.cancel(site, "reception1", appointment.ref)
    assert InvitationMailer(store, settings_for(mailbox)).send_due().sent == 0
    assert mailbox.messages == [] and mail_row(store).status == "cancelled"


def test_resend_sends_the_same_code_again_and_changes_nothing_kiosks_know(
    store: OfficeStore, mailbox: Mailbox
) -> None:
    site, host_ref = prepare_site(store)
    [appointment] = book(store, site, host_ref)
    mailer = InvitationMailer(store, settings_for(mailbox))
    assert mailer.send_due().sent == 1
    with store.db.connection_context():
        feed_before = [(c.id, c.entity, c.ref) for c in ChangeLog.select()]
        Bookings(store, StaffDirectory(store.db, store.clock)).resend(
            site, "reception1", appointment.ref
        )
    assert mailer.send_due().sent == 1
    first, second = (
        qr_text(part(m, "image/png", "invitation-qr.png").get_content()) for m in mailbox.messages
    )
    assert first == second
    with store.db.connection_context():
        assert [(c.id, c.entity, c.ref) for c in ChangeLog.select()] == feed_before
    assert (mail_row(store).status, mail_row(store).attempts) == ("sent", 1)


def test_the_smtp_url_gives_the_server_the_credentials_and_the_tls_mode() -> None:
    plain = SmtpServer.from_url("smtp://mailer%40tower.test:p%3Ass@mail.tower.test")
    assert (plain.host, plain.port, plain.username, plain.password) == (
        "mail.tower.test", 25, "mailer@tower.test", "p:ss",
    )  # fmt: skip
    assert not plain.implicit_tls and not plain.starttls
    upgraded = SmtpServer.from_url("smtp://u:p@mail.tower.test?starttls=1")
    assert (upgraded.port, upgraded.starttls, upgraded.implicit_tls) == (587, True, False)
    implicit = SmtpServer.from_url("smtps://u:p@mail.tower.test")
    assert (implicit.port, implicit.implicit_tls, implicit.starttls) == (465, True, False)
    for wrong in ("", "http://mail.tower.test", "smtp://"):
        with pytest.raises(ValueError):
            SmtpServer.from_url(wrong)


def test_the_mailer_signs_in_to_the_smtp_server_with_the_url_credentials(
    store: OfficeStore,
) -> None:
    seen: list[tuple[str, str]] = []

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        seen.append((auth.login.decode(), auth.password.decode()))
        return AuthResult(success=auth.password == b"s3cret:pass")

    box = Mailbox(free_port())
    box.start(authenticator=authenticate, auth_require_tls=False)
    try:
        site, host_ref = prepare_site(store)
        book(store, site, host_ref)
        settings = OfficeSettings(
            smtp_url=f"smtp://mailer:s3cret%3Apass@127.0.0.1:{box.port}",
            mail_from="reception@tower.test",
        )
        assert InvitationMailer(store, settings).send_due().sent == 1
        assert seen == [("mailer", "s3cret:pass")] and len(box.messages) == 1
    finally:
        box.stop()


def test_a_mail_whose_sender_died_mid_send_is_left_for_a_person_not_resent(
    store: OfficeStore, mailbox: Mailbox
) -> None:
    """The server may have accepted it before the sender stopped: sending it again on its own
    could mail the visitor twice, so it waits for someone to press Resend."""
    clock = store.clock
    assert isinstance(clock, ManualClock)
    site, host_ref = prepare_site(store)
    book(store, site, host_ref)
    with store.db.connection_context():  # claimed by a sender that never came back
        InvitationMail.update(status="sending", next_attempt_at=clock.now()).execute()
    clock.advance(timedelta(minutes=5))
    report = InvitationMailer(store, settings_for(mailbox)).send_due()
    assert (report.sent, report.given_up) == (0, 1)
    row = mail_row(store)
    assert row.status == "given_up" and "may have gone out" in row.last_error
    assert mailbox.messages == []


def test_kiosk_office_send_invitations_sends_what_is_due(tmp_path: Path, mailbox: Mailbox) -> None:
    import os
    import subprocess
    import sys
    from datetime import UTC, datetime

    database = tmp_path / "office.sqlite3"
    built = OfficeStore(open_office_database(str(database)))  # the system clock, like the CLI
    site, host_ref = prepare_site(built)
    book(built, site, host_ref, starts_at=datetime.now(UTC) + timedelta(days=2))
    built.db.close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           "KIOSK_OFFICE_SMTP_URL": mailbox.url, "KIOSK_OFFICE_MAIL_FROM": "desk@tower.test"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "--json", "office", "send-invitations", "--once",
         "--db", str(database)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"sent": 1' in done.stdout
    [message] = mailbox.messages
    assert message["From"].addresses[0].addr_spec == "desk@tower.test"


# ---------------------------------------------------------------- cancellation notices


def bookings_of(store: OfficeStore) -> Bookings:
    return Bookings(store, StaffDirectory(store.db, store.clock))


def calendar_event(message: Message, filename: str) -> tuple[Any, Any]:
    """The calendar and its one VEVENT attached to a received mail as `filename`."""
    calendar = Calendar.from_ical(part(message, "text/calendar", filename).get_content())
    [event] = calendar.walk("VEVENT")
    return calendar, event


def notice_rows(store: OfficeStore) -> list[CancellationMail]:
    with store.db.connection_context():
        return list(CancellationMail.select().order_by(CancellationMail.id))


def test_cancelling_a_visit_after_its_invitation_went_out_mails_a_notice_that_withdraws_it(
    store: OfficeStore, mailbox: Mailbox
) -> None:
    site, host_ref = prepare_site(store)
    [appointment] = book(store, site, host_ref)
    mailer = InvitationMailer(store, settings_for(mailbox))
    assert mailer.send_due().sent == 1
    [invitation] = mailbox.messages
    _, invited = calendar_event(invitation, "invitation.ics")

    with store.db.connection_context():
        done = bookings_of(store).cancel(site, "reception1", appointment.ref)
    assert done.refs == [appointment.ref] and done.told == [appointment.id]
    assert mailer.send_due(only=done.told).sent == 1
    [_, notice] = mailbox.messages
    assert mailbox.envelopes[1] == ("reception@tower.test", ["zhang.wei@example.cn"])
    assert notice["To"].addresses[0].display_name == "张伟"
    # (Python's header folding may move a space next to the Chinese words: read without.)
    subject = "".join(str(notice["Subject"]).split())
    assert "Cancelled:yourvisittoRiversideTower,2026-11-2310:00" in subject
    assert "来访已取消11月23日10:00" in subject
    text = part(notice, "text/plain").get_content()
    for expected in (
        "your visit to Riverside Tower is cancelled.",
        "Monday 23 November 2026, 10:00–11:00 (Asia/Shanghai, UTC+08:00)",
        "您到访Riverside Tower的预约已取消。",
        "2026年11月23日 星期一 10:00–11:00（Asia/Shanghai）",
        "接待人：李娜",
    ):
        assert expected in text, expected
    html = part(notice, "text/html").get_content()
    assert "张伟" in html and "已取消" in html and "cancelled" in html
    # Nothing to show at the door: no code travels with a cancellation.
    assert not [p for p in notice.walk() if p.get_content_type() == "image/png"]

    # The calendar entry the invitation made is withdrawn: same UID, higher SEQUENCE.
    calendar, cancelled = calendar_event(notice, "cancellation.ics")
    assert part(notice, "text/calendar").get_param("method") == "CANCEL"
    assert str(calendar["METHOD"]) == "CANCEL" and str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["UID"]) == str(invited["UID"]) == f"{appointment.ref}@lobby-kiosk"
    assert int(cancelled["SEQUENCE"]) > int(invited.get("SEQUENCE", 0))
    assert cancelled.decoded("DTSTART") == MONDAY_10AM
    assert str(cancelled["ATTENDEE"]) == "mailto:zhang.wei@example.cn"

    [row] = notice_rows(store)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, store.clock.now())
    assert mail_row(store).status == "sent"  # the invitation's own record stands
    store.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert mailer.send_due().sent == 0 and len(mailbox.messages) == 2


def test_a_visit_cancelled_before_its_invitation_went_out_gets_no_mail_at_all(
    store: OfficeStore, mailbox: Mailbox
) -> None:
    site, host_ref = prepare_site(store)
    [appointment] = book(store, site, host_ref)
    with store.db.connection_context():
        done = bookings_of(store).cancel(site, "reception1", appointment.ref)
    assert done.told == []
    report = InvitationMailer(store, settings_for(mailbox)).send_due()
    assert (report.sent, report.failed) == (0, 0)
    assert mailbox.messages == [] and notice_rows(store) == []
    assert mail_row(store).status == "cancelled"


def test_a_notice_that_cannot_be_sent_is_retried_with_backoff_and_delivered_once(
    store: OfficeStore, mailbox: Mailbox
) -> None:
    clock = store.clock
    assert isinstance(clock, ManualClock)
    site, host_ref = prepare_site(store)
    [appointment] = book(store, site, host_ref)
    assert InvitationMailer(store, settings_for(mailbox)).send_due().sent == 1
    with store.db.connection_context():
        bookings_of(store).cancel(site, "reception1", appointment.ref)

    later = Mailbox(free_port())  # the mail server, down when the visit is cancelled
    mailer = InvitationMailer(store, settings_for(later), timeout=5)
    assert mailer.send_due().failed == 1
    [row] = notice_rows(store)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.next_attempt_at == clock.now() + retry_delay(1)
    with store.db.connection_context():
        [listed] = bookings_of(store).listing(site, start=clock.now())
    assert (listed.state, listed.mail_status) == ("cancelled", "sent")
    assert (listed.notice_status, listed.notice_attempts) == ("failed", 1)
    assert "did not answer" in listed.notice_error or "refused" in listed.notice_error.lower()

    assert mailer.send_due().failed == 0  # not due yet: nothing is tried
    clock.advance(retry_delay(1))
    assert mailer.send_due().failed == 1
    assert notice_rows(store)[0].next_attempt_at == clock.now() + retry_delay(2)

    later.start()  # the server is back
    try:
        clock.advance(retry_delay(2))
        assert mailer.send_due().sent == 1
        clock.advance(timedelta(hours=1))
        assert mailer.send_due().sent == 0
        [notice] = later.messages
        _, event = calendar_event(notice, "cancellation.ics")
        assert str(event["UID"]) == f"{appointment.ref}@lobby-kiosk"
    finally:
        later.stop()
    [row] = notice_rows(store)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")
    assert len(mailbox.messages) == 1  # the invitation only


def test_cancelling_a_series_tells_each_visitor_who_had_an_invitation(
    store: OfficeStore, mailbox: Mailbox
) -> None:
    """One notice per visit: each invitation made its own calendar entry, which only a
    cancellation with its own UID removes."""
    site, host_ref = prepare_site(store)
    bookings = bookings_of(store)
    with store.db.connection_context():
        first = bookings.check(site, visitor_name="张伟", email="zhang.wei@example.cn",
                               host_ref=host_ref, starts_at=MONDAY_10AM)  # fmt: skip
        made = bookings.book(site, "reception1", [first], recurrence=Recurrence("weekly", 3))
    mailer = InvitationMailer(store, settings_for(mailbox))
    # The third week's invitation has not gone out yet when the series is cancelled.
    assert mailer.send_due(only=[made[0].id, made[1].id]).sent == 2
    with store.db.connection_context():
        series_ref = bookings.listing(site, start=MONDAY_10AM)[0].series_ref
        done = bookings.cancel_series(site, "reception1", series_ref)
    assert done.refs == [a.ref for a in made]
    assert sorted(done.told) == sorted([made[0].id, made[1].id])
    assert mailer.send_due().sent == 2
    notices = mailbox.messages[2:]
    uids = {str(calendar_event(m, "cancellation.ics")[1]["UID"]) for m in notices}
    assert uids == {f"{made[0].ref}@lobby-kiosk", f"{made[1].ref}@lobby-kiosk"}
    assert len(mailbox.messages) == 4  # the third visitor's invitation never went out
    with store.db.connection_context():
        assert InvitationMail.get(InvitationMail.appointment == made[2].id).status == "cancelled"


def test_a_notice_waits_for_an_invitation_in_flight_and_is_dropped_if_it_never_went_out(
    store: OfficeStore, mailbox: Mailbox
) -> None:
    """Cancelled while another office process was sending the invitation: whether the
    visitor has it is known only when that sender is done."""
    clock = store.clock
    assert isinstance(clock, ManualClock)
    site, host_ref = prepare_site(store)
    [appointment] = book(store, site, host_ref)
    with store.db.connection_context():
        InvitationMail.update(  # claimed a moment ago: its lease has not run out
            status="sending", next_attempt_at=clock.now() + timedelta(minutes=5)
        ).execute()
        assert bookings_of(store).cancel(site, "reception1", appointment.ref).told
    mailer = InvitationMailer(store, settings_for(mailbox))
    assert mailer.send_due().sent == 0
    assert notice_rows(store)[0].status == "pending"  # looked at again in a minute
    with store.db.connection_context():  # that sender failed: the visitor never had it
        InvitationMail.update(
            status="failed", attempts=1, next_attempt_at=clock.now() + retry_delay(1)
        ).execute()
    clock.advance(timedelta(minutes=1))
    assert mailer.send_due().cancelled == 2  # the invitation, and the notice with it
    assert notice_rows(store)[0].status == "cancelled" and mailbox.messages == []
