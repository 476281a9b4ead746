"""What a visit needs and who is told of it: each visitor type's requirements (photo,
agreement, escort), whether the site is open, and the host's stand-in when they are out.
"""

from __future__ import annotations

from kiosk.config import KioskConfig, VisitorTypeConfig
from kiosk.domain.clock import Clock
from kiosk.domain.errors import InvalidInput
from kiosk.domain.values import HostAvailability
from kiosk.services.checkin.values import Requirements
from kiosk.services.schedule import SiteCalendar
from kiosk.storage.models import Host


class VisitRules:
    """The site's rules for a visit, from the configuration: what each visitor type requires
    and whether the site is open now."""

    def __init__(self, *, config: KioskConfig, clock: Clock, calendar: SiteCalendar) -> None:
        self._config = config
        self._clock = clock
        self._calendar = calendar

    def requirements(self, visitor_type: str) -> Requirements:
        kind = self.visitor_type(visitor_type)
        agreement = self._config.agreements.get(kind.agreement) if kind.agreement else None
        return Requirements(
            visitor_type=visitor_type,
            photo=kind.photo_required,
            agreement_id=kind.agreement,
            agreement=agreement,
            escort=kind.escort_required,
        )

    def visitor_type(self, name: str) -> VisitorTypeConfig:
        try:
            return self._config.visitor_types[name]
        except KeyError as err:
            known = ", ".join(sorted(self._config.visitor_types))
            raise InvalidInput("visitor_type", f"{name!r} is not one of {known}") from err

    def is_open(self) -> bool:
        return self._calendar.is_open(self._clock.now())


def recipient_for(host: Host | None) -> tuple[Host | None, str]:
    """Who is told of the visitor: the host, else their delegate, else nobody (absent)."""
    if host is None:
        return None, "reception"
    if host.availability == HostAvailability.IN:
        return host, "host"
    delegate = host.delegate
    if delegate is not None and delegate.active and delegate.availability == HostAvailability.IN:
        return delegate, "delegate"
    return None, "absent"
