"""The directory a kiosk decides with: hosts, appointments, the watchlist, invitations.

On a standalone kiosk these are edited here (CLI, imports); with an office they arrive by
sync. Every change is validated like a visitor's input, so an import file with a control
character or an unknown host is reported line by line instead of half-applied.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase, fn

from kiosk.config import KioskConfig
from kiosk.domain import names
from kiosk.domain.clock import Clock
from kiosk.domain.errors import InvalidInput, KioskError, NotFound
from kiosk.domain.text import (
    COMPANY_MAX,
    FREE_TEXT_MAX,
    check_email,
    check_name,
    check_optional,
    check_phone,
    check_text,
)
from kiosk.domain.tokens import TokenKind, TokenSigner, new_ref
from kiosk.domain.values import HostAvailability, Purpose, VisitorLevel, VisitState
from kiosk.services.schedule import SiteCalendar
from kiosk.storage.db import storage_errors
from kiosk.storage.journal import append_audit, enqueue_event
from kiosk.storage.models import Appointment, Host, RevokedToken, Visit, WatchlistEntry
from kiosk.sync.wire import EventKind

DEFAULT_APPOINTMENT_LENGTH = timedelta(hours=1)


@dataclass
class ImportReport:
    """What an import did: rows booked, changed, found as they were, cancelled, refused."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Invitation:
    token: str
    appointment_ref: str
    token_id: str
    not_before: datetime
    not_after: datetime


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "yes", "true", "y", "是"}


class Directory:
    def __init__(self, *, db: SqliteDatabase, config: KioskConfig, clock: Clock) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self.calendar = SiteCalendar(config.site)

    # ----------------------------------------------------------------- hosts

    def find_host(self, wanted: str) -> Host:
        """A host by ref, e-mail (in any case) or name (exact, then a unique search hit)."""
        host = (
            Host.select()
            .where(
                (Host.ref == wanted)
                | ((Host.email != "") & (fn.LOWER(Host.email) == wanted.strip().lower()))
                | (Host.name == wanted)
            )
            .first()
        )
        if host is not None:
            return host
        key = names.exact_key(wanted)
        hits = [h for h in Host.select().where(Host.active) if key in h.search_key.split("|")]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            listed = ", ".join(f"{h.name} ({h.department or h.ref})" for h in hits)
            raise InvalidInput("host", f"{wanted!r} matches several hosts: {listed}")
        raise NotFound(f"no host called {wanted!r}")

    def add_host(
        self,
        name: str,
        *,
        email: str = "",
        department: str = "",
        phone: str = "",
        delegate: str | None = None,
        is_senior: bool = False,
        walk_in_needs_approval: bool = False,
        channels: list[str] | None = None,
        ref: str | None = None,
    ) -> tuple[Host, bool]:
        """Add a host, or update the one with the same e-mail (or ref); return (host, created)."""
        check_name(name)
        check_email(email)
        check_optional(department, "department", COMPANY_MAX)
        check_phone(phone)
        delegate_host = self.find_host(delegate) if delegate else None
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            existing = None
            if ref:
                existing = Host.get_or_none(Host.ref == ref)
            if existing is None and email:
                existing = Host.get_or_none(Host.email == email)
            host = existing or Host(ref=ref or new_ref())
            host.name = name
            host.email = email
            host.department = department
            host.phone = phone
            host.search_key = names.search_key(name, department)
            host.delegate = delegate_host
            host.is_senior = is_senior
            host.walk_in_needs_approval = walk_in_needs_approval
            host.channels = json.dumps(channels or ([f"mailto://{email}"] if email else []))
            host.updated_at = now
            host.save(force_insert=existing is None)
            append_audit(now, "admin", "host.saved", host.ref, {"created": existing is None})
        return host, existing is None

    def set_availability(self, host: str, availability: HostAvailability) -> None:
        record = self.find_host(host)
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            record.availability = HostAvailability(availability)
            record.updated_at = now
            record.save()
            append_audit(now, "admin", "host.availability", record.ref, {"to": str(availability)})

    def import_hosts_csv(self, path: Path) -> ImportReport:
        """Columns: name, email, department, phone, delegate, senior, walk_in_approval.

        Delegates may name hosts further down the file, so delegates are set in a second pass.
        """
        report = ImportReport()
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        delegates: list[tuple[int, str, str]] = []
        for line, row in enumerate(rows, start=2):
            try:
                _host, created = self.add_host(
                    (row.get("name") or "").strip(),
                    email=(row.get("email") or "").strip(),
                    department=(row.get("department") or "").strip(),
                    phone=(row.get("phone") or "").strip(),
                    is_senior=_truthy(row.get("senior")),
                    walk_in_needs_approval=_truthy(row.get("walk_in_approval")),
                )
            except KioskError as err:
                report.problems.append(f"line {line}: {err}")
                continue
            report.added += created
            report.updated += not created
            if (row.get("delegate") or "").strip():
                delegates.append((line, _host.ref, row["delegate"].strip()))
        for line, host_ref, delegate in delegates:
            try:
                delegate_host = self.find_host(delegate)
            except KioskError as err:
                report.problems.append(f"line {line}: delegate: {err}")
                continue
            Host.update(delegate=delegate_host).where(Host.ref == host_ref).execute()
        return report

    # ----------------------------------------------------------------- appointments

    def add_appointment(
        self,
        *,
        visitor_name: str,
        host: str,
        starts_at: datetime,
        ends_at: datetime | None = None,
        company: str = "",
        email: str = "",
        phone: str = "",
        purpose: Purpose = Purpose.VISIT_PERSON,
        level: VisitorLevel = VisitorLevel.ORDINARY,
        visitor_type: str = "visitor",
        document_hash: str | None = None,
        ref: str | None = None,
        source: str = "local",
        import_key: str = "",
        import_digest: str = "",
    ) -> Appointment:
        """Book a visit; its visit is created as `expected` in the same transaction.
        `import_key` and `import_digest`: see kiosk.services.appointment_import."""
        fields = self.checked_appointment(
            visitor_name=visitor_name, host=host, starts_at=starts_at, ends_at=ends_at,
            company=company, email=email, phone=phone, purpose=purpose, level=level,
            visitor_type=visitor_type,
        )  # fmt: skip
        host_record = fields["host"]
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            appointment = Appointment.create(
                ref=ref or new_ref(),
                **fields,
                document_hash=document_hash,
                source=source,
                import_key=import_key,
                import_digest=import_digest,
                updated_at=now,
            )
            visit = Visit.create(
                ref=new_ref(),
                appointment=appointment,
                host=host_record,
                state=VisitState.EXPECTED,
                purpose=appointment.purpose,
                level=appointment.level,
                visitor_type=visitor_type,
                company=company,
                created_at=now,
                updated_at=now,
            )
            enqueue_event(
                now,
                EventKind.VISIT_EXPECTED,
                visit.ref,
                {
                    "visit": visit.ref,
                    # The office takes a visit event's state from its payload, as every
                    # other visit.* event carries it; without it the event was refused.
                    "state": VisitState.EXPECTED.value,
                    "purpose": visit.purpose,
                    "level": visit.level,
                    "visitor_type": visit.visitor_type,
                    "appointment": appointment.ref,
                    "host": host_record.ref,
                    "starts_at": fields["starts_at"].isoformat(),
                },
            )
            append_audit(now, "admin", "appointment.created", appointment.ref, {"visit": visit.ref})
        return appointment

    def checked_appointment(
        self,
        *,
        visitor_name: str,
        host: str,
        starts_at: datetime,
        ends_at: datetime | None = None,
        company: str = "",
        email: str = "",
        phone: str = "",
        purpose: Purpose = Purpose.VISIT_PERSON,
        level: VisitorLevel = VisitorLevel.ORDINARY,
        visitor_type: str = "visitor",
    ) -> dict[str, Any]:
        """An appointment's fields, checked like a visitor's input, as Appointment columns
        (the host found, the name as the visitor's own check-in shows it, its match keys)."""
        check_name(visitor_name, "visitor_name")
        visitor_name = names.display_name(visitor_name)
        check_optional(company, "company", COMPANY_MAX)
        check_email(email)
        check_phone(phone)
        if visitor_type not in self._config.visitor_types:
            known = ", ".join(sorted(self._config.visitor_types))
            raise InvalidInput("visitor_type", f"{visitor_type!r} is not one of {known}")
        if starts_at.tzinfo is None:
            raise InvalidInput("starts_at", "needs a time zone")
        ends_at = ends_at or starts_at + DEFAULT_APPOINTMENT_LENGTH
        if ends_at <= starts_at:
            raise InvalidInput("ends_at", "must be after the start")
        return {
            "host": self.find_host(host),
            "visitor_name": visitor_name,
            "exact_key": names.exact_key(visitor_name),
            "latin_key": names.latin_key(visitor_name),
            "company": company,
            "email": email,
            "phone": phone,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "purpose": Purpose(purpose),
            "level": VisitorLevel(level),
            "visitor_type": visitor_type,
        }

    def cancel_appointment(self, appointment_ref: str) -> None:
        """Cancel a booking; its invitation is revoked on this kiosk at once."""
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            appointment = Appointment.get_or_none(Appointment.ref == appointment_ref)
            if appointment is None:
                raise NotFound(f"no appointment {appointment_ref}")
            appointment.cancelled_at = now
            appointment.updated_at = now
            appointment.save()
            if appointment.invitation_token_id:
                self._revoke(
                    appointment.invitation_token_id, TokenKind.INVITATION, "cancelled", now
                )
            append_audit(now, "admin", "appointment.cancelled", appointment.ref)

    def revoke_token(self, token_id: str, kind: TokenKind, reason: str = "") -> None:
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            self._revoke(token_id, kind, reason, now)

    def _revoke(self, token_id: str, kind: TokenKind, reason: str, now: datetime) -> None:
        RevokedToken.insert(
            token_id=token_id, kind=kind.name.lower(), reason=reason, revoked_at=now
        ).on_conflict_ignore().execute()
        enqueue_event(
            now, EventKind.TOKEN_REVOKED, token_id, {"token": token_id, "kind": kind.name.lower()}
        )
        append_audit(now, "admin", EventKind.TOKEN_REVOKED, token_id, {"reason": reason})

    # ----------------------------------------------------------------- invitations

    def invite(
        self,
        signer: TokenSigner,
        *,
        visitor_name: str,
        host: str,
        at: datetime,
        visitor_type: str = "visitor",
        company: str = "",
        email: str = "",
        purpose: Purpose = Purpose.VISIT_PERSON,
        level: VisitorLevel = VisitorLevel.ORDINARY,
    ) -> Invitation:
        """Book an appointment and sign its invitation, valid around the appointment time."""
        appointment = self.add_appointment(
            visitor_name=visitor_name,
            host=host,
            starts_at=at,
            company=company,
            email=email,
            purpose=purpose,
            level=level,
            visitor_type=visitor_type,
        )
        window = self._config.invitations
        not_before = at - timedelta(minutes=window.early_minutes)
        not_after = at + timedelta(minutes=window.late_minutes)
        text, token = signer.sign_invitation(
            appointment_ref=appointment.ref,
            host_ref=appointment.host.ref,
            visitor_name=appointment.visitor_name,
            not_before=not_before,
            not_after=not_after,
        )
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            appointment.invitation_token_id = token.token_id
            appointment.save()
            append_audit(
                now, "admin", "invitation.signed", appointment.ref, {"token": token.token_id}
            )
        return Invitation(text, appointment.ref, token.token_id, not_before, not_after)

    # ----------------------------------------------------------------- watchlist

    def add_watchlist_entry(
        self, name: str, *, reason: str = "", document_hash: str | None = None
    ) -> WatchlistEntry:
        check_name(name)
        check_text(reason, "reason", max_length=FREE_TEXT_MAX, multiline=True)
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            entry = WatchlistEntry.create(
                ref=new_ref(),
                name=name,
                exact_key=names.exact_key(name),
                latin_key=names.latin_key(name),
                document_hash=document_hash,
                reason=reason,
                added_at=now,
            )
            append_audit(now, "admin", "watchlist.added", entry.ref)
        return entry
