"""The links a kiosk sends to hosts ("on my way", approve, deny), used at the office.

A link is signed by the kiosk that sent it (kiosk.notify.links). The office checks the
signature first, so a forged link learns nothing; then that the kiosk is not revoked, the
link not expired, the visit its own site's and still waiting, and the link unused across the
office. A used link updates the visit at once (live list, reports) and tells the kiosk that
sent it through the change feed, which applies it through its engine on its next pull
(kiosk.sync.apply). A link naming another site's visit raises a security alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from peewee import Database, IntegrityError

from kiosk.domain.clock import Clock
from kiosk.notify.links import LinkAction, LinkRefusal, LinkRefused, read_link, verify_link
from kiosk.office.alerts import OfficeAlert, raise_alert
from kiosk.office.feed import ChangeFeed, visit_data
from kiosk.office.models import Kiosk, OfficeHost, OfficeUsedLink, OfficeVisit
from kiosk.office.settings import load_site_settings


@dataclass(frozen=True)
class LinkPreview:
    """A kiosk's link as its page shows it (kiosk.office.web.links)."""

    action: str  # ack | approve | deny
    party: str
    visitor_name: str
    company: str
    host_name: str
    kiosk_name: str
    site_name: str
    timezone: str
    arrived_at: datetime | None
    answered_at: datetime | None = None

    @property
    def response_seconds(self) -> float | None:
        if self.arrived_at is None or self.answered_at is None:
            return None
        return (self.answered_at - self.arrived_at).total_seconds()


class HostLinks:
    """Previews and redeems hosts' links, once across the office."""

    def __init__(self, db: Database, clock: Clock, feed: ChangeFeed) -> None:
        self.db = db
        self.clock = clock
        self.feed = feed

    def link_preview(self, token: str) -> LinkPreview:
        """What a link would do, for the page that asks to confirm it; LinkRefused when it
        would do nothing. Reads only."""
        with self.db.connection_context():
            claim, kiosk = self._verified_link(token)
            visit = self._linked_visit(claim, kiosk)
            self._check_link_unused(claim, visit)
            return self._preview(claim, kiosk, visit)

    def redeem_link(self, token: str) -> LinkPreview:
        """Carry out a link once across the office: the visit is updated at once (live list,
        reports), and the change feed tells the kiosk that sent the link, which applies it
        through its engine on its next pull (kiosk.sync.apply). Raises LinkRefused."""
        now = self.clock.now()
        with self.db.connection_context():
            claim, kiosk = self._verified_link(token)
            try:
                self._linked_visit(claim, kiosk)
            except LinkRefused as err:
                if err.reason is LinkRefusal.FOREIGN:
                    target = OfficeVisit.get(OfficeVisit.ref == claim.visit_ref)
                    raise_alert(
                        kiosk, OfficeAlert.FOREIGN_SITE, claim.visit_ref,
                        {"link": claim.link_id, "action": claim.action.value}, now, now,
                        also=target.site,
                    )  # fmt: skip
                raise
            try:
                with self.feed.site_writes(kiosk.site):
                    visit = self._linked_visit(claim, kiosk)
                    self._check_link_unused(claim, visit)
                    assert visit is not None
                    OfficeUsedLink.create(
                        link_id=claim.link_id, site=kiosk.site, kiosk=kiosk,
                        action=claim.action.value, visit_ref=claim.visit_ref,
                        party=claim.party, used_at=now,
                    )  # fmt: skip
                    if claim.action is LinkAction.DENY:
                        visit.state, visit.left_at = "denied", now
                    else:
                        visit.state, visit.host_acknowledged_at = "host_acknowledged", now
                    visit.updated_at = now
                    visit.save()
                    self.feed.log(kiosk.site, "visit", visit.ref, visit_data(visit))
                    self.feed.log(
                        kiosk.site,
                        "link_response",
                        claim.link_id,
                        {
                            "kiosk": kiosk.kiosk_id,
                            "visit": visit.ref,
                            "action": claim.action.value,
                            "party": claim.party,
                            "answered_at": now.isoformat(),
                        },
                    )
            except IntegrityError as err:  # another request used it at the same moment
                raise LinkRefused(LinkRefusal.USED, "this link has been used") from err
            return self._preview(claim, kiosk, visit, answered_at=now)

    def _verified_link(self, token: str) -> tuple[Any, Kiosk]:
        """The claim of a link genuinely signed by a kiosk of this office that is not
        revoked and not expired, and that kiosk. The signature is checked first, so a
        forged link learns nothing about expiry or revocation."""

        claim, _, _ = read_link(token)
        kiosk = Kiosk.get_or_none(Kiosk.kiosk_id == claim.kiosk_id)
        if kiosk is None:
            raise LinkRefused(LinkRefusal.FORGED, "no kiosk of this office sent this link")
        ever = datetime.min.replace(tzinfo=UTC)  # the signature alone, expiry next
        claim = verify_link(token, kiosk.auth_public_key, ever)
        if kiosk.revoked_at is not None:
            raise LinkRefused(LinkRefusal.REVOKED, "the kiosk that sent this link is revoked")
        if self.clock.now() >= claim.expires_at:
            raise LinkRefused(LinkRefusal.EXPIRED, "the link has expired")
        return claim, kiosk

    @staticmethod
    def _linked_visit(claim: Any, kiosk: Kiosk) -> OfficeVisit | None:
        """The visit a link names, looked up only among the visits of the site of the kiosk
        that signed it; LinkRefused (FOREIGN) when the ref is another site's visit."""

        visit = OfficeVisit.get_or_none(
            (OfficeVisit.ref == claim.visit_ref) & (OfficeVisit.site == kiosk.site_id)
        )
        if visit is None and OfficeVisit.get_or_none(OfficeVisit.ref == claim.visit_ref):
            raise LinkRefused(LinkRefusal.FOREIGN, "the visit is not of this kiosk's site")
        return visit

    @staticmethod
    def _check_link_unused(claim: Any, visit: OfficeVisit | None) -> None:

        if OfficeUsedLink.get_or_none(OfficeUsedLink.link_id == claim.link_id) is not None:
            raise LinkRefused(LinkRefusal.USED, "this link has been used")
        if visit is None:
            raise LinkRefused(LinkRefusal.NOT_YET, "the office has not heard of this visit yet")
        if visit.state != "awaiting_host":
            raise LinkRefused(LinkRefusal.TOO_LATE, "the visit has moved on")
        if claim.action is not LinkAction.ACKNOWLEDGE and visit.host_acknowledged_at:
            raise LinkRefused(LinkRefusal.TOO_LATE, "the visit has been decided")

    @staticmethod
    def _preview(
        claim: Any, kiosk: Kiosk, visit: OfficeVisit | None, answered_at: datetime | None = None
    ) -> LinkPreview:

        host = (
            OfficeHost.get_or_none(
                (OfficeHost.ref == visit.host_ref) & (OfficeHost.site == visit.site_id)
            )
            if visit is not None and visit.host_ref
            else None
        )
        return LinkPreview(
            action=claim.action.value,
            party=claim.party,
            visitor_name=visit.visitor_name if visit else "",
            company=visit.company if visit else "",
            host_name=host.name if host else "",
            kiosk_name=kiosk.name or kiosk.kiosk_id,
            site_name=kiosk.site.name,
            timezone=load_site_settings(kiosk.site).timezone,
            arrived_at=visit.arrived_at if visit else None,
            answered_at=answered_at,
        )
