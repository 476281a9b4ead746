"""What the delivery screens need from the kiosk (issue 20), as plain values; the methods
are on the touchscreen's services (kiosk.delivery_screen_services), reached the same way
as the check-in's (kiosk.ui.services, through kiosk.engine_link). The refusals come as
this module's errors, so that the touchscreen's process never imports the engine's
package (and its storage) to read one."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.domain.errors import KioskError


@dataclass(frozen=True)
class DeliveryChoices:
    """What the courier picks from: kinds, carriers (keys; the screens translate them)."""

    kinds: list[str]
    carriers: list[str]
    signature: bool  # a collection takes a signature on the screen


@dataclass(frozen=True)
class ParcelLine:
    """A parcel as a screen shows it (never its token)."""

    parcel_ref: str
    pickup_code: str
    recipient: str
    shelf: str
    kind: str
    carrier: str
    items: int
    state: str
    recipient_left: bool
    logged_at: str  # local "YYYY-MM-DD HH:MM"
    collected_by: str = ""


@dataclass
class DeliveryOrder:
    """What a courier has picked so far on the delivery screens (one parcel)."""

    host_ref: str = ""
    company: str = ""
    recipient: str = ""  # as shown: the host's name or the company typed
    kind: str = ""
    carrier: str = ""
    items: int = 1
    waybill: str = ""  # scanned or typed; optional
    photo_jpeg: bytes | None = None  # the parcel's photo; optional


@dataclass
class PickupAttempt:
    """A collection under way: the QR scanned or the code typed, and the parcel it named."""

    token: str = ""
    code: str = ""
    parcel: ParcelLine | None = None


class ParcelRefused(KioskError):
    """A pickup or a guard's step refused: `reason` is a PickupRefusal value
    ("already_collected", "forged", ...), `detail` the engine's words, any moment in them
    already in the site's time ("already collected by 李娜 on 2026-11-23 10:00")."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.reason, self.detail)


class ParcelCodeShared(KioskError):
    """A typed code that several waiting parcels share: (parcel_ref, recipient) each."""

    def __init__(self, choices: list[tuple[str, str]]) -> None:
        self.choices = choices
        super().__init__(f"{len(choices)} parcels have this code")

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.choices,)
