"""The office's appointment book: booking visits, signing their invitations, changing and
cancelling them, each change told to the site's kiosks through the change feed.

The web's booking logic (kiosk.office.bookings: series, files, cancellation notices) and
the CLI call these. An invitation is signed with the site's key, which never leaves the
office; a change to what its code says (`SIGNED_FIELDS`) revokes the old code, so the
e-mail sent before admits nobody.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from peewee import Database

from kiosk.dbkit.rows import insert_rows
from kiosk.domain.clock import Clock
from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.domain.text import check_name
from kiosk.domain.tokens import TokenSigner, new_ref
from kiosk.domain.values import Purpose, VisitorLevel
from kiosk.office.feed import ChangeFeed, appointment_data
from kiosk.office.models import OfficeAppointment, Site, SiteKey

#: What an invitation's signed code says about its appointment (besides the ref): a change
#: to one of these needs a new code.
SIGNED_FIELDS = frozenset({"starts_at", "host_ref", "visitor_name"})
#: What the invitation e-mail tells the visitor: a change to one of these sends it again.
INVITATION_FIELDS = SIGNED_FIELDS | {"ends_at", "purpose"}
#: The appointment's fields in the change feed (_appointment_data): a change to one of these
#: is for the kiosks to learn.
FEED_FIELDS = frozenset({
    "host_ref", "visitor_name", "company", "email", "phone", "starts_at", "ends_at", "purpose",
    "level", "visitor_type",
})  # fmt: skip


class AppointmentBook:
    """The site's appointments, as the kiosks learn them."""

    def __init__(
        self, db: Database, clock: Clock, feed: ChangeFeed, site_named: Callable[[str], Site]
    ) -> None:
        self.db = db
        self.clock = clock
        self.feed = feed
        self._site_named = site_named

    def add_appointments(
        self, site_name: str, bookings: Iterable[dict[str, Any]]
    ) -> list[OfficeAppointment]:
        """Book visits (each a dict of add_appointment's arguments) in one transaction."""
        site = self._site_named(site_name)
        now = self.clock.now()
        made = []
        with self.db.connection_context(), self.feed.site_writes(site):
            for booking in bookings:
                appointment = self._new_appointment(site, now, **booking)
                made.append(appointment)
            columns = [
                field.name for field in OfficeAppointment._meta.sorted_fields if field.name != "id"
            ]
            insert_rows(
                self.db,
                OfficeAppointment,
                [{name: getattr(a, name) for name in columns} for a in made],
            )
            self.feed.log_many(
                site, "appointment", [(a.ref, appointment_data(a)) for a in made], replacing=False
            )
        return made

    def add_appointment(self, site_name: str, **booking: Any) -> OfficeAppointment:
        return self.add_appointments(site_name, [booking])[0]

    @staticmethod
    def _new_appointment(
        site: Site,
        now: datetime,
        *,
        visitor_name: str,
        host_ref: str,
        starts_at: datetime,
        ends_at: datetime | None = None,
        company: str = "",
        email: str = "",
        phone: str = "",
        purpose: str = Purpose.VISIT_PERSON,
        level: str = VisitorLevel.ORDINARY,
        visitor_type: str = "visitor",
        ref: str | None = None,
        invitation_token_id: str = "",
        import_key: str = "",
        import_sequence: int = 0,
        import_digest: str = "",
    ) -> OfficeAppointment:
        check_name(visitor_name, "visitor_name")
        Purpose(purpose)
        VisitorLevel(level)
        return OfficeAppointment(
            ref=ref or new_ref(),
            site=site,
            visit_ref=new_ref(),
            host_ref=host_ref,
            visitor_name=visitor_name,
            company=company,
            email=email,
            phone=phone,
            starts_at=starts_at,
            ends_at=ends_at or starts_at + timedelta(hours=1),
            purpose=str(purpose),
            level=str(level),
            visitor_type=visitor_type,
            # Chosen at booking so a cancellation revokes it even before the mail is signed.
            invitation_token_id=invitation_token_id,
            updated_at=now,
            import_key=import_key,
            import_sequence=import_sequence,
            import_digest=import_digest,
        )

    def invite(
        self,
        appointment_ref: str,
        *,
        early: timedelta = timedelta(hours=2),
        late: timedelta = timedelta(hours=4),
        reuse_token: bool = False,
    ) -> str:
        """Sign the appointment's invitation with the site's key, which never leaves here.

        With `reuse_token`, an appointment that already has a token id is signed again with
        the same id (Ed25519 is deterministic: the same code as before), so a resent e-mail
        carries the code the kiosks already know and nothing changes in the feed. A new
        token id revokes the one it replaces."""
        with self.db.connection_context():
            appointment = self._booked_appointment(appointment_ref)
            key = SiteKey.get((SiteKey.site == appointment.site) & (SiteKey.kind == "invitation"))
            private = load_pem_private_key(key.private_key_pem.encode(), password=None)
            assert isinstance(private, Ed25519PrivateKey)
            previous = appointment.invitation_token_id
            text, token = TokenSigner(private).sign_invitation(
                appointment_ref=appointment.ref,
                host_ref=appointment.host_ref,
                visitor_name=appointment.visitor_name,
                not_before=appointment.starts_at - early,
                not_after=appointment.starts_at + late,
                token_id=previous if reuse_token and previous else None,
            )
            if token.token_id == previous:
                return text
            with self.feed.site_writes(appointment.site):
                if previous:
                    self.feed.log(
                        appointment.site, "revoked_token", previous, {"kind": "invitation"}
                    )
                appointment.invitation_token_id = token.token_id
                appointment.updated_at = self.clock.now()
                appointment.save()
                self.feed.log(
                    appointment.site,
                    "appointment",
                    appointment.ref,
                    appointment_data(appointment),
                )
        return text

    def cancel_appointment(self, appointment_ref: str) -> None:
        with self.db.connection_context():
            appointment = OfficeAppointment.get_or_none(OfficeAppointment.ref == appointment_ref)
            if appointment is None:
                raise NotFound(f"no appointment {appointment_ref}")
            with self.feed.site_writes(appointment.site):
                appointment.cancelled_at = appointment.updated_at = self.clock.now()
                appointment.calendar_sequence += 1  # the cancellation notice's .ics wins
                appointment.save()
                self.feed.log(
                    appointment.site,
                    "appointment",
                    appointment.ref,
                    appointment_data(appointment),
                )
                if appointment.invitation_token_id:
                    self._revoke_invitation(appointment.site, appointment.invitation_token_id)

    def _revoke_invitation(self, site: Site, token_id: str) -> None:
        """Tell the site's kiosks that an invitation's code admits nobody any more."""
        self.feed.log(site, "revoked_token", token_id, {"kind": "invitation"})

    @staticmethod
    def _booked_appointment(appointment_ref: str) -> OfficeAppointment:
        """The appointment, still booked: NotFound or InvalidInput (cancelled) otherwise."""
        appointment = OfficeAppointment.get_or_none(OfficeAppointment.ref == appointment_ref)
        if appointment is None:
            raise NotFound(f"no appointment {appointment_ref}")
        if appointment.cancelled_at is not None:
            raise InvalidInput("appointment", "is cancelled")
        return appointment

    def change_appointment(self, appointment_ref: str, changes: dict[str, Any]) -> bool:
        """Change a booked visit's details (`changes`: field name to new value) and tell the
        kiosks. If the invitation's signed code no longer matches (its time window, host or
        visitor), the old code is revoked and a new token id chosen, so the code mailed
        before admits nobody. Returns whether the visitor's invitation must go out again:
        something it tells them has changed."""
        with self.db.connection_context():
            appointment = self._booked_appointment(appointment_ref)
            changed = {
                name for name, value in changes.items() if getattr(appointment, name) != value
            }
            if "visitor_name" in changed:
                check_name(changes["visitor_name"], "visitor_name")
            for name in changed:
                setattr(appointment, name, changes[name])
            told = bool(changed & INVITATION_FIELDS)
            with self.feed.site_writes(appointment.site):
                previous = appointment.invitation_token_id
                if previous and changed & SIGNED_FIELDS:
                    self.feed.log(
                        appointment.site, "revoked_token", previous, {"kind": "invitation"}
                    )
                    appointment.invitation_token_id = new_ref()
                if told:
                    appointment.calendar_sequence += 1  # the new invitation's .ics wins
                appointment.updated_at = self.clock.now()
                appointment.save()
                if changed & FEED_FIELDS:
                    self.feed.log(
                        appointment.site,
                        "appointment",
                        appointment.ref,
                        appointment_data(appointment),
                    )
        return told
