"""The desk's call log (电话记录表, kept permanently): record a call, list and show the
site's calls, and turn a call that is a complaint or a repair into a case, in the same
step or later. Used by the office web's /calls page and `kiosk office calls`.

A message left for someone absent goes to that host's channels, as the kiosk's messages
for an absent host do (their delegate's when they have none), through the office's one
sender; whether it went is said to the caller of `record`, never hidden. Only reception
and admins record calls (the web and the CLI check the role before calling here)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.domain.records import check_text_field
from kiosk.notify.channels import Message, Sender
from kiosk.office.cases.desk import Actor, CaseDesk
from kiosk.office.cases.models import CallLogEntry, Case
from kiosk.office.models import OfficeHost, Site
from kiosk.office.settings import load_site_settings

#: What a call may become in one step (the issue: a complaint or a repair).
CASE_KINDS_OF_CALLS = ("complaint", "repair")
TEXT_LIMITS = {"caller": 200, "unit": 200, "phone": 60, "subject": 4000, "message": 2000}


@dataclass(frozen=True)
class CallDetails:
    """What reception types about one call; `for_host` is a host's ref (or "")."""

    caller: str = ""
    unit: str = ""
    phone: str = ""
    subject: str = ""
    for_host: str = ""
    message: str = ""


@dataclass(frozen=True)
class RecordedCall:
    entry: CallLogEntry
    case: Case | None
    #: The message reached at least one of the host's channels (None: no message to send).
    message_sent: bool | None


def call_data(entry: CallLogEntry, zone: ZoneInfo | None = None) -> dict[str, Any]:
    """A call as the CLI's --json shows it (times in the site's zone when given)."""
    at = entry.at.astimezone(zone) if zone else entry.at
    return {
        "id": entry.id, "at": at.isoformat(), "caller": entry.caller, "unit": entry.unit,
        "subject": entry.subject, "for_whom": entry.for_whom, "message": entry.message,
        "recorded_by": entry.recorded_by, "case_ref": entry.case_ref,
    }  # fmt: skip


class CallLog:
    """The site's calls, over the case desk (for the cases a call becomes)."""

    def __init__(self, desk: CaseDesk, sender: Sender) -> None:
        self.desk = desk
        self.sender = sender

    def record(
        self, actor: Actor, call: CallDetails, *, becomes: str = "", category: str = ""
    ) -> RecordedCall:
        """Log one call; `becomes` complaint or repair also opens its case (channel phone),
        in the same transaction. InvalidInput naming the field for bad input (nothing kept)."""
        values = _checked(call)
        if becomes and becomes not in CASE_KINDS_OF_CALLS:
            raise InvalidInput("becomes", "a call becomes a complaint or a repair")
        host = self._host(actor.site_id, call.for_host)
        site = Site.get_by_id(actor.site_id)
        case = None
        with self.desk.feed.site_writes(site):
            if becomes:
                case = self._open_case(actor, values, becomes, category)
            entry = CallLogEntry.create(
                site=actor.site_id, at=self.desk.clock.now(), for_whom=host.name if host else "",
                recorded_by=actor.name, case_ref=case.ref if case else "",
                caller=values["caller"], unit=values["unit"], subject=values["subject"],
                message=values["message"],
            )  # fmt: skip
        sent = None
        if host is not None and values["message"]:
            sent = self.tell_host(host, entry, values["phone"])
        return RecordedCall(entry, case, sent)

    def to_case(self, actor: Actor, call_id: int, kind: str, category: str = "") -> Case:
        """A call logged earlier becomes a case (once); its text is the case's description."""
        if kind not in CASE_KINDS_OF_CALLS:
            raise InvalidInput("kind", "a call becomes a complaint or a repair")
        entry = self.get(actor.site_id, call_id)
        if entry.case_ref:
            raise InvalidInput("call", f"call {call_id} is already case {self._number(entry)}")
        values = {"caller": entry.caller, "unit": entry.unit, "phone": "",
                  "subject": entry.subject or entry.message}  # fmt: skip
        with self.desk.feed.site_writes(Site.get_by_id(actor.site_id)):
            case = self._open_case(actor, values, kind, category)
            CallLogEntry.update(case_ref=case.ref).where(CallLogEntry.id == entry.id).execute()
        return case

    def calls(self, site_id: int, *, limit: int = 100, since: datetime | None = None) -> list[Any]:
        query = CallLogEntry.select().where(CallLogEntry.site == site_id)
        if since is not None:
            query = query.where(CallLogEntry.at >= since)
        return list(query.order_by(CallLogEntry.at.desc(), CallLogEntry.id.desc()).limit(limit))

    def get(self, site_id: int, call_id: int) -> CallLogEntry:
        entry = CallLogEntry.get_or_none(
            (CallLogEntry.id == call_id) & (CallLogEntry.site == site_id)
        )
        if entry is None:
            raise NotFound(f"no call {call_id} at this site")
        return entry

    def tell_host(self, host: OfficeHost, entry: CallLogEntry, phone: str = "") -> bool:
        """The message to the host's channels (their delegate's if they have none)."""
        urls = list(json.loads(host.channels or "[]"))
        if not urls and host.delegate_ref:
            delegate = OfficeHost.get_or_none(
                (OfficeHost.ref == host.delegate_ref) & (OfficeHost.site == host.site_id)
            )
            urls = list(json.loads(delegate.channels or "[]")) if delegate else []
        zone = ZoneInfo(load_site_settings(Site.get_by_id(host.site_id)).timezone)
        caller = entry.caller or "A caller"
        lines = [
            f"{caller}{f' ({entry.unit})' if entry.unit else ''} phoned for you at "
            f"{entry.at.astimezone(zone):%H:%M} and left a message.",
            entry.message and f"Message: {entry.message}",
            entry.subject and f"About: {entry.subject}",
            phone and f"Call back: {phone}",
            f"Taken by {entry.recorded_by} at reception.",
        ]
        message = Message(f"Phone message from {caller}", "\n".join(p for p in lines if p))
        return any([self.sender.send(url, message).ok for url in urls])

    # ------------------------------------------------------------------ helpers

    def _open_case(self, actor: Actor, values: dict[str, str], kind: str, category: str) -> Case:
        if not values["subject"]:
            raise InvalidInput("subject", "say what the call was about: it is the case's text")
        return self.desk.open_case(
            actor, kind=kind, description=values["subject"], channel="phone",
            category=category if kind == "repair" else "", place={"unit": values["unit"]},
            reporter={"name": values["caller"], "unit": values["unit"], "phone": values["phone"]},
        )  # fmt: skip

    @staticmethod
    def _host(site_id: int, ref: str) -> OfficeHost | None:
        if not ref:
            return None
        host = OfficeHost.get_or_none((OfficeHost.ref == ref) & (OfficeHost.site == site_id))
        if host is None or not host.active:
            raise InvalidInput("for_host", "is not an active host of this site")
        return host

    @staticmethod
    def _number(entry: CallLogEntry) -> str:
        case = Case.get_or_none(Case.ref == entry.case_ref)
        return case.number if case else entry.case_ref


def _checked(call: CallDetails) -> dict[str, str]:
    values = {name: str(getattr(call, name)).strip() for name in TEXT_LIMITS}
    for name, limit in TEXT_LIMITS.items():
        multiline = name in ("subject", "message")
        check_text_field(values, name, limit, field=name, multiline=multiline)
    if not values["subject"] and not values["message"]:
        raise InvalidInput("subject", "say what the call was about")
    return values
