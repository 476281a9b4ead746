"""E-mails to visitors: composing them and sending them, with retries, from the office.

Each appointment with an e-mail address has one `InvitationMail` row: it is queued in the
booking's own transaction, and sent afterwards, so a slow or absent mail server never blocks
or fails a booking. `InvitationMailer.send_due()` sends what is waiting (the page calls it
right after a booking; `kiosk office send-invitations` and the nightly job retry the rest).

A cancelled visit whose invitation had gone out gets a `CancellationMail` row, queued in the
cancellation's transaction and sent by the same machinery: a notice in both languages whose
.ics (METHOD:CANCEL, the invitation's UID, a higher SEQUENCE) removes the visit from the
visitor's calendar. A visitor who never received an invitation is not told of its end.

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
from kiosk.office.models import (
    CancellationMail,
    InvitationMail,
    OfficeAppointment,
    OfficeHost,
    Site,
    VisitorMail,
)
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
CANCELLATION_TEMPLATE = "appointment_cancellation_email.html"

PENDING, SENDING, SENT, FAILED, GIVEN_UP, CANCELLED = (
    "pending", "sending", "sent", "failed", "given_up", "cancelled",
)  # fmt: skip
WAITING = (PENDING, FAILED)
IN_DOUBT = (
    "the office stopped while sending this invitation: it may have gone out. "
    "Resend it if the visitor has not received it."
)
NOTICE_IN_DOUBT = "the office stopped while sending this notice: it may have gone out."
#: The kinds of mail, in the order a round sends them.
QUEUES: tuple[type[VisitorMail], ...] = (InvitationMail, CancellationMail)

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
    Purpose.WORKS: ("Works", "施工"),
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


@dataclass(frozen=True, kw_only=True)
class VisitContent:
    """What a mail to a visitor says of their visit. Times are aware; `zone` is the site's;
    `sequence` is the appointment's calendar_sequence, the SEQUENCE of the mail's .ics."""

    site_name: str
    visitor_name: str
    visitor_email: str
    host_name: str
    starts_at: datetime
    ends_at: datetime
    zone: str
    address: str
    appointment_ref: str
    sequence: int = 0


@dataclass(frozen=True, kw_only=True)
class InvitationContent(VisitContent):
    """What an invitation says besides: the code, when it admits, what to bring."""

    valid_from: datetime
    valid_until: datetime
    what_to_bring: str
    purpose: str
    token: str


def invitation_qr_png(token: str, scale: int = 8) -> bytes:
    """The code as the kiosk prints and expects it (segno, level M, no boosting, no micro
    QR: kiosk.devices.render.qr_image), with the standard 4-module quiet zone."""
    qr = segno.make(token, error="m", micro=False, boost_error=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def calendar_uid(appointment_ref: str) -> str:
    """The UID of a visit's calendar entry: the same in every mail about the visit, so a
    resent invitation updates the entry and a cancellation removes it."""
    return f"{appointment_ref}@lobby-kiosk"


def invitation_ics(content: InvitationContent, *, organizer: str, now: datetime) -> bytes:
    """A calendar entry for the visit."""
    return _visit_ics(
        content, organizer=organizer, now=now, method="PUBLISH", status="CONFIRMED",
        description=(
            f"Host / 接待人: {content.host_name}\n"
            f"What to bring / 请携带: {content.what_to_bring}\n"
            "Show the QR code from the invitation e-mail at the kiosk in the lobby.\n"
            "请在大堂访客机出示邀请邮件中的二维码。"
        ),
    )  # fmt: skip


def cancellation_ics(content: VisitContent, *, organizer: str, now: datetime) -> bytes:
    """The withdrawal of the visit's calendar entry (RFC 5546 CANCEL): the invitation's UID,
    a higher SEQUENCE, and the visitor as the attendee no longer expected."""
    return _visit_ics(
        content, organizer=organizer, now=now, method="CANCEL", status="CANCELLED",
        description=f"Cancelled / 已取消. Host / 接待人: {content.host_name}",
        attendee=True,
    )  # fmt: skip


def _visit_ics(
    content: VisitContent,
    *,
    organizer: str,
    now: datetime,
    method: str,
    status: str,
    description: str,
    attendee: bool = False,
) -> bytes:
    from icalendar import Calendar, Event, vCalAddress, vText

    calendar = Calendar()
    calendar.add("prodid", "-//Lobby kiosk office//invitation//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", calendar_uid(content.appointment_ref))
    event.add("sequence", content.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", content.starts_at)
    event.add("dtend", content.ends_at)
    event.add("summary", f"Visit to {content.host_name}, {content.site_name} · 来访")
    if content.address:
        event.add("location", content.address)
    event.add("description", description)
    sender = vCalAddress(f"mailto:{organizer}")
    sender.params["cn"] = vText(content.site_name)
    event.add("organizer", sender)
    if attendee:
        visitor = vCalAddress(f"mailto:{content.visitor_email}")
        visitor.params["cn"] = vText(content.visitor_name)
        event.add("attendee", visitor)
    event.add("status", status)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def _when_en(content: VisitContent) -> str:
    zone = ZoneInfo(content.zone)
    start, end = content.starts_at.astimezone(zone), content.ends_at.astimezone(zone)
    offset = start.strftime("%z")
    return (
        f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M}–{end:%H:%M} "
        f"({content.zone}, UTC{offset[:3]}:{offset[3:]})"
    )


def _when_zh(content: VisitContent) -> str:
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


def _addressed(
    content: VisitContent, *, sender: str, now: datetime, subject: str, kind: str
) -> EmailMessage:
    """A new mail from the site to the visitor, with its headers."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = Address(content.site_name, addr_spec=sender)
    try:
        message["To"] = Address(content.visitor_name, addr_spec=content.visitor_email)
    except (ValueError, IndexError) as err:
        raise PermanentFailure(f"the address {content.visitor_email!r} is unusable") from err
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(kind, domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    return message


def compose_invitation(content: InvitationContent, *, sender: str, now: datetime) -> EmailMessage:
    """A MIME invitation: plain text and HTML (with the QR code inline), the QR code as a PNG
    attachment and the visit as an .ics file. English and Chinese in the one mail."""
    start = content.starts_at.astimezone(ZoneInfo(content.zone))
    message = _addressed(
        content, sender=sender, now=now, kind="invitation",
        subject=f"Your visit to {content.site_name}, {start:%Y-%m-%d %H:%M} · "
        f"来访邀请 {start.month}月{start.day}日 {start:%H:%M}",
    )  # fmt: skip
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


def _cancellation_text(content: VisitContent) -> str:
    return f"""Dear {content.visitor_name},

your visit to {content.site_name} is cancelled.

When:  {_when_en(content)}
Host:  {content.host_name}

The invitation and its QR code are no longer valid. The attached calendar file
(cancellation.ics) removes the visit from your calendar. If you still wish to come,
please ask {content.host_name or "your host"} to book a new visit.

----------------------------------------------------------------

{content.visitor_name}，您好！

您到访{content.site_name}的预约已取消。

时间：{_when_zh(content)}
接待人：{content.host_name}

邀请及其二维码已失效。附带的日历文件（cancellation.ics）会将此次来访从您的日历中删除。
如仍需来访，请联系接待人重新预约。
"""


def compose_cancellation(content: VisitContent, *, sender: str, now: datetime) -> EmailMessage:
    """A MIME cancellation notice: plain text and HTML, English and Chinese, and an .ics
    that withdraws the invitation's calendar entry."""
    start = content.starts_at.astimezone(ZoneInfo(content.zone))
    message = _addressed(
        content, sender=sender, now=now, kind="cancellation",
        subject=f"Cancelled: your visit to {content.site_name}, {start:%Y-%m-%d %H:%M} · "
        f"来访已取消 {start.month}月{start.day}日 {start:%H:%M}",
    )  # fmt: skip
    message.set_content(_cancellation_text(content))
    message.add_alternative(
        _mail_templates()
        .get_template(CANCELLATION_TEMPLATE)
        .render(
            site=content.site_name,
            name=content.visitor_name,
            english=[("When", _when_en(content)), ("Host", content.host_name)],
            chinese=[("时间", _when_zh(content)), ("接待人", content.host_name)],
        ),
        subtype="html",
    )
    message.add_attachment(
        cancellation_ics(content, organizer=sender, now=now).decode("utf-8"),
        subtype="calendar",
        charset="utf-8",
        filename="cancellation.ics",
        params={"method": "CANCEL"},
    )
    return message


# ---------------------------------------------------------------- the queue


def queue_invitations(site: Site | int, appointment_ids: Iterable[int], now: datetime) -> None:
    """Queue the invitations of new appointments (inside the booking's transaction)."""
    _queue(InvitationMail, site, list(appointment_ids), now)


def queue_cancellation_notices(
    site: Site | int, appointment_ids: Iterable[int], now: datetime
) -> list[int]:
    """Queue the notices of cancelled appointments (inside the cancellation's transaction),
    for those whose invitation went out or may have. Returns their appointment ids."""
    ids = list(appointment_ids)
    told: list[int] = []
    for start in range(0, len(ids), 500):
        query = InvitationMail.select().where(
            InvitationMail.appointment.in_(ids[start : start + 500])
        )
        told.extend(mail.appointment_id for mail in query if _may_have_reached(mail))
    _queue(CancellationMail, site, told, now)
    return told


def _may_have_reached(invitation: InvitationMail) -> bool:
    """Whether the visitor may hold this invitation: the mail server accepted it once (a
    resend waiting keeps that time), or a sender has it now, or one stopped mid-send."""
    return (
        invitation.sent_at is not None
        or invitation.status == SENDING
        or (invitation.status == GIVEN_UP and invitation.last_error == IN_DOUBT)
    )


def _queue(kind: type[VisitorMail], site: Site | int, ids: list[int], now: datetime) -> None:
    rows = [
        {"appointment": appointment_id, "site": site, "status": PENDING, "requested_at": now,
         "next_attempt_at": now}
        for appointment_id in ids
    ]  # fmt: skip
    for start in range(0, len(rows), 500):
        # An appointment has at most one mail of each kind: asking twice queues it once.
        kind.insert_many(rows[start : start + 500]).on_conflict_ignore().execute()


def queue_resend(appointment: OfficeAppointment, now: datetime) -> None:
    """A person asked for the invitation again, or the visit changed: send it once more,
    whatever happened before."""
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
    """Sends the visitors' mails of every kind (QUEUES): invitations and cancellation
    notices, each kind from its own table by the same rules."""

    def __init__(
        self, store: OfficeStore, settings: OfficeSettings, *, timeout: float = SMTP_TIMEOUT
    ) -> None:
        self.store = store
        self.settings = settings
        self.timeout = timeout

    def send_due(self, *, only: Iterable[int] | None = None, limit: int = 200) -> SendReport:
        """Send the mails that are due (those of `only`, appointment ids, if given), at most
        `limit` of each kind."""
        report = SendReport()
        now = self.store.clock.now()
        wanted = None if only is None else list(only)
        due: list[tuple[type[VisitorMail], int]] = []
        with self.store.db.connection_context():
            for kind in QUEUES:
                in_doubt = IN_DOUBT if kind is InvitationMail else NOTICE_IN_DOUBT
                report.given_up += (
                    kind.update(status=GIVEN_UP, next_attempt_at=None, last_error=in_doubt)
                    .where((kind.status == SENDING) & (kind.next_attempt_at <= now))
                    .execute()
                )
                query = (
                    kind.select(kind.id)
                    .where(kind.status.in_(WAITING) & (kind.next_attempt_at <= now))
                    .order_by(kind.next_attempt_at)
                    .limit(limit)
                )
                if wanted is not None:
                    query = query.where(kind.appointment.in_(wanted))
                due.extend((kind, row.id) for row in query)
        for kind, mail_id in due:
            self._send_one(kind, mail_id, report)
        return report

    def run(self, stop: threading.Event, interval: float = 30.0) -> None:
        """Send what is due until `stop` is set; a failing round is logged, never fatal."""
        while not stop.is_set():
            try:
                report = self.send_due()
                if report.sent or report.failed or report.given_up:
                    log.info("visitor e-mails: %s", report)
            except Exception:
                log.exception("visitor e-mails: the round failed; trying again later")
            stop.wait(interval)

    @staticmethod
    def _claim(kind: type[VisitorMail], mail_id: int, now: datetime) -> bool:
        """Take the mail for this sender; False if another took it first."""
        claimed = (
            kind.update(status=SENDING, next_attempt_at=now + CLAIM_LEASE)
            .where((kind.id == mail_id) & kind.status.in_(WAITING) & (kind.next_attempt_at <= now))
            .execute()
        )
        return bool(claimed)

    def _send_one(self, kind: type[VisitorMail], mail_id: int, report: SendReport) -> None:
        now = self.store.clock.now()
        with self.store.db.connection_context():
            if not self._claim(kind, mail_id, now):
                return
            mail = kind.get_by_id(mail_id)
            appointment = OfficeAppointment.get_by_id(mail.appointment_id)
            attempts = mail.attempts + 1
            held = _held(kind, appointment, now)
            if held is not None:
                status, reason, retry_at = held
                error = "" if status == CANCELLED else mail.last_error or reason
                self._finish(kind, mail_id, status, attempts - 1, error, retry_at)
                if status == CANCELLED:
                    report.cancelled += 1
                elif status == GIVEN_UP:
                    report.given_up += 1
                return
            try:
                message = self.compose(appointment, now, kind)
                SmtpServer.from_url(self.settings.smtp_url).send(message, self.timeout)
            except (OSError, smtplib.SMTPException, ValueError, KioskError) as err:
                # The server's answer may quote the address: the visitor's details stay in
                # the appointment, which retention anonymises, not in this row.
                error = _describe(err).replace(appointment.email, "<visitor>")
                report.errors.append(f"{appointment.ref}: {error}")
                if _is_permanent(err) or attempts >= MAX_ATTEMPTS:
                    self._finish(kind, mail_id, GIVEN_UP, attempts, error)
                    report.given_up += 1
                else:
                    self._finish(
                        kind, mail_id, FAILED, attempts, error, now + retry_delay(attempts)
                    )
                    report.failed += 1
                return
            kind.update(
                status=SENT, attempts=attempts, sent_at=self.store.clock.now(),
                next_attempt_at=None, last_error="",
            ).where(kind.id == mail_id).execute()  # fmt: skip
            report.sent += 1

    @staticmethod
    def _finish(
        kind: type[VisitorMail],
        mail_id: int,
        status: str,
        attempts: int,
        error: str,
        retry_at: datetime | None = None,
    ) -> None:
        kind.update(
            status=status, attempts=attempts, last_error=error[:500], next_attempt_at=retry_at
        ).where(kind.id == mail_id).execute()

    def compose(
        self,
        appointment: OfficeAppointment,
        now: datetime,
        kind: type[VisitorMail] = InvitationMail,
    ) -> EmailMessage:
        """The mail of this kind about an appointment; an invitation's code is signed now
        (with the same token id)."""
        site = Site.get_by_id(appointment.site_id)
        settings: SiteSettings = load_site_settings(site)
        host = OfficeHost.get_or_none(
            (OfficeHost.ref == appointment.host_ref) & (OfficeHost.site == site)
        )
        visit = {
            "site_name": site.name, "visitor_name": appointment.visitor_name,
            "visitor_email": appointment.email, "host_name": host.name if host else "",
            "starts_at": appointment.starts_at, "ends_at": appointment.ends_at,
            "zone": settings.timezone, "address": settings.address,
            "appointment_ref": appointment.ref, "sequence": appointment.calendar_sequence,
        }  # fmt: skip
        if kind is CancellationMail:
            return compose_cancellation(
                VisitContent(**visit), sender=self.settings.mail_from, now=now
            )
        try:
            token = self.store.invite(appointment.ref, reuse_token=True)
        except NotFound as err:
            raise PermanentFailure(str(err)) from err
        claims, _body, _signature = parse(decode(token))
        content = InvitationContent(
            **visit,
            valid_from=claims.not_before,
            valid_until=claims.not_after,
            what_to_bring=settings.what_to_bring,
            purpose=appointment.purpose,
            token=token,
        )
        return compose_invitation(content, sender=self.settings.mail_from, now=now)


def _held(
    kind: type[VisitorMail], appointment: OfficeAppointment, now: datetime
) -> tuple[str, str, datetime | None] | None:
    """Why this mail is not to go out now, if it is not: the status to leave it in, the
    reason, and when to look at it again. None: send it."""
    if not appointment.email:
        return CANCELLED, "", None
    if kind is InvitationMail and appointment.cancelled_at is not None:
        return CANCELLED, "", None
    if appointment.ends_at <= now:
        return GIVEN_UP, "the visit is over", None
    if kind is CancellationMail:
        invitation = InvitationMail.get_or_none(InvitationMail.appointment == appointment.id)
        if invitation is not None and invitation.status == SENDING:
            # Its sender may yet fail: whether there is anything to cancel is known after.
            return PENDING, "", now + FIRST_RETRY
        if invitation is None or not _may_have_reached(invitation):
            return CANCELLED, "", None
    return None


def mail_status_by_appointment(
    appointment_ids: list[int], kind: type[VisitorMail] = InvitationMail
) -> dict[int, VisitorMail]:
    found: dict[int, VisitorMail] = {}
    for start in range(0, len(appointment_ids), 500):
        query = kind.select().where(kind.appointment.in_(appointment_ids[start : start + 500]))
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
