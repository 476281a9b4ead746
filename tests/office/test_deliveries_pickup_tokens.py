"""The pickup token a kiosk sends with `delivery.logged` (contract amendment 2026-12-07,
deliv2), on SQLite and PostgreSQL: kept while the parcel waits, put as a QR in the
recipient's reminder (received by a real SMTP server, the QR decoded back to the very
token), blanked once collected; a token not signed by the sending kiosk's badge key, or
naming another parcel or token id, refuses the event with the reason. The office can
only forward a kiosk's token: no office module signs one."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import zxingcpp
from conftest import SITE
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from deliveries_support import ParcelKiosk
from local_servers import Mailbox, smtp_server
from PIL import Image
from pydantic import SecretStr
from test_cross_site import SiteKiosk

from kiosk.domain.clock import ManualClock
from kiosk.domain.tokens import TokenKind, TokenSigner, new_ref, raw_public_key
from kiosk.office.api import build_office
from kiosk.office.deliveries.models import Parcel
from kiosk.office.settings import OfficeSettings, SiteSettings, save_site_settings
from kiosk.office.store import OfficeStore, open_office_database

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_8AM = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    with smtp_server(sender="office@tower.test") as box:
        yield box


@pytest.fixture
def store(office_db_url: str) -> Iterator[OfficeStore]:
    store = OfficeStore(open_office_database(office_db_url), clock=ManualClock(MONDAY_8AM))
    yield store
    store.db.close()


class SigningKiosk(ParcelKiosk):
    """A kiosk whose badge key is known here, so its pickup tokens are real ones."""

    badge_key: Ed25519PrivateKey

    def signed(
        self, ref: str, at: datetime, key: Ed25519PrivateKey | None = None
    ) -> tuple[str, str]:
        token, claims = TokenSigner(key or self.badge_key).sign_subject(
            TokenKind.PARCEL_PICKUP, subject_ref=ref, not_before=at,
            not_after=at + timedelta(days=30),
        )  # fmt: skip
        return token, claims.token_id


def signing_kiosk(store: OfficeStore) -> SigningKiosk:
    auth, badge = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    kiosk_id = f"kiosk-{uuid.uuid4().hex[:8]}"
    store.enrol(
        store.enrolment_code(SITE), kiosk_id=kiosk_id, name="Lobby",
        auth_public_key=raw_public_key(auth.public_key()).hex(),
        badge_public_key=raw_public_key(badge.public_key()).hex(),
    )  # fmt: skip
    kiosk = SigningKiosk(SiteKiosk(store, kiosk_id, auth))
    kiosk.badge_key = badge
    return kiosk


def stored(store: OfficeStore, ref: str) -> Parcel:
    with store.db.connection_context():
        return Parcel.get(Parcel.ref == ref)


def qr_texts(message: object) -> list[str]:
    found = []
    for part in message.walk():  # type: ignore[attr-defined]
        if part.get_content_type() == "image/png":
            grey = np.asarray(Image.open(io.BytesIO(part.get_payload(decode=True))).convert("L"))
            found += [c.text for c in zxingcpp.read_barcodes(grey)]
    return found


def test_the_reminder_carries_the_kiosks_own_pickup_qr(store: OfficeStore, smtp: Mailbox) -> None:
    with store.db.connection_context():
        save_site_settings(store.site(SITE), SiteSettings(
            timezone="Asia/Shanghai", reception=[SecretStr(smtp.url("desk@tower.test"))]),
            MONDAY_8AM)  # fmt: skip
    li = store.add_host(SITE, "李娜", channels=[smtp.url("li.na@tower.test")])
    kiosk = signing_kiosk(store)
    logged = MONDAY_8AM - timedelta(days=1)
    ref = new_ref()
    token, token_id = kiosk.signed(ref, logged)
    _, verdict = kiosk.log(ref=ref, at=logged, host_ref=li.ref, pickup_code="482913",
                           token_id=token_id, pickup_token=token)  # fmt: skip
    assert verdict.status == "stored", verdict
    assert stored(store, ref).pickup_token == token

    store.clock.set(MONDAY_8AM + timedelta(hours=1, minutes=5))  # type: ignore[attr-defined]
    report = build_office(store, OfficeSettings()).parcel_reminders.tick()
    assert report.reminders == 1, report.errors
    [mail] = smtp.to("li.na@tower.test")
    assert qr_texts(mail) == [token]  # the kiosk's token, byte for byte
    assert "482913" in str(mail)

    kiosk.collect(ref)
    assert stored(store, ref).pickup_token == ""  # collected: no credential kept


@pytest.mark.parametrize("fault", ["other_key", "other_parcel", "other_token_id", "garbage"])
def test_a_token_the_kiosk_did_not_sign_for_this_parcel_is_refused(
    store: OfficeStore, fault: str
) -> None:
    kiosk = signing_kiosk(store)
    ref, at = new_ref(), MONDAY_8AM
    key = Ed25519PrivateKey.generate() if fault == "other_key" else None
    token, token_id = kiosk.signed(new_ref() if fault == "other_parcel" else ref, at, key)
    if fault == "other_token_id":
        token_id = new_ref()
    if fault == "garbage":
        token = "NOT-A-TOKEN"
    _, verdict = kiosk.log(ref=ref, at=at, company="Acme", token_id=token_id, pickup_token=token)
    assert verdict.status == "rejected"
    assert verdict.error.startswith("payload.pickup_token: "), verdict.error
    with store.db.connection_context():
        assert not Parcel.select().where(Parcel.ref == ref).exists()


def test_an_event_without_a_token_is_taken_as_before(store: OfficeStore) -> None:
    """A kiosk of before the amendment: no QR in its reminders, nothing refused."""
    kiosk = signing_kiosk(store)
    ref, verdict = kiosk.log(company="Acme")
    assert verdict.status == "stored" and stored(store, ref).pickup_token == ""


def test_no_office_module_signs_a_pickup_token() -> None:
    """The office verifies and forwards; signing a pickup token needs a kiosk's badge key,
    which the office never holds. (It signs invitations with its site key: another kind.)"""
    office = Path(__file__).resolve().parents[2] / "kiosk" / "office"
    texts = {str(path.relative_to(office)): path.read_text() for path in office.rglob("*.py")}
    assert [name for name, text in texts.items() if "sign_subject" in text] == []
    naming = [name for name, text in texts.items() if "PARCEL_PICKUP" in text]
    assert naming == ["deliveries/pickup_tokens.py"]
    assert "TokenSigner" not in texts["deliveries/pickup_tokens.py"]
