"""Ed25519 private keys in files only their owner may read (PEM, PKCS#8, mode 0600).

Shared by the kiosk's key store (kiosk.services.keys) and the host links
(kiosk.notify.links), which the office imports too."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from kiosk.dbkit.private_files import tighten, write_private_bytes
from kiosk.domain.errors import NotFound


def create_private_key(path: Path) -> bool:
    """Create an Ed25519 key at `path` unless one is there; return True if created."""
    if path.exists():
        return False
    key = Ed25519PrivateKey.generate()
    write_private_bytes(path, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return True


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        tighten(path)  # a key copied in from a shell may have come with mode 0644
        key = load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError as err:
        raise NotFound(f"no key at {path}; run `kiosk init`") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise NotFound(f"{path} is not an Ed25519 key")
    return key
