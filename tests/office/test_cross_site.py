"""A kiosk speaks only for its own site: events and links naming another site's visit are
refused with a reason and raise a security alert, on SQLite and PostgreSQL.

Two sites share one office, a kiosk enrolled at each. The kiosk of "Other Tower" knows a
visit ref of Riverside Tower (it is in every badge's QR) and tries every event kind and
every link action on it; Riverside Tower's visit, feed and alerts must show nothing of it
but the alert."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from conftest import SITE
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr
from tests_support import MONDAY_10AM

from kiosk.domain.clock import ManualClock
from kiosk.domain.errors import InvalidInput
from kiosk.domain.tokens import raw_public_key
from kiosk.notify import LinkAction, LinkSigner
from kiosk.notify.links import LinkRefusal, LinkRefused
from kiosk.office.deliveries.rules import DELIVERY_KINDS
from kiosk.office.models import (
    ChangeLog,
    Event,
    ForwardedNotification,
    OfficeVisit,
    SiteKey,
    UsedInvitation,
)
from kiosk.office.models import Kiosk as OfficeKiosk
from kiosk.office.settings import load_site_settings, save_site_settings
from kiosk.office.store import Forbidden, OfficeStore, open_office_database
from kiosk.sync.wire import EVENT_KINDS

OTHER_SITE = "Other Tower"
DELIVERY_PAYLOADS = {
    "delivery.logged": lambda ref, at: {
        "parcel_ref": ref, "pickup_code": "123456", "host_ref": "", "company": "Mallory Ltd",
        "kind": "parcel", "carrier": "sf", "items": 1, "waybill": "", "shelf": "",
        "recipient_left": False, "logged_at": at.isoformat(), "token_id": ref,
    },
    "delivery.collected": lambda ref, at: {
        "parcel_ref": ref, "collected_by": "Mallory", "method": "code", "signed": False,
        "collected_at": at.isoformat(),
    },
}  # fmt: skip


@dataclass
class SiteKiosk:
    store: OfficeStore
    kiosk_id: str
    key: Ed25519PrivateKey
    seq: int = 0

    def send(self, kind: str, payload: dict[str, Any], subject: str = "") -> Any:
        self.seq += 1
        with self.store.db.connection_context():
            kiosk = OfficeKiosk.get(OfficeKiosk.kiosk_id == self.kiosk_id)
            event = {
                "event_id": uuid.uuid4().hex, "seq": self.seq, "kind": kind,
                "subject_ref": subject, "payload": {"kiosk": self.kiosk_id, **payload},
                "occurred_at": self.store.clock.now().isoformat(),
            }  # fmt: skip
            return self.store.ingest(kiosk, [event]).results[0]

    def link(self, action: LinkAction, visit_ref: str) -> str:
        signer = LinkSigner(self.key, self.kiosk_id, self.store.clock.now)
        return signer.issue(action, visit_ref, "host", timedelta(hours=2))


def enrol_at(store: OfficeStore, site: str) -> SiteKiosk:
    key = Ed25519PrivateKey.generate()
    kiosk_id = f"kiosk-{uuid.uuid4().hex[:8]}"
    store.enrol(
        store.enrolment_code(site), kiosk_id=kiosk_id, name=f"Lobby of {site}",
        auth_public_key=raw_public_key(key.public_key()).hex(),
        badge_public_key=raw_public_key(Ed25519PrivateKey.generate().public_key()).hex(),
    )  # fmt: skip
    return SiteKiosk(store, kiosk_id, key)


def visit_payload(state: str, visit_ref: str, host_ref: str, name: str) -> dict[str, Any]:
    now = MONDAY_10AM.isoformat()
    return {
        "visit": visit_ref, "state": state, "host": host_ref, "arrived_at": now,
        "visitor": {"name": name, "company": "Acme"}, "host_notified_at": now,
        "left_at": now if state in ("checked_out", "denied") else None,
    }  # fmt: skip


@dataclass
class TwoSites:
    store: OfficeStore
    home: SiteKiosk
    intruder: SiteKiosk
    visit_ref: str
    host_ref: str

    def visit(self) -> OfficeVisit:
        with self.store.db.connection_context():
            return OfficeVisit.get(OfficeVisit.ref == self.visit_ref)

    def alerts(self) -> list[dict[str, Any]]:
        with self.store.db.connection_context():
            rows = Event.select().where(Event.kind == "security.alert").order_by(Event.id)
            return [json.loads(row.payload) for row in rows]

    def feed_of(self, site: str) -> list[str]:
        """Every change the kiosks of `site` would pull, as text."""
        with self.store.db.connection_context():
            rows = ChangeLog.select().where(ChangeLog.site == self.store.site(site))
            return [f"{row.entity} {row.ref} {row.data}" for row in rows]


@pytest.fixture
def two_sites(office_db_url: str) -> Iterator[TwoSites]:
    store = OfficeStore(open_office_database(office_db_url), clock=ManualClock(MONDAY_10AM))
    home, intruder = enrol_at(store, SITE), enrol_at(store, OTHER_SITE)
    host = store.add_host(SITE, "李娜", email="li.na@example.com")
    visit_ref = uuid.uuid4().hex[:16]
    for state in ("checked_in", "awaiting_host"):
        result = home.send(f"visit.{state}", visit_payload(state, visit_ref, host.ref, "张伟"))
        assert result.status == "stored", result
    yield TwoSites(store, home, intruder, visit_ref, host.ref)
    store.db.close()


def foreign_case_event(kind: str, sites: TwoSites) -> tuple[dict[str, Any], str]:
    from cases_support import followed_up, opened_payload

    payload = opened_payload(number="C-20261123-K0001", kind="complaint")
    assert sites.home.send("case.opened", payload, payload["case_ref"]).status == "stored"
    if kind == "case.followed_up":
        return followed_up(payload["case_ref"])["payload"], payload["case_ref"]
    return {**payload, "number": "C-20261123-K0002"}, payload["case_ref"]


def foreign_event(kind: str, sites: TwoSites) -> tuple[dict[str, Any], str]:
    """An event of `kind` that names Riverside Tower's visit (in its payload or subject)."""
    if kind.startswith("visit.") and kind != "visit.rated":
        state = kind.removeprefix("visit.")
        return visit_payload(state, sites.visit_ref, "", "Mallory"), sites.visit_ref
    if kind == "visit.rated":
        return {"visit": sites.visit_ref, "satisfaction": 1}, sites.visit_ref
    if kind == "token.revoked":
        return {"token": "t" * 16, "visit": sites.visit_ref}, ""
    if kind == "notification.forward":
        return {"visit": sites.visit_ref}, sites.visit_ref
    if kind in DELIVERY_KINDS:  # a well-formed delivery event whose subject is the visit
        return DELIVERY_PAYLOADS[kind](uuid.uuid4().hex[:16], MONDAY_10AM), sites.visit_ref
    if kind.startswith("case."):  # a case of Riverside Tower's (kiosk.office.cases)
        return foreign_case_event(kind, sites)
    return {"visit": sites.visit_ref, "reason": "test"}, sites.visit_ref


@pytest.mark.parametrize("kind", sorted(EVENT_KINDS))
def test_an_event_about_another_sites_visit_is_refused_and_raises_an_alert(
    two_sites: TwoSites, kind: str
) -> None:
    before = two_sites.visit()
    payload, subject = foreign_event(kind, two_sites)

    result = two_sites.intruder.send(kind, payload, subject)

    assert result.status == "rejected"
    # A malformed forward, or a short link's event (it names a link, not a visit), is
    # refused by its schema before the site check: still refused.
    if kind not in ("notification.forward", "link.short"):
        assert "not of this kiosk's site" in result.error, result.error
        alert = two_sites.alerts()[-1]
        assert alert["reason"] == "foreign_site_ref"
        assert alert["kiosk"] == two_sites.intruder.kiosk_id
    after = two_sites.visit()
    assert (after.state, after.visitor_name, after.satisfaction, after.left_at) == (
        before.state, before.visitor_name, before.satisfaction, before.left_at,
    )  # fmt: skip
    assert not any(two_sites.visit_ref in row for row in two_sites.feed_of(OTHER_SITE))
    assert not any("Mallory" in row for row in two_sites.feed_of(SITE))


def test_an_event_naming_another_sites_host_is_refused(two_sites: TwoSites) -> None:
    own_visit = uuid.uuid4().hex[:16]
    payload = visit_payload("checked_in", own_visit, two_sites.host_ref, "Mallory")

    result = two_sites.intruder.send("visit.checked_in", payload, own_visit)

    assert result.status == "rejected"
    assert f"the host {two_sites.host_ref} is not of this kiosk's site" in result.error
    assert not any(two_sites.host_ref in row for row in two_sites.feed_of(OTHER_SITE))


def test_an_invitation_used_at_another_site_raises_no_alert_against_this_one(
    two_sites: TwoSites,
) -> None:
    token_id = uuid.uuid4().hex
    own = uuid.uuid4().hex[:16]
    two_sites.home.send(
        "visit.checked_in",
        {**visit_payload("checked_in", own, two_sites.host_ref, "王芳"), "invitation": token_id},
    )
    elsewhere = uuid.uuid4().hex[:16]
    result = two_sites.intruder.send(
        "visit.checked_in",
        {**visit_payload("checked_in", elsewhere, "", "Mallory"), "invitation": token_id},
    )

    assert result.status == "stored"  # its own visit, its own site's invitations
    assert not [a for a in two_sites.alerts() if a["reason"] == "invitation_used_twice"]
    with two_sites.store.db.connection_context():
        assert UsedInvitation.select().where(UsedInvitation.token_id == token_id).count() == 2


@pytest.mark.parametrize("action", list(LinkAction))
def test_a_link_for_another_sites_visit_does_nothing_and_raises_an_alert(
    two_sites: TwoSites, action: LinkAction
) -> None:
    token = two_sites.intruder.link(action, two_sites.visit_ref)

    with pytest.raises(LinkRefused) as preview:
        two_sites.store.link_preview(token)
    with pytest.raises(LinkRefused) as redeem:
        two_sites.store.redeem_link(token)

    assert preview.value.reason is redeem.value.reason is LinkRefusal.FOREIGN
    assert two_sites.visit().state == "awaiting_host"
    assert two_sites.visit().host_acknowledged_at is None
    alert = two_sites.alerts()[-1]
    assert (alert["reason"], alert["action"]) == ("foreign_site_ref", action.value)
    assert not any(two_sites.visit_ref in row for row in two_sites.feed_of(OTHER_SITE))


@pytest.mark.parametrize("action", list(LinkAction))
def test_a_link_of_the_sites_own_kiosk_still_works(two_sites: TwoSites, action: LinkAction) -> None:
    done = two_sites.store.redeem_link(two_sites.home.link(action, two_sites.visit_ref))

    assert done.action == action.value
    expected = "denied" if action is LinkAction.DENY else "host_acknowledged"
    assert two_sites.visit().state == expected
    assert not two_sites.alerts()


# ---------------------------------------------------------------- keys


def test_an_enrolment_with_a_key_the_office_knows_is_refused(two_sites: TwoSites) -> None:
    store = two_sites.store
    with store.db.connection_context():
        site_key = SiteKey.get(SiteKey.site == store.site(SITE)).public_key
        other = OfficeKiosk.get(OfficeKiosk.kiosk_id == two_sites.home.kiosk_id)
    fresh = raw_public_key(Ed25519PrivateKey.generate().public_key()).hex()
    for auth, badge in (
        (fresh, site_key),  # the site's invitation key offered as a badge key
        (fresh, other.badge_public_key),
        (other.auth_public_key, raw_public_key(Ed25519PrivateKey.generate().public_key()).hex()),
        (fresh, fresh),
    ):
        with pytest.raises((Forbidden, InvalidInput)):
            store.enrol(
                store.enrolment_code(OTHER_SITE), kiosk_id=f"kiosk-{uuid.uuid4().hex[:8]}",
                name="", auth_public_key=auth, badge_public_key=badge,
            )  # fmt: skip


def test_a_badge_key_whose_id_collides_is_refused(
    two_sites: TwoSites, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.office import fleet as office_store

    monkeypatch.setattr(office_store, "key_id_for", lambda _public: "00c0ffee")
    monkeypatch.setattr(office_store, "_key_ids_in_use", lambda: {"00c0ffee"})
    with pytest.raises(Forbidden, match="key id is already in use"):
        enrol_at(two_sites.store, SITE)


def test_key_rows_in_the_feed_are_named_by_kind_and_whole_key(two_sites: TwoSites) -> None:
    with two_sites.store.db.connection_context():
        rows = ChangeLog.select().where(ChangeLog.entity == "key")
        refs = {row.ref: json.loads(row.data) for row in rows}
    assert refs
    for ref, data in refs.items():
        assert ref == f"{data['kind']}:{data['public_key']}"


# ---------------------------------------------------------------- one event at a time


def test_one_bad_event_is_refused_alone_and_the_rest_of_its_batch_is_stored(
    two_sites: TwoSites,
) -> None:
    home = two_sites.home
    good = uuid.uuid4().hex[:16]
    bad_payloads = {
        "a NUL in a name": visit_payload("checked_in", uuid.uuid4().hex[:16], "", "Zh\x00ang"),
        "a lone surrogate": visit_payload("checked_in", uuid.uuid4().hex[:16], "", "\ud800"),
        "ESC in a name": visit_payload("checked_in", uuid.uuid4().hex[:16], "", "\x1b[2Jhi"),
        "no arrival time": {
            **visit_payload("checked_in", uuid.uuid4().hex[:16], "", "Li"),
            "arrived_at": None,
        },
        "nested too deep": {"visit": "x", "state": "checked_in", "deep": [[[[[[[[[[1]]]]]]]]]]},
    }
    events = []
    with two_sites.store.db.connection_context():
        kiosk = OfficeKiosk.get(OfficeKiosk.kiosk_id == home.kiosk_id)
    for payload in [*bad_payloads.values(), visit_payload("checked_in", good, "", "王芳")]:
        home.seq += 1
        events.append({
            "event_id": uuid.uuid4().hex, "seq": home.seq, "kind": "visit.checked_in",
            "subject_ref": payload["visit"], "payload": payload,
            "occurred_at": MONDAY_10AM.isoformat(),
        })  # fmt: skip

    results = two_sites.store.ingest(kiosk, events).results

    assert [r.status for r in results] == ["rejected"] * len(bad_payloads) + ["stored"]
    for result, why in zip(results, bad_payloads, strict=False):
        assert result.error, why
    with two_sites.store.db.connection_context():
        assert OfficeVisit.get(OfficeVisit.ref == good).visitor_name == "王芳"


def test_a_late_denial_does_not_undo_a_checkout(two_sites: TwoSites) -> None:
    home, ref = two_sites.home, two_sites.visit_ref
    assert home.send("visit.checked_out", visit_payload("checked_out", ref, "", "张伟")).status == (
        "stored"
    )

    home.send("visit.denied", visit_payload("denied", ref, "", "张伟"))

    assert two_sites.visit().state == "checked_out"


def test_both_sites_security_channels_hear_of_an_intrusion(two_sites: TwoSites) -> None:
    store = two_sites.store
    with store.db.connection_context():
        for site, url in ((SITE, "mailto://guard@riverside.example"),
                          (OTHER_SITE, "mailto://guard@other.example")):  # fmt: skip
            row = store.site(site)
            settings = load_site_settings(row)
            save_site_settings(
                row, settings.model_copy(update={"security": [SecretStr(url)]}), MONDAY_10AM
            )

    two_sites.intruder.send(
        "visit.checked_out", visit_payload("checked_out", two_sites.visit_ref, "", "Mallory")
    )
    with pytest.raises(LinkRefused):
        store.redeem_link(two_sites.intruder.link(LinkAction.DENY, two_sites.visit_ref))

    with store.db.connection_context():
        told = [
            (row.site.name, row.title)
            for row in ForwardedNotification.select().where(
                ForwardedNotification.kind == "security.alert"
            )
        ]
    assert sorted(site for site, _ in told) == [OTHER_SITE, OTHER_SITE, SITE, SITE]
    assert all("another site" in title for _, title in told)


def test_an_arrival_at_another_site_never_marks_this_sites_appointment_kept(
    two_sites: TwoSites,
) -> None:
    """A visit ref booked at Riverside Tower, arriving first at the intruder's site (say, read
    off Riverside's invitation): Riverside's appointment is still nobody's arrival, so its
    no-show count stays true (kiosk.office.appointment_arrivals copies only within a site)."""
    from kiosk.office.models import OfficeAppointment

    store = two_sites.store
    booked = store.add_appointment(
        SITE, visitor_name="王芳", host_ref=two_sites.host_ref,
        starts_at=MONDAY_10AM, ends_at=MONDAY_10AM + timedelta(hours=1),
    )  # fmt: skip
    payload = visit_payload("checked_in", booked.visit_ref, "", "Mallory")
    two_sites.intruder.send("visit.checked_in", payload, booked.visit_ref)
    with store.db.connection_context():
        appointment = OfficeAppointment.get(OfficeAppointment.ref == booked.ref)
    assert appointment.visit_arrived_at is None
    payload = visit_payload("checked_in", booked.visit_ref, two_sites.host_ref, "王芳")
    two_sites.home.send("visit.checked_in", payload, booked.visit_ref)
    with store.db.connection_context():
        appointment = OfficeAppointment.get(OfficeAppointment.ref == booked.ref)
        visit = OfficeVisit.get_or_none(OfficeVisit.ref == booked.visit_ref)
    # The ref is the intruder's visit now, so the home kiosk's event is refused as foreign,
    # and Riverside's appointment stays a no-show.
    assert visit is not None and visit.site_id == store.site(OTHER_SITE).id
    assert appointment.visit_arrived_at is None
