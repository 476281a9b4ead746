"""Signed tokens: every way a token can be wrong gives its own reason, never a crash, and
nothing forged, mutated or truncated is ever accepted."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kiosk.domain.errors import RejectReason, TokenRejected
from kiosk.domain.tokens import (
    MAX_NAME_BYTES,
    KeyRing,
    TokenKind,
    TokenSigner,
    TokenVerifier,
    new_ref,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SITE = TokenSigner(Ed25519PrivateKey.generate())
KIOSK = TokenSigner(Ed25519PrivateKey.generate())
STRANGER = TokenSigner(Ed25519PrivateKey.generate())


def keyring() -> KeyRing:
    ring = KeyRing()
    ring.trust(TokenKind.INVITATION, SITE.public_key)
    ring.trust(TokenKind.BADGE, KIOSK.public_key)
    return ring


VERIFIER = TokenVerifier(keyring(), lambda: NOW)


def invitation(signer: TokenSigner = SITE, name: str = "张伟", **window: datetime) -> str:
    text, _ = signer.sign_invitation(
        appointment_ref=new_ref(),
        host_ref=new_ref(),
        visitor_name=name,
        not_before=window.get("not_before", NOW - timedelta(hours=1)),
        not_after=window.get("not_after", NOW + timedelta(hours=1)),
    )
    return text


def badge(signer: TokenSigner = KIOSK, **window: datetime) -> str:
    text, _ = signer.sign_badge(
        visit_ref=new_ref(),
        not_before=window.get("not_before", NOW - timedelta(hours=1)),
        not_after=window.get("not_after", NOW + timedelta(hours=1)),
    )
    return text


def reason(text: str, kind: TokenKind) -> RejectReason:
    with pytest.raises(TokenRejected) as caught:
        VERIFIER.verify(text, kind)
    return caught.value.reason


def test_an_invitation_round_trips_with_its_claims() -> None:
    text, signed = SITE.sign_invitation(
        appointment_ref="0123456789abcdef",
        host_ref="fedcba9876543210",
        visitor_name="Zoë O'Brien",
        not_before=NOW - timedelta(minutes=30),
        not_after=NOW + timedelta(hours=4),
    )
    token = VERIFIER.verify(text, TokenKind.INVITATION)
    assert token == signed
    assert token.subject_ref == "0123456789abcdef"
    assert token.host_ref == "fedcba9876543210"
    assert token.visitor_name == "Zoë O'Brien"


def test_a_badge_round_trips() -> None:
    text, signed = KIOSK.sign_badge(
        visit_ref="00ff00ff00ff00ff", not_before=NOW, not_after=NOW + timedelta(hours=8)
    )
    assert VERIFIER.verify(text, TokenKind.BADGE) == signed


def test_long_names_are_cut_on_a_character_boundary() -> None:
    text = invitation(name="张" * 40)  # 120 bytes of UTF-8
    token = VERIFIER.verify(text, TokenKind.INVITATION)
    assert token.visitor_name == "张" * (MAX_NAME_BYTES // 3)


def test_tokens_are_lowercase_and_whitespace_tolerant() -> None:
    text = badge()
    spaced = " ".join(text[i : i + 8] for i in range(0, len(text), 8)).lower()
    assert VERIFIER.verify(spaced, TokenKind.BADGE)


@pytest.mark.parametrize(
    ("make", "kind", "expected"),
    [
        (lambda: invitation(signer=STRANGER), TokenKind.INVITATION, RejectReason.UNKNOWN_KEY),
        (lambda: badge(signer=STRANGER), TokenKind.BADGE, RejectReason.UNKNOWN_KEY),
        # A kiosk's badge key cannot mint invitations: it is not trusted for that kind.
        (lambda: invitation(signer=KIOSK), TokenKind.INVITATION, RejectReason.UNKNOWN_KEY),
        (lambda: badge(), TokenKind.INVITATION, RejectReason.WRONG_KIND),
        (lambda: invitation(), TokenKind.BADGE, RejectReason.WRONG_KIND),
        (
            lambda: invitation(
                not_before=NOW - timedelta(hours=5), not_after=NOW - timedelta(hours=1)
            ),
            TokenKind.INVITATION,
            RejectReason.EXPIRED,
        ),
        (
            lambda: badge(not_before=NOW + timedelta(hours=1), not_after=NOW + timedelta(hours=5)),
            TokenKind.BADGE,
            RejectReason.NOT_YET_VALID,
        ),
        (lambda: "", TokenKind.BADGE, RejectReason.MALFORMED),
        (lambda: "https://evil.example/", TokenKind.BADGE, RejectReason.MALFORMED),
        (lambda: "A", TokenKind.BADGE, RejectReason.MALFORMED),
        (
            lambda: base64.b32encode(b"\x02" + bytes(120)).decode(),
            TokenKind.BADGE,
            RejectReason.UNSUPPORTED_VERSION,
        ),
        (lambda: badge()[:-10], TokenKind.BADGE, RejectReason.TRUNCATED),
        (lambda: badge() + "AAAAAAAA", TokenKind.BADGE, RejectReason.MALFORMED),
    ],
)
def test_each_fault_has_its_reason(make, kind: TokenKind, expected: RejectReason) -> None:
    assert reason(make(), kind) is expected


def test_a_bit_flip_in_the_signature_is_a_bad_signature() -> None:
    text = badge()
    raw = bytearray(base64.b32decode(text + "=" * (-len(text) % 8)))
    raw[-1] ^= 0x01
    tampered = base64.b32encode(bytes(raw)).decode().rstrip("=")
    assert reason(tampered, TokenKind.BADGE) is RejectReason.BAD_SIGNATURE


def test_clock_skew_within_the_leeway_is_tolerated() -> None:
    text = badge(not_before=NOW + timedelta(minutes=3), not_after=NOW + timedelta(hours=1))
    assert VERIFIER.verify(text, TokenKind.BADGE)


def test_a_revoked_key_is_refused() -> None:
    ring = keyring()
    ring.revoke(TokenKind.BADGE, KIOSK.key_id)
    with pytest.raises(TokenRejected) as caught:
        TokenVerifier(ring, lambda: NOW).verify(badge(), TokenKind.BADGE)
    assert caught.value.reason is RejectReason.KEY_REVOKED


def test_an_expired_badge_can_still_be_read_for_check_out() -> None:
    text = badge(not_before=NOW - timedelta(hours=9), not_after=NOW - timedelta(hours=1))
    assert VERIFIER.verify(text, TokenKind.BADGE, allow_expired=True)


@pytest.mark.parametrize("name", ["A", "张" * 16, "Ω" * 24, "x" * 48])
def test_the_largest_tokens_fit_a_version_10_qr_at_level_m(name: str) -> None:
    for text in (invitation(name=name), badge()):
        code = segno.make(text, error="m", micro=False, boost_error=False)
        assert code.version <= 10
        assert code.mode == "alphanumeric"


# ------------------------------------------------------------------ properties

TOKENS = [invitation(), badge()]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, 1), data=st.data())
def test_no_single_bit_flip_is_ever_accepted(which: int, data: st.DataObject) -> None:
    text = TOKENS[which]
    raw = bytearray(base64.b32decode(text + "=" * (-len(text) % 8)))
    position = data.draw(st.integers(0, len(raw) - 1))
    bit = data.draw(st.integers(0, 7))
    raw[position] ^= 1 << bit
    mutated = base64.b32encode(bytes(raw)).decode().rstrip("=")
    for kind in TokenKind:
        with pytest.raises(TokenRejected):
            VERIFIER.verify(mutated, kind)


@settings(max_examples=300)
@given(which=st.integers(0, 1), cut=st.integers(0, 300))
def test_no_prefix_is_ever_accepted(which: int, cut: int) -> None:
    text = TOKENS[which]
    if cut >= len(text):
        return
    for kind in TokenKind:
        with pytest.raises(TokenRejected):
            VERIFIER.verify(text[:cut], kind)


@settings(max_examples=300)
@given(garbage=st.text(max_size=400))
def test_garbage_text_of_any_length_is_rejected_without_a_crash(garbage: str) -> None:
    for kind in TokenKind:
        with pytest.raises(TokenRejected):
            VERIFIER.verify(garbage, kind)


@settings(max_examples=300)
@given(raw=st.binary(max_size=300))
def test_random_bytes_in_the_token_alphabet_are_rejected(raw: bytes) -> None:
    text = base64.b32encode(raw).decode().rstrip("=")
    for kind in TokenKind:
        with pytest.raises(TokenRejected):
            VERIFIER.verify(text, kind)


@settings(max_examples=200)
@given(
    appointment=st.binary(min_size=8, max_size=8),
    host=st.binary(min_size=8, max_size=8),
    name=st.text(max_size=60),
    forged_signature=st.binary(min_size=64, max_size=64),
)
def test_a_token_with_any_other_signature_is_rejected(
    appointment: bytes, host: bytes, name: str, forged_signature: bytes
) -> None:
    genuine = invitation(name=name)
    raw = base64.b32decode(genuine + "=" * (-len(genuine) % 8))
    forged = raw[:-64] + forged_signature
    if forged == raw:
        return
    text = base64.b32encode(forged).decode().rstrip("=")
    with pytest.raises(TokenRejected) as caught:
        VERIFIER.verify(text, TokenKind.INVITATION)
    assert caught.value.reason is RejectReason.BAD_SIGNATURE


@pytest.mark.slow
@settings(max_examples=20_000, deadline=None)
@given(which=st.integers(0, 1), data=st.data())
def test_long_fuzz_of_multi_byte_mutations(which: int, data: st.DataObject) -> None:
    """make test-slow: many mutations at once, anywhere, never accepted."""
    text = TOKENS[which]
    raw = bytearray(base64.b32decode(text + "=" * (-len(text) % 8)))
    changes = data.draw(
        st.lists(
            st.tuples(st.integers(0, len(raw) - 1), st.integers(1, 255)), min_size=1, max_size=8
        )
    )
    original = bytes(raw)
    for position, mask in changes:
        raw[position] ^= mask
    assume(bytes(raw) != original)  # two changes at one place can cancel out
    mutated = base64.b32encode(bytes(raw)).decode().rstrip("=")
    for kind in TokenKind:
        with pytest.raises(TokenRejected):
            VERIFIER.verify(mutated, kind)
