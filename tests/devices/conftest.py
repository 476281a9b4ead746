"""Fixtures for the devices tests; helpers live in devices_helpers.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from devices_helpers import CALIFORNIA_ELEMENTS, NOW, aamva_payload

from kiosk.domain.tokens import KeyRing, TokenKind, TokenSigner, TokenVerifier


@pytest.fixture
def california_dl() -> bytes:
    return aamva_payload(CALIFORNIA_ELEMENTS)


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(Ed25519PrivateKey.generate())


@pytest.fixture
def verifier(signer: TokenSigner) -> TokenVerifier:
    ring = KeyRing()
    ring.trust(TokenKind.BADGE, signer.public_key)
    return TokenVerifier(ring, lambda: NOW + timedelta(hours=1))
