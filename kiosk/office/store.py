"""OfficeStore: the office's logic over its database, a thin facade over one controller per
concern (as mopidy's Core), so the API, the web and the CLI hold one object:

    fleet         sites and their keys, enrolment, request authentication, revocation
    intake        the events kiosks push: validation, the visits' view, used invitations
    feed          the change feed kiosks pull (its one writer)
    appointments  booking, inviting, changing and cancelling visits
    hosts         hosts and the watchlist
    links         hosts' links, previewed and redeemed once across the office

Opening the database and its migrations are kiosk.office.db's (`open_office_database` is
kept importable from here for the CLI and the tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from peewee import Database

from kiosk.domain.clock import Clock, SystemClock
from kiosk.office.appointment_book import AppointmentBook
from kiosk.office.db import add_missing_columns, drop_outdated_unique_indexes, open_office_database
from kiosk.office.feed import ChangeFeed
from kiosk.office.fleet import NONCE_LIFETIME_MS, Fleet, Forbidden, Unauthorized
from kiosk.office.host_directory import HostDirectory
from kiosk.office.host_links import HostLinks, LinkPreview
from kiosk.office.intake import EventResult, IngestReport, Intake
from kiosk.office.models import Kiosk, OfficeAppointment, OfficeHost, OfficeWatchlistEntry, Site
from kiosk.office.office_keys import OfficeKeys

__all__ = [
    "NONCE_LIFETIME_MS", "EventResult", "Forbidden", "IngestReport", "LinkPreview", "OfficeStore",
    "Unauthorized", "add_missing_columns", "drop_outdated_unique_indexes", "open_office_database",
]  # fmt: skip


class OfficeStore:
    """The office over one database: each method hands over to its concern's controller."""

    def __init__(self, db: Database, *, clock: Clock | None = None) -> None:
        self.db = db
        self._clock = clock or SystemClock()
        self.office_keys = OfficeKeys(db)
        self.feed = ChangeFeed(db)
        self.fleet = Fleet(db, self._clock, self.feed, self.office_keys)
        self.intake = Intake(db, self._clock, self.feed)
        self.appointments = AppointmentBook(db, self._clock, self.feed, self.fleet.site)
        self.hosts = HostDirectory(db, self._clock, self.feed, self.fleet.site)
        self.links = HostLinks(db, self._clock, self.feed)

    @property
    def clock(self) -> Clock:
        return self._clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        """A new clock reaches every controller (tests move the office's time this way)."""
        self._clock = clock
        for controller in (self.fleet, self.intake, self.appointments, self.hosts, self.links):
            controller.clock = clock

    @contextmanager
    def site_change(self, site: Site) -> Iterator[None]:
        """One transaction for a change made at the office and its audit entry: the
        directory methods called inside join it, so the change, its feed rows and the audit
        commit together or not at all."""
        with self.db.connection_context(), self.feed.site_writes(site):
            yield

    # --- the fleet

    def site(self, name: str) -> Site:
        return self.fleet.site(name)

    def document_salt(self, site: Site) -> bytes:
        return self.fleet.document_salt(site)

    def enrolment_code(self, site_name: str) -> str:
        return self.fleet.enrolment_code(site_name)

    def enrol(
        self, code: str, *, kiosk_id: str, name: str, auth_public_key: str, badge_public_key: str
    ) -> Kiosk:
        return self.fleet.enrol(
            code, kiosk_id=kiosk_id, name=name, auth_public_key=auth_public_key,
            badge_public_key=badge_public_key,
        )  # fmt: skip

    def enrol_with_proof(
        self, code_id: str, proof: str, nonce: str, fields: dict[str, str]
    ) -> tuple[Kiosk, bytes]:
        return self.fleet.enrol_with_proof(code_id, proof, nonce, fields)

    def rotate_office_key(self) -> str:
        return self.fleet.rotate_office_key()

    def retire_office_key(self, public_key_hex: str) -> None:
        self.fleet.retire_office_key(public_key_hex)

    def revoke_kiosk(self, kiosk_id: str) -> None:
        self.fleet.revoke_kiosk(kiosk_id)

    def check_signature_headers(self, headers: dict[str, str]) -> Kiosk:
        return self.fleet.check_signature_headers(headers)

    def authenticate(
        self, method: str, path: str, headers: dict[str, str], body: bytes,
        claimed: Kiosk | None = None,
    ) -> Kiosk:  # fmt: skip
        return self.fleet.authenticate(method, path, headers, body, claimed)

    # --- events in, changes out

    def ingest(self, kiosk: Kiosk, events: Iterable[dict[str, Any]]) -> IngestReport:
        return self.intake.ingest(kiosk, events)

    def visits(self, since: datetime, site_name: str | None = None) -> list[dict[str, Any]]:
        return self.intake.visits(since, site_name)

    def changes(self, kiosk: Kiosk, cursor: int, limit: int) -> tuple[str, int, bool]:
        return self.feed.changes(kiosk, cursor, limit)

    # --- appointments

    def add_appointments(
        self, site_name: str, bookings: Iterable[dict[str, Any]]
    ) -> list[OfficeAppointment]:
        return self.appointments.add_appointments(site_name, bookings)

    def add_appointment(self, site_name: str, **booking: Any) -> OfficeAppointment:
        return self.appointments.add_appointment(site_name, **booking)

    def invite(
        self, appointment_ref: str, *, early: timedelta = timedelta(hours=2),
        late: timedelta = timedelta(hours=4), reuse_token: bool = False,
    ) -> str:  # fmt: skip
        return self.appointments.invite(
            appointment_ref, early=early, late=late, reuse_token=reuse_token
        )

    def change_appointment(self, appointment_ref: str, changes: dict[str, Any]) -> bool:
        return self.appointments.change_appointment(appointment_ref, changes)

    def cancel_appointment(self, appointment_ref: str) -> None:
        self.appointments.cancel_appointment(appointment_ref)

    # --- hosts and the watchlist

    def add_host(
        self, site_name: str, name: str, *, email: str = "", department: str = "",
        phone: str = "", availability: str = "in", delegate_ref: str = "",
        is_senior: bool = False, walk_in_needs_approval: bool = False,
        channels: list[str] | None = None, ref: str | None = None, active: bool = True,
    ) -> OfficeHost:  # fmt: skip
        return self.hosts.add_host(
            site_name, name, email=email, department=department, phone=phone,
            availability=availability, delegate_ref=delegate_ref, is_senior=is_senior,
            walk_in_needs_approval=walk_in_needs_approval, channels=channels, ref=ref,
            active=active,
        )  # fmt: skip

    def set_host_active(self, host_ref: str, active: bool) -> OfficeHost:
        return self.hosts.set_host_active(host_ref, active)

    def add_watchlist_entry(
        self, site_name: str, name: str, *, reason: str = "", document_hash: str | None = None
    ) -> OfficeWatchlistEntry:
        return self.hosts.add_watchlist_entry(
            site_name, name, reason=reason, document_hash=document_hash
        )

    def set_watchlist_active(self, entry_ref: str, active: bool) -> OfficeWatchlistEntry:
        return self.hosts.set_watchlist_active(entry_ref, active)

    # --- hosts' links

    def link_preview(self, token: str) -> LinkPreview:
        return self.links.link_preview(token)

    def redeem_link(self, token: str) -> LinkPreview:
        return self.links.redeem_link(token)
