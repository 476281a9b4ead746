"""The office's fleet of kiosks: sites and their keys, enrolment, request authentication,
revocation.

A site is made on first use with its invitation key, which never leaves the office. A kiosk
enrols with a one-time code (only its hash is stored; a kiosk may prove it knows the code
without sending it), bringing two keys of its own: one that signs its requests, one that
signs its badges. Every request of a kiosk is signed; `check_signature_headers` checks who
claims to send it before the body is read, `authenticate` the signature and the nonce.
Revoking a kiosk refuses it at once and tells the site's other kiosks to distrust its badges.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from peewee import Database, IntegrityError

from kiosk.dbkit.rows import rows_of
from kiosk.domain.clock import Clock
from kiosk.domain.errors import InvalidInput, KioskError, NotFound
from kiosk.domain.text import check_name, check_optional
from kiosk.domain.tokens import key_id_for, raw_public_key
from kiosk.office.feed import ChangeFeed, key_feed_ref
from kiosk.office.models import EnrolmentCode, Kiosk, RequestNonce, Site, SiteKey, SiteSecret
from kiosk.office.office_keys import OfficeKeys
from kiosk.sync.wire import (
    MAX_REQUEST_AGE_MS,
    enrolment_code_id,
    enrolment_key,
    enrolment_mac,
    signature_is_valid,
)

ENROLMENT_CODE_LIFETIME = timedelta(days=7)
NONCE_LIFETIME_MS = 2 * MAX_REQUEST_AGE_MS


class Unauthorized(KioskError):
    """The request is not signed by a known kiosk (HTTP 401)."""


class Forbidden(KioskError):
    """The kiosk is known but may not do this (HTTP 403): revoked, or another's data."""


def _key_ids_in_use() -> set[str]:
    """The token key ids of every key the office has handed out: site keys and badge keys."""
    ids = {row[0] for row in rows_of(SiteKey.select(SiteKey.key_id))}
    ids.update(
        key_id_for(bytes.fromhex(row[0])) for row in rows_of(Kiosk.select(Kiosk.badge_public_key))
    )
    return ids


def _refuse_known_keys(auth_public_key: str, badge_public_key: str) -> None:
    """An enrolling kiosk brings two new keys of its own. A key the office already knows (a
    site's invitation key, another kiosk's key) or one whose 4-byte token key id is already
    in use is refused: tokens name their key by that id, so a second key with it could
    shadow the first at the kiosks."""
    if auth_public_key == badge_public_key:
        raise InvalidInput("badge_public_key", "must differ from the auth key")
    known = {row[0] for row in rows_of(SiteKey.select(SiteKey.public_key))}
    for row in rows_of(Kiosk.select(Kiosk.auth_public_key, Kiosk.badge_public_key)):
        known.update(row)
    for label, value in (
        ("auth_public_key", auth_public_key),
        ("badge_public_key", badge_public_key),
    ):
        if value in known:
            raise Forbidden(f"the {label} is already registered at this office")
    if key_id_for(bytes.fromhex(badge_public_key)) in _key_ids_in_use():
        raise Forbidden("the badge_public_key's key id is already in use; make a new key")


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


class Fleet:
    """The sites, their kiosks and the keys between them."""

    def __init__(
        self, db: Database, clock: Clock, feed: ChangeFeed, office_keys: OfficeKeys
    ) -> None:
        self.db = db
        self.clock = clock
        self.feed = feed
        self.office_keys = office_keys

    def site(self, name: str) -> Site:
        """The site called `name`, created with its invitation key on first use."""
        with self.db.connection_context():
            found = Site.get_or_none(Site.name == name)
            if found is not None:
                return found
            check_name(name, "site")
            now = self.clock.now()
            with self.db.atomic():
                site = Site.create(name=name, created_at=now)
                key = Ed25519PrivateKey.generate()
                public = raw_public_key(key.public_key())
                while key_id_for(public) in _key_ids_in_use():  # one in 2**32 per key
                    key = Ed25519PrivateKey.generate()
                    public = raw_public_key(key.public_key())
                SiteKey.create(
                    site=site,
                    kind="invitation",
                    key_id=key_id_for(public),
                    public_key=public.hex(),
                    private_key_pem=key.private_bytes(
                        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
                    ).decode(),
                    created_at=now,
                )
            with self.feed.site_writes(site):
                self.feed.log(
                    site,
                    "key",
                    key_feed_ref("invitation", public.hex()),
                    {
                        "kind": "invitation",
                        "public_key": public.hex(),
                        "owner": "site",
                        "revoked": False,
                    },
                )
            return site

    def enrolment_code(self, site_name: str) -> str:
        """A one-time code for enrolling one kiosk at the site; only its hash is stored."""
        site = self.site(site_name)
        code = "-".join(secrets.token_hex(3).upper() for _ in range(3))
        now = self.clock.now()
        with self.db.connection_context():
            proof_key = enrolment_key(code)
            EnrolmentCode.create(
                code_hash=_hash_code(code),
                code_id=enrolment_code_id(proof_key),
                proof_key=proof_key.hex(),
                site=site,
                created_at=now,
                expires_at=now + ENROLMENT_CODE_LIFETIME,
            )
        return code

    def enrol(
        self, code: str, *, kiosk_id: str, name: str, auth_public_key: str, badge_public_key: str
    ) -> Kiosk:
        """Enrol a kiosk that shows the code itself (the CLI, tests, older kiosks)."""
        return self._enrol(
            lambda: EnrolmentCode.get_or_none(EnrolmentCode.code_hash == _hash_code(code)),
            kiosk_id=kiosk_id, name=name, auth_public_key=auth_public_key,
            badge_public_key=badge_public_key,
        )  # fmt: skip

    def enrol_with_proof(
        self, code_id: str, proof: str, nonce: str, fields: dict[str, str]
    ) -> tuple[Kiosk, bytes]:
        """Enrol a kiosk that proves it knows the code without sending it: `proof` is the
        HMAC of its request (kiosk.sync.wire.enrolment_mac) keyed with the code's key.
        Returns the kiosk and that key, which the answer is authenticated with."""
        found: list[bytes] = []

        def proven() -> EnrolmentCode | None:
            record = EnrolmentCode.get_or_none(EnrolmentCode.code_id == code_id)
            if record is None or not record.proof_key:
                return None
            key = bytes.fromhex(record.proof_key)
            expected = enrolment_mac(key, "request", {**fields, "nonce": nonce})
            if not hmac.compare_digest(expected, proof):
                return None
            found.append(key)
            return record

        kiosk = self._enrol(proven, **fields)
        return kiosk, found[0]

    def _enrol(
        self,
        find_code: Callable[[], EnrolmentCode | None],
        *,
        kiosk_id: str,
        name: str,
        auth_public_key: str,
        badge_public_key: str,
    ) -> Kiosk:
        now = self.clock.now()
        for label, value in (
            ("auth_public_key", auth_public_key),
            ("badge_public_key", badge_public_key),
        ):
            if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
                raise InvalidInput(label, "is not a raw Ed25519 public key in hex")
        check_optional(name, "name", 200)
        with self.db.connection_context(), self.db.atomic():
            record = find_code()
            if record is None or record.used_at is not None or record.expires_at < now:
                raise Forbidden("the enrolment code is unknown, used or expired")
            if Kiosk.get_or_none(Kiosk.kiosk_id == kiosk_id) is not None:
                raise Forbidden(f"a kiosk {kiosk_id} is already enrolled")
            _refuse_known_keys(auth_public_key, badge_public_key)
            # Taken in one UPDATE that only an unused code matches: of kiosks presenting
            # the code at once, exactly one changes the row (PostgreSQL's row lock makes
            # the others re-check `used_at` and match nothing).
            taken = (
                EnrolmentCode.update(used_at=now, used_by=kiosk_id)
                .where((EnrolmentCode.id == record.id) & EnrolmentCode.used_at.is_null())
                .execute()
            )
            if taken != 1:
                raise Forbidden("the enrolment code is unknown, used or expired")
            kiosk = Kiosk.create(
                kiosk_id=kiosk_id,
                site=record.site,
                name=name,
                auth_public_key=auth_public_key,
                badge_public_key=badge_public_key,
                enrolled_at=now,
            )
            with self.feed.site_writes(record.site):
                self.feed.log(
                    record.site,
                    "key",
                    key_feed_ref("badge", badge_public_key),
                    {
                        "kind": "badge",
                        "public_key": badge_public_key,
                        "owner": kiosk_id,
                        "revoked": False,
                    },
                )
        return kiosk

    def rotate_office_key(self) -> str:
        """A new key for the office's answers, announced to every site's kiosks in the feed;
        they accept it because the answer that brings it is signed by a key they trust."""
        now = self.clock.now()
        self.office_keys.signing(now)  # the first key exists before a second is made
        public = self.office_keys.rotate(now)
        self._announce_office_key(public, retired=False)
        return public

    def retire_office_key(self, public_key_hex: str) -> None:
        """Stop signing with a key (once every kiosk has synced since the rotation)."""
        now = self.clock.now()
        if len(self.office_keys.public(now)) < 2:
            raise InvalidInput("key", "the office's only key cannot be retired: rotate first")
        if public_key_hex not in self.office_keys.public(now):
            raise NotFound(f"no current office key {public_key_hex}")
        self._announce_office_key(public_key_hex, retired=True)
        self.office_keys.retire(public_key_hex, now)

    def _announce_office_key(self, public_key_hex: str, *, retired: bool) -> None:
        with self.db.connection_context():
            for site in Site.select():
                with self.feed.site_writes(site):
                    self.feed.log(
                        site, "office_key", public_key_hex,
                        {"public_key": public_key_hex, "retired": retired},
                    )  # fmt: skip

    def revoke_kiosk(self, kiosk_id: str) -> None:
        """Refuse the kiosk at once, and tell the others to stop trusting its badges."""
        now = self.clock.now()
        with self.db.connection_context():
            kiosk = Kiosk.get_or_none(Kiosk.kiosk_id == kiosk_id)
            if kiosk is None:
                raise NotFound(f"no kiosk {kiosk_id}")
            with self.feed.site_writes(kiosk.site):
                kiosk.revoked_at = now
                kiosk.save()
                self.feed.log(
                    kiosk.site,
                    "key",
                    key_feed_ref("badge", kiosk.badge_public_key),
                    {
                        "kind": "badge",
                        "public_key": kiosk.badge_public_key,
                        "owner": kiosk_id,
                        "revoked": True,
                    },
                )

    def check_signature_headers(self, headers: dict[str, str]) -> Kiosk:
        """The kiosk a request says it comes from, if its signature headers are well formed,
        name an enrolled kiosk and carry a time near the office's: checked before the body
        is read. Unauthorized otherwise. The signature itself is `authenticate`'s."""
        kiosk_id = headers.get("x-kiosk-id", "")
        nonce = headers.get("x-kiosk-nonce", "")
        signature = headers.get("x-kiosk-signature", "")
        try:
            time_ms = int(headers.get("x-kiosk-time", ""))
        except ValueError as err:
            raise Unauthorized("unsigned request") from err
        if not (kiosk_id and signature and 16 <= len(nonce) <= 64):
            raise Unauthorized("unsigned request")
        kiosk = Kiosk.get_or_none(Kiosk.kiosk_id == kiosk_id)
        if kiosk is None:
            raise Unauthorized("bad signature")
        now_ms = int(self.clock.now().timestamp() * 1000)
        if abs(now_ms - time_ms) > MAX_REQUEST_AGE_MS:
            raise Unauthorized("request time too far from the office's clock; resync the clock")
        return kiosk

    def authenticate(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        claimed: Kiosk | None = None,
    ) -> Kiosk:
        """The kiosk that signed this request; Unauthorized or Forbidden otherwise.
        `claimed` is what check_signature_headers already found for these headers."""
        kiosk = claimed or self.check_signature_headers(headers)
        nonce = headers["x-kiosk-nonce"]
        signature = headers["x-kiosk-signature"]
        time_ms = int(headers["x-kiosk-time"])
        if not signature_is_valid(
            kiosk.auth_public_key, method, path, time_ms, nonce, body, signature
        ):
            raise Unauthorized("bad signature")
        if kiosk.revoked_at is not None:
            raise Forbidden("this kiosk has been revoked")
        try:
            with self.feed.write_transaction():
                RequestNonce.create(kiosk=kiosk, nonce=nonce, seen_at=self.clock.now())
        except IntegrityError as err:
            raise Unauthorized("replayed request") from err
        if secrets.randbelow(50) == 0:  # now and then, forget nonces too old to matter
            RequestNonce.delete().where(
                RequestNonce.seen_at < self.clock.now() - timedelta(milliseconds=NONCE_LIFETIME_MS)
            ).execute()
        return kiosk

    def document_salt(self, site: Site) -> bytes:
        """The site's secret salt for document numbers, made on first use. Kiosks receive
        it at enrolment (see kiosk.sync.client), so hashes made here match theirs."""
        with self.db.connection_context():
            found = SiteSecret.get_or_none(
                (SiteSecret.site == site) & (SiteSecret.kind == "document_salt")
            )
            if found is None:
                with self.feed.site_writes(site):  # one writer of the site at a time: one salt
                    SiteSecret.insert(
                        site=site,
                        kind="document_salt",
                        value=secrets.token_hex(32),
                        created_at=self.clock.now(),
                    ).on_conflict_ignore().execute()
                found = SiteSecret.get(
                    (SiteSecret.site == site) & (SiteSecret.kind == "document_salt")
                )
            return bytes.fromhex(found.value)
