"""Invitation e-mails: composing them and sending them, with retries, from the office.

Each appointment with an e-mail address has one `InvitationMail` row: it is queued in the
booking's own transaction, and sent afterwards, so a slow or absent mail server never blocks
or fails a booking. `InvitationMailer.send_due()` sends what is waiting (the page calls it
right after a booking; `kiosk office send-invitations` and the nightly job retry the rest).

- The invitation is signed at sending time with the site's key (`OfficeStore.invite`, which
  never lets the key leave the office). Its token id was fixed at booking, so the signed code
  is the one kiosks already know, and a cancellation revokes it even if no mail went out.
- A mail accepted by the SMTP server is never sent again unless a person asks (`resend`).
- A failure is retried with exponential backoff; a refusal that cannot change (5xx for the
  address or the content), an appointment that is over, or too many attempts end it.
- Several office processes may run the sender at once: a row is claimed by one conditional
  update before sending, so each mail goes out once. A claim whose sender died mid-send is
  in doubt (the server may have accepted the mail): it is not retried on its own, but shown
  as failed, for a person to resend.

No web imports: the CLI uses this too.
"""

from __future__ import annotations

import io
import logging
import smtplib
import socket
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse
from zoneinfo import ZoneInfo

import segno
from jinja2 import Environment, FileSystemLoader

from kiosk.domain.errors import InvalidInput, KioskError, NotFound
from kiosk.domain.tokens import decode, parse
from kiosk.domain.values import Purpose
from kiosk.office.models import InvitationMail, OfficeAppointment, OfficeHost, Site
from kiosk.office.settings import OfficeSettings, SiteSettings, load_site_settings
from kiosk.office.store import OfficeStore

log = logging.getLogger(__name__)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
MAX_ATTEMPTS = 12
#: How long a claimed mail is left to its sender before another may take it over.
CLAIM_LEASE = timedelta(minutes=5)
SMTP_TIMEOUT = 20.0
# The HTML part lives with the appointment pages' templates, where it is edited alike.
MAIL_TEMPLATES = Path(__file__).parent / "web" / "templates"
MAIL_TEMPLATE = "appointment_invitation_email.html"

PENDING, SENDING, SENT, FAILED, GIVEN_UP, CANCELLED = (
    "pending", "sending", "sent", "failed", "given_up", "cancelled",
)  # fmt: skip
WAITING = (PENDING, FAILED)
IN_DOUBT = (
    "the office stopped while sending this invitation: it may have gone out. "
    "Resend it if the visitor has not received it."
)

_WEEKDAYS_ZH = "一二三四五六日"
PURPOSE_LABELS = {
    Purpose.VISIT_PERSON: ("Visit", "拜访"),
    Purpose.INQUIRY: ("Inquiry", "事务咨询"),
    Purpose.ERRAND: ("Business", "办事"),
    Purpose.ASSISTANCE: ("Assistance", "事务求助"),
    Purpose.PAID_SERVICE: ("Paid service", "有偿服务"),
    Purpose.SUGGESTION: ("Suggestion", "建议与意见"),
    Purpose.COMPLAINT: ("Complaint", "投诉"),
    Purpose.REPAIR: ("Repair", "报修"),
    Purpose.MOVE_IN: ("Move-in", "入伙"),
    Purpose.TOUR: ("Tour", "参观"),
    Purpose.DELIVERY: ("Delivery", "送货/来函"),
    Purpose.INTERVIEW: ("Interview", "面试"),
}


class PermanentFailure(KioskError):
    """The mail cannot go out as it is: retrying would only repeat the refusal."""


# ---------------------------------------------------------------- the SMTP server


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes, from OfficeSettings.smtp_url:
    smtp://user:password@host:port (plain, port 25), ?starttls=1 to upgrade (port 587),
    smtps://... for TLS from the first byte (port 465)."""

    host: str
    port: int
    username: str = ""
    password: str = ""
    implicit_tls: bool = False
    starttls: bool = False

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        if not url:
            raise ValueError("no SMTP server is configured (KIOSK_OFFICE_SMTP_URL)")
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
            raise ValueError("the SMTP URL must look like smtp://user:password@host:port")
        query = parse_qs(parsed.query)
        starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
        implicit = parsed.scheme == "smtps"
        return cls(
            host=parsed.hostname,
            port=parsed.port or (465 if implicit else 587 if starttls else 25),
            username=unquote(parsed.username or ""),
            password=unquote(parsed.password or ""),
            implicit_tls=implicit,
            starttls=starttls and not implicit,
        )

    def send(self, message: EmailMessage, timeout: float = SMTP_TIMEOUT) -> None:
        context = ssl.create_default_context()
        connection: smtplib.SMTP
        if self.implicit_tls:
            connection = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=context)
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=timeout)
        with connection:
            if self.starttls:
                connection.starttls(context=context)
            if self.username:
                connection.login(self.username, self.password)
            connection.send_message(message)


def _is_permanent(err: Exception) -> bool:
    """A 5xx answer about the address or the content will be the same next time. Other
    failures (no connection, a timeout, 4xx, a refused login) may pass: retry them."""
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in err.recipients.values())
    if isinstance(err, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return err.smtp_code >= 500
    return isinstance(err, PermanentFailure)


# ---------------------------------------------------------------- the message


@dataclass(frozen=True)
class InvitationContent:
    """What an invitation says. Times are aware; `zone` is the site's."""

    site_name: str
    visitor_name: str
    visitor_email: str
    host_name: str
    starts_at: datetime
    ends_at: datetime
    valid_from: datetime
    valid_until: datetime
    zone: str
    address: str
    what_to_bring: str
    purpose: str
    token: str
    appointment_ref: str


def invitation_qr_png(token: str, scale: int = 8) -> bytes:
    """The code as the kiosk prints and expects it (segno, level M, no boosting, no micro
    QR: kiosk.devices.render.qr_image), with the standard 4-module quiet zone."""
    qr = segno.make(token, error="m", micro=False, boost_error=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def invitation_ics(content: InvitationContent, *, organizer: str, now: datetime) -> bytes:
    """A calendar entry for the visit. Its UID is the appointment's, so a resent invitation
    updates the entry instead of adding a second one."""
    from icalendar import Calendar, Event, vCalAddress, vText

    calendar = Calendar()
    calendar.add("prodid", "-//Lobby kiosk office//invitation//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{content.appointment_ref}@lobby-kiosk")
    event.add("dtstamp", now)
    event.add("dtstart", content.starts_at)
    event.add("dtend", content.ends_at)
    event.add("summary", f"Visit to {content.host_name}, {content.site_name} · 来访")
    if content.address:
        event.add("location", content.address)
    event.add(
        "description",
        f"Host / 接待人: {content.host_name}\n"
        f"What to bring / 请携带: {content.what_to_bring}\n"
        "Show the QR code from the invitation e-mail at the kiosk in the lobby.\n"
        "请在大堂访客机出示邀请邮件中的二维码。",
    )
    sender = vCalAddress(f"mailto:{organizer}")
    sender.params["cn"] = vText(content.site_name)
    event.add("organizer", sender)
    event.add("status", "CONFIRMED")
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def _when_en(content: InvitationContent) -> str:
    zone = ZoneInfo(content.zone)
    start, end = content.starts_at.astimezone(zone), content.ends_at.astimezone(zone)
    offset = start.strftime("%z")
    return (
        f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M}–{end:%H:%M} "
        f"({content.zone}, UTC{offset[:3]}:{offset[3:]})"
    )


def _when_zh(content: InvitationContent) -> str:
    zone = ZoneInfo(content.zone)
    start, end = content.starts_at.astimezone(zone), content.ends_at.astimezone(zone)
    return (
        f"{start.year}年{start.month}月{start.day}日 星期{_WEEKDAYS_ZH[start.weekday()]} "
        f"{start:%H:%M}–{end:%H:%M}（{content.zone}）"
    )


def _validity(content: InvitationContent) -> tuple[str, str]:
    zone = ZoneInfo(content.zone)
    begin, until = content.valid_from.astimezone(zone), content.valid_until.astimezone(zone)
    return f"{begin:%H:%M}", f"{until:%H:%M}"


def _plain_text(content: InvitationContent) -> str:
    english_purpose, chinese_purpose = PURPOSE_LABELS.get(
        Purpose(content.purpose), (content.purpose, content.purpose)
    )
    begin, until = _validity(content)
    address = content.address or "(ask reception)"
    return f"""Dear {content.visitor_name},

you are expected at {content.site_name}.

When:          {_when_en(content)}
Host:          {content.host_name}
Purpose:       {english_purpose}
Address:       {address}
What to bring: {content.what_to_bring}

At the kiosk in the lobby, show the QR code attached to this e-mail (invitation-qr.png).
It is valid from {begin} to {until} on the day of your visit and admits one person once.
Please do not forward it.

----------------------------------------------------------------

{content.visitor_name}，您好！

诚邀您到访{content.site_name}。

时间：{_when_zh(content)}
接待人：{content.host_name}
来访事由：{chinese_purpose}
地址：{content.address or "（请咨询前台）"}
请携带：{content.what_to_bring}

到达大堂后，请在访客机上出示本邮件附带的二维码（invitation-qr.png）。
二维码在来访当天 {begin} 至 {until} 有效，仅限本人使用一次，请勿转发。
"""


def _html(content: InvitationContent, qr_src: str) -> str:
    english_purpose, chinese_purpose = PURPOSE_LABELS.get(
        Purpose(content.purpose), (content.purpose, content.purpose)
    )
    valid_from, valid_until = _validity(content)
    return (
        _mail_templates()
        .get_template(MAIL_TEMPLATE)
        .render(
            site=content.site_name,
            name=content.visitor_name,
            qr_src=qr_src,
            valid_from=valid_from,
            valid_until=valid_until,
            english=[
                ("When", _when_en(content)),
                ("Host", content.host_name),
                ("Purpose", english_purpose),
                ("Address", content.address or "(ask reception)"),
                ("What to bring", content.what_to_bring),
            ],
            chinese=[
                ("时间", _when_zh(content)),
                ("接待人", content.host_name),
                ("来访事由", chinese_purpose),
                ("地址", content.address or "（请咨询前台）"),
                ("请携带", content.what_to_bring),
            ],
        )
    )


@cache
def _mail_templates() -> Environment:
    # Its own autoescaping environment: the mail needs none of the pages' machinery.
    return Environment(
        loader=FileSystemLoader(MAIL_TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def compose_invitation(content: InvitationContent, *, sender: str, now: datetime) -> EmailMessage:
    """A MIME invitation: plain text and HTML (with the QR code inline), the QR code as a PNG
    attachment and the visit as an .ics file. English and Chinese in the one mail."""
    message = EmailMessage()
    zone = ZoneInfo(content.zone)
    start = content.starts_at.astimezone(zone)
    message["Subject"] = (
        f"Your visit to {content.site_name}, {start:%Y-%m-%d %H:%M} · "
        f"来访邀请 {start.month}月{start.day}日 {start:%H:%M}"
    )
    message["From"] = Address(content.site_name, addr_spec=sender)
    try:
        message["To"] = Address(content.visitor_name, addr_spec=content.visitor_email)
    except (ValueError, IndexError) as err:
        raise PermanentFailure(f"the address {content.visitor_email!r} is unusable") from err
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("invitation", domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    png = invitation_qr_png(content.token)
    qr_cid = make_msgid("qr", domain=sender.rpartition("@")[2] or None)
    message.set_content(_plain_text(content))
    message.add_alternative(_html(content, "cid:" + qr_cid[1:-1]), subtype="html")
    html_part = message.get_payload()[1]  # type: ignore[index]
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(png, "image", "png", cid=qr_cid, filename="qr.png")
    message.add_attachment(png, "image", "png", filename="invitation-qr.png")
    message.add_attachment(
        invitation_ics(content, organizer=sender, now=now).decode("utf-8"),
        subtype="calendar",
        charset="utf-8",
        filename="invitation.ics",
        params={"method": "PUBLISH"},
    )
    return message


# ---------------------------------------------------------------- the queue


def queue_invitations(site: Site | int, appointment_ids: Iterable[int], now: datetime) -> None:
    """Queue the invitations of new appointments (inside the booking's transaction)."""
    rows = [
        {"appointment": appointment_id, "site": site, "status": PENDING, "requested_at": now,
         "next_attempt_at": now}
        for appointment_id in appointment_ids
    ]  # fmt: skip
    for start in range(0, len(rows), 500):
        InvitationMail.insert_many(rows[start : start + 500]).execute()


def queue_resend(appointment: OfficeAppointment, now: datetime) -> None:
    """A person asked for the invitation again: send it once more, whatever happened before."""
    if not appointment.email:
        raise InvalidInput("email", "the appointment has no e-mail address")
    if appointment.cancelled_at is not None:
        raise InvalidInput("appointment", "is cancelled")
    InvitationMail.insert(
        appointment=appointment, site=appointment.site_id, status=PENDING, attempts=0,
        requested_at=now, next_attempt_at=now, last_error="",
    ).on_conflict(
        conflict_target=[InvitationMail.appointment],
        update={InvitationMail.status: PENDING, InvitationMail.attempts: 0,
                InvitationMail.requested_at: now, InvitationMail.next_attempt_at: now,
                InvitationMail.last_error: ""},
    ).execute()  # fmt: skip


def cancel_invitations(appointment_ids: Iterable[int]) -> None:
    """Mails of cancelled appointments that have not gone out yet never will."""
    ids = list(appointment_ids)
    for start in range(0, len(ids), 500):
        InvitationMail.update(status=CANCELLED, next_attempt_at=None).where(
            InvitationMail.appointment.in_(ids[start : start + 500])
            & InvitationMail.status.in_(WAITING)
        ).execute()


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes after the n-th failure, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    given_up: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.failed} to retry, {self.given_up} given up, "
            f"{self.cancelled} cancelled"
        )


class InvitationMailer:
    def __init__(
        self, store: OfficeStore, settings: OfficeSettings, *, timeout: float = SMTP_TIMEOUT
    ) -> None:
        self.store = store
        self.settings = settings
        self.timeout = timeout

    def send_due(self, *, only: Iterable[int] | None = None, limit: int = 200) -> SendReport:
        """Send the invitations that are due (those of `only`, appointment ids, if given)."""
        report = SendReport()
        now = self.store.clock.now()
        with self.store.db.connection_context():
            report.given_up += (
                InvitationMail.update(status=GIVEN_UP, next_attempt_at=None, last_error=IN_DOUBT)
                .where((InvitationMail.status == SENDING) & (InvitationMail.next_attempt_at <= now))
                .execute()
            )
            query = (
                InvitationMail.select(InvitationMail.id)
                .where(InvitationMail.status.in_(WAITING) & (InvitationMail.next_attempt_at <= now))
                .order_by(InvitationMail.next_attempt_at)
                .limit(limit)
            )
            if only is not None:
                query = query.where(InvitationMail.appointment.in_(list(only)))
            due = [row.id for row in query]
        for mail_id in due:
            self._send_one(mail_id, report)
        return report

    def run(self, stop: threading.Event, interval: float = 30.0) -> None:
        """Send what is due until `stop` is set; a failing round is logged, never fatal."""
        while not stop.is_set():
            try:
                report = self.send_due()
                if report.sent or report.failed or report.given_up:
                    log.info("invitation e-mails: %s", report)
            except Exception:
                log.exception("invitation e-mails: the round failed; trying again later")
            stop.wait(interval)

    def _claim(self, mail_id: int, now: datetime) -> bool:
        """Take the mail for this sender; False if another took it first."""
        claimed = (
            InvitationMail.update(status=SENDING, next_attempt_at=now + CLAIM_LEASE)
            .where(
                (InvitationMail.id == mail_id)
                & InvitationMail.status.in_(WAITING)
                & (InvitationMail.next_attempt_at <= now)
            )
            .execute()
        )
        return bool(claimed)

    def _send_one(self, mail_id: int, report: SendReport) -> None:
        now = self.store.clock.now()
        with self.store.db.connection_context():
            if not self._claim(mail_id, now):
                return
            mail = InvitationMail.get_by_id(mail_id)
            appointment = OfficeAppointment.get_by_id(mail.appointment_id)
            attempts = mail.attempts + 1
            if appointment.cancelled_at is not None or not appointment.email:
                self._finish(mail_id, CANCELLED, attempts - 1, "")
                report.cancelled += 1
                return
            if appointment.ends_at <= now:
                self._finish(
                    mail_id, GIVEN_UP, attempts - 1, mail.last_error or "the visit is over"
                )
                report.given_up += 1
                return
            try:
                message = self.compose(appointment, now)
                SmtpServer.from_url(self.settings.smtp_url).send(message, self.timeout)
            except (OSError, smtplib.SMTPException, ValueError, KioskError) as err:
                # The server's answer may quote the address: the visitor's details stay in
                # the appointment, which retention anonymises, not in this row.
                error = _describe(err).replace(appointment.email, "<visitor>")
                report.errors.append(f"{appointment.ref}: {error}")
                if _is_permanent(err) or attempts >= MAX_ATTEMPTS:
                    self._finish(mail_id, GIVEN_UP, attempts, error)
                    report.given_up += 1
                else:
                    self._finish(mail_id, FAILED, attempts, error, now + retry_delay(attempts))
                    report.failed += 1
                return
            InvitationMail.update(
                status=SENT, attempts=attempts, sent_at=self.store.clock.now(),
                next_attempt_at=None, last_error="",
            ).where(InvitationMail.id == mail_id).execute()  # fmt: skip
            report.sent += 1

    @staticmethod
    def _finish(
        mail_id: int, status: str, attempts: int, error: str, retry_at: datetime | None = None
    ) -> None:
        InvitationMail.update(
            status=status, attempts=attempts, last_error=error[:500], next_attempt_at=retry_at
        ).where(InvitationMail.id == mail_id).execute()

    def compose(self, appointment: OfficeAppointment, now: datetime) -> EmailMessage:
        """The invitation e-mail of an appointment, its code signed now (same token id)."""
        site = Site.get_by_id(appointment.site_id)
        settings: SiteSettings = load_site_settings(site)
        host = OfficeHost.get_or_none(OfficeHost.ref == appointment.host_ref)
        try:
            token = self.store.invite(appointment.ref, reuse_token=True)
        except NotFound as err:
            raise PermanentFailure(str(err)) from err
        claims, _body, _signature = parse(decode(token))
        content = InvitationContent(
            site_name=site.name,
            visitor_name=appointment.visitor_name,
            visitor_email=appointment.email,
            host_name=host.name if host else "",
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            valid_from=claims.not_before,
            valid_until=claims.not_after,
            zone=settings.timezone,
            address=settings.address,
            what_to_bring=settings.what_to_bring,
            purpose=appointment.purpose,
            token=token,
            appointment_ref=appointment.ref,
        )
        return compose_invitation(content, sender=self.settings.mail_from, now=now)


def mail_status_by_appointment(appointment_ids: list[int]) -> dict[int, InvitationMail]:
    found: dict[int, InvitationMail] = {}
    for start in range(0, len(appointment_ids), 500):
        query = InvitationMail.select().where(
            InvitationMail.appointment.in_(appointment_ids[start : start + 500])
        )
        found.update({mail.appointment_id: mail for mail in query})
    return found


def _describe(err: Exception) -> str:
    if isinstance(err, smtplib.SMTPResponseException):
        return f"SMTP {err.smtp_code}: {_text(err.smtp_error)}"
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        return "SMTP refused the recipient: " + "; ".join(
            f"{code} {_text(message)}" for code, message in err.recipients.values()
        )
    if isinstance(err, ConnectionRefusedError | socket.timeout | TimeoutError):
        return f"the mail server did not answer: {err}"
    return str(err) or type(err).__name__


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
