"""`DeliveryDesk`: the deliveries engine (issue 20). A parcel logged at the kiosk, its
pickup code and signed pickup token, and its collection by QR, typed code or a guard.

Every change writes the parcel row, its audit entry and its outbox event (`delivery.logged`,
`delivery.collected`, and `notification.delivery_waiting` for the notifier) in ONE
transaction, as the check-in engine does: a parcel is on the card before the label prints,
and a printer failing afterwards loses nothing (the label is reprinted from the row).
Refusals name their reason (values.PickupRefusal). No UI, device or network import here.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from peewee import SqliteDatabase, fn

from kiosk.config import KioskConfig
from kiosk.domain.clock import Clock
from kiosk.domain.errors import InvalidInput, NotFound, RejectReason, TokenRejected
from kiosk.domain.text import check_text
from kiosk.domain.tokens import KeyRing, TokenKind, TokenSigner, TokenVerifier, new_ref
from kiosk.services.deliveries.values import (
    COLLECTOR_MAX,
    AmbiguousCode,
    NewParcel,
    ParcelState,
    ParcelView,
    PickupRefusal,
    PickupRefused,
    check_new_parcel,
)
from kiosk.storage.db import storage_errors
from kiosk.storage.journal import append_audit, enqueue_event
from kiosk.storage.models import Host, RevokedToken
from kiosk.storage.parcels import Parcel, ParcelSignature
from kiosk.sync.wire import EventKind

_TOKEN_REFUSALS = {
    RejectReason.UNKNOWN_KEY: (PickupRefusal.OTHER_SITE, "signed by a kiosk of another site"),
    RejectReason.BAD_SIGNATURE: (PickupRefusal.FORGED, "the code was altered or forged"),
    RejectReason.MALFORMED: (PickupRefusal.FORGED, "not a pickup code of this kiosk"),
    RejectReason.TRUNCATED: (PickupRefusal.FORGED, "the code is cut short"),
    RejectReason.UNSUPPORTED_VERSION: (PickupRefusal.FORGED, "not a pickup code of this kiosk"),
    RejectReason.KEY_REVOKED: (PickupRefusal.REVOKED, "the kiosk that signed it was revoked"),
    RejectReason.WRONG_KIND: (PickupRefusal.NOT_A_PICKUP, "this code is not a parcel's"),
    RejectReason.NOT_YET_VALID: (PickupRefusal.FORGED, "the code is dated in the future"),
    RejectReason.EXPIRED: (PickupRefusal.EXPIRED, "the pickup code has expired"),
}


class PickupKeyRing(KeyRing):
    """The site's badge keys, trusted for pickup tokens too: the contract has parcels'
    tokens signed by the kiosk's badge signer, so whatever verifies a site's badges (its
    kiosks' keys, pulled from the office) verifies its parcels."""

    def __init__(self, badge_keys: KeyRing) -> None:
        super().__init__()
        self._badge_keys = badge_keys

    def lookup(self, kind: TokenKind, key_id: str) -> Any:
        if kind is TokenKind.PARCEL_PICKUP:
            return self._badge_keys.lookup(TokenKind.BADGE, key_id)
        return None


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


class DeliveryDesk:
    """Parcels logged, collected and returned at one kiosk."""

    def __init__(
        self,
        *,
        db: SqliteDatabase,
        config: KioskConfig,
        clock: Clock,
        signer: TokenSigner,
        verifier: TokenVerifier,
        kiosk_id: str,
    ) -> None:
        self._db = db
        self.settings = config.deliveries
        self.site = config.site
        self._clock = clock
        self._signer = signer
        self._verifier = verifier
        self.kiosk_id = kiosk_id

    # ------------------------------------------------------------------------- logging

    def log_parcel(self, parcel: NewParcel) -> ParcelView:
        """Log a parcel: row, pickup token, outbox events and audit entry in one transaction.
        A recipient who has left (host inactive) is logged too; the desk is told instead."""
        check_new_parcel(parcel, self.settings.carriers)
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            host = None
            if parcel.host_ref:
                host = Host.get_or_none(Host.ref == parcel.host_ref)
                if host is None:
                    raise InvalidInput("recipient", f"no host {parcel.host_ref} in the directory")
            recipient_left = host is not None and not host.active
            ref = new_ref()
            token, claims = self._signer.sign_subject(
                TokenKind.PARCEL_PICKUP,
                subject_ref=ref,
                not_before=now,
                not_after=now + timedelta(days=self.settings.pickup_valid_days),
            )
            row = Parcel.create(
                ref=ref,
                pickup_code=self._new_code(),
                host_ref=parcel.host_ref,
                company=parcel.company.strip(),
                kind=parcel.kind,
                carrier=parcel.carrier,
                items=parcel.items,
                waybill=parcel.waybill,
                shelf=self._shelf_for(host),
                state=ParcelState.WAITING,
                recipient_left=recipient_left,
                token_id=claims.token_id,
                token=token,
                photo_jpeg=parcel.photo_jpeg,
                logged_at=now,
                updated_at=now,
            )
            enqueue_event(now, EventKind.DELIVERY_LOGGED, ref, self._logged_payload(row))
            audience = "reception" if recipient_left or host is None else "host"
            enqueue_event(
                now,
                EventKind.NOTIFICATION_DELIVERY_WAITING,
                ref,
                {"parcel": ref, "host": parcel.host_ref, "audience": audience},
            )
            append_audit(now, "kiosk", "parcel.logged", ref, {"token": claims.token_id})
        return self.view(row)

    def _new_code(self) -> str:
        """Six random digits, never 000000, unique among the waiting parcels known here."""
        while True:
            code = f"{secrets.randbelow(999_999) + 1:06d}"
            taken = Parcel.select().where(
                (Parcel.pickup_code == code) & (Parcel.state == ParcelState.WAITING)
            )
            if not taken.exists():
                return code

    def _shelf_for(self, host: Host | None) -> str:
        shelves = self.settings.shelves
        if not shelves:
            return ""
        if self.settings.shelf_rule == "by_department" and host is not None:
            wanted = self.settings.shelf_by_department.get(host.department, "")
            if wanted:
                return wanted
        rows: Any = (
            Parcel.select(Parcel.shelf, fn.COUNT(Parcel.id))
            .where(Parcel.state == ParcelState.WAITING)
            .group_by(Parcel.shelf)
            .tuples()
        )
        counts: dict[str, int] = {str(row[0]): int(row[1]) for row in rows}
        return min(shelves, key=lambda shelf: (counts.get(shelf, 0), shelves.index(shelf)))

    def _logged_payload(self, row: Parcel) -> dict[str, Any]:
        return {
            "parcel_ref": row.ref,
            "pickup_code": row.pickup_code,
            "host_ref": row.host_ref,
            "company": row.company,
            "kind": row.kind,
            "carrier": row.carrier,
            "items": row.items,
            "waybill": row.waybill,
            "shelf": row.shelf,
            "recipient_left": row.recipient_left,
            "logged_at": iso(row.logged_at),
            "token_id": row.token_id,
            # The signed token, so the office's reminders carry the same pickup QR; the
            # office verifies it with this kiosk's badge key and cannot make one.
            "pickup_token": row.token,
        }

    # ------------------------------------------------------------------------- pickup

    def parcel_for_token(self, text: str) -> ParcelView:
        """The waiting parcel a scanned pickup QR names, or PickupRefused saying why."""
        try:
            claims = self._verifier.verify(text, TokenKind.PARCEL_PICKUP)
        except TokenRejected as err:
            reason, detail = _TOKEN_REFUSALS.get(err.reason, (PickupRefusal.FORGED, str(err)))
            raise PickupRefused(reason, detail) from err
        if RevokedToken.get_or_none(RevokedToken.token_id == claims.token_id):
            raise PickupRefused(PickupRefusal.REVOKED, "this pickup code was cancelled")
        row = Parcel.get_or_none(Parcel.ref == claims.subject_ref)
        if row is None:
            raise PickupRefused(PickupRefusal.OTHER_SITE, "not a parcel of this site")
        return self._still_waiting(row)

    def parcels_for_code(self, code: str) -> list[ParcelView]:
        """The waiting parcels a typed code names (two when kiosks gave one code offline)."""
        code = "".join(code.split())
        if len(code) != 6 or not code.isdigit():
            raise InvalidInput("code", "the pickup code is 6 digits")
        rows = list(Parcel.select().where(Parcel.pickup_code == code).order_by(Parcel.id.desc()))
        waiting = [row for row in rows if row.state == ParcelState.WAITING]
        if waiting:
            return [self.view(row) for row in waiting]
        if rows:
            self._still_waiting(rows[0])  # raises: collected or returned, saying when
        raise PickupRefused(PickupRefusal.UNKNOWN_CODE, "no parcel waits with this code")

    def _still_waiting(self, row: Parcel) -> ParcelView:
        if row.state == ParcelState.COLLECTED:
            raise PickupRefused(
                PickupRefusal.ALREADY_COLLECTED,
                f"already collected by {row.collected_by} on {iso(row.collected_at)}",
            )
        if row.state == ParcelState.RETURNED:
            when = iso(row.returned_at) or "an earlier day"
            raise PickupRefused(PickupRefusal.RETURNED, f"returned to sender on {when}")
        if row.token_id and RevokedToken.get_or_none(RevokedToken.token_id == row.token_id):
            raise PickupRefused(PickupRefusal.REVOKED, "this pickup code was cancelled")
        return self.view(row)

    def collect_with_token(
        self, text: str, collected_by: str, signature_png: bytes | None = None
    ) -> ParcelView:
        parcel = self.parcel_for_token(text)
        return self._collect(parcel.parcel_ref, collected_by, "qr", signature_png)

    def collect_with_code(
        self,
        code: str,
        collected_by: str,
        *,
        parcel_ref: str = "",
        signature_png: bytes | None = None,
    ) -> ParcelView:
        waiting = self.parcels_for_code(code)
        if parcel_ref:
            waiting = [p for p in waiting if p.parcel_ref == parcel_ref]
            if not waiting:
                raise PickupRefused(PickupRefusal.UNKNOWN_CODE, "that parcel has another code")
        if len(waiting) > 1:
            raise AmbiguousCode([(p.parcel_ref, p.recipient) for p in waiting])
        return self._collect(waiting[0].parcel_ref, collected_by, "code", signature_png)

    def collect_by_guard(
        self, parcel_ref: str, collected_by: str, signature_png: bytes | None = None
    ) -> ParcelView:
        self._still_waiting(self._row(parcel_ref))
        return self._collect(parcel_ref, collected_by, "guard", signature_png)

    def _collect(
        self, parcel_ref: str, collected_by: str, method: str, signature_png: bytes | None
    ) -> ParcelView:
        collected_by = check_text(
            collected_by.strip(), "collected_by", max_length=COLLECTOR_MAX, required=True
        )
        if self.settings.signature and not signature_png:
            raise InvalidInput("signature", "this site asks for a signature on collection")
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            row = self._row(parcel_ref)
            self._still_waiting(row)  # again inside the transaction: two screens at once
            row.state = ParcelState.COLLECTED
            row.collected_at, row.collected_by, row.method = now, collected_by, method
            row.signed = bool(signature_png)
            row.updated_at = now
            row.save()
            if signature_png:
                ParcelSignature.create(parcel=row, signature_png=signature_png, signed_at=now)
            payload = {
                "parcel_ref": row.ref,
                "collected_by": collected_by,
                "method": method,
                "signed": row.signed,
                "collected_at": iso(now),
            }
            enqueue_event(now, EventKind.DELIVERY_COLLECTED, row.ref, payload)
            append_audit(now, "kiosk", "parcel.collected", row.ref, {"method": method})
        return self.view(row)

    def mark_returned(self, parcel_ref: str, *, by: str = "guard") -> ParcelView:
        """A guard hands the parcel back to the carrier: refused at pickup from now on."""
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            row = self._row(parcel_ref)
            self._still_waiting(row)
            row.state, row.returned_at, row.updated_at = ParcelState.RETURNED, now, now
            row.save()
            if row.token_id:
                RevokedToken.insert(
                    token_id=row.token_id, kind="parcel_pickup", reason="returned", revoked_at=now
                ).on_conflict_ignore().execute()
            append_audit(now, by, "parcel.returned", row.ref)
        return self.view(row)

    # ------------------------------------------------------------------------- reading

    def _row(self, parcel_ref: str) -> Parcel:
        row = Parcel.get_or_none(Parcel.ref == parcel_ref)
        if row is None:
            raise NotFound(f"no parcel {parcel_ref}")
        return row

    def parcel(self, parcel_ref: str) -> ParcelView:
        return self.view(self._row(parcel_ref))

    def parcels(self, state: str = "waiting", limit: int = 200) -> list[ParcelView]:
        query = Parcel.select().order_by(Parcel.logged_at.desc()).limit(limit)
        if state != "all":
            query = query.where(Parcel.state == state)
        return [self.view(row) for row in query]

    def view(self, row: Parcel) -> ParcelView:
        host = Host.get_or_none(Host.ref == row.host_ref) if row.host_ref else None
        return ParcelView(
            parcel_ref=row.ref,
            pickup_code=row.pickup_code,
            recipient=host.name if host else row.company,
            host_ref=row.host_ref,
            company=row.company,
            kind=row.kind,
            carrier=row.carrier,
            items=row.items,
            waybill=row.waybill,
            shelf=row.shelf,
            state=row.state,
            recipient_left=row.recipient_left,
            logged_at=row.logged_at,
            token=row.token,
            token_id=row.token_id,
            collected_at=row.collected_at,
            collected_by=row.collected_by,
            method=row.method,
        )
