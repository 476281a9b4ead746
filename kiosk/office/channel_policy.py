"""Who may point the office's notifications where: a guard against using the office to
reach machines on its own network (server-side request forgery).

Two rules, applied to each channel URL a person adds (channels already stored and sent back
masked are theirs to keep):
- webhooks (apprise's json://, xml://, form:// and apprise:// kinds, which POST to any URL)
  may be set by admins only;
- no channel may name a loopback, private, link-local or otherwise non-public address,
  directly or through its host name, unless the office's settings allow it
  (KIOSK_OFFICE_ALLOW_PRIVATE_CHANNELS=1, for a mail relay or chat server on the office's
  own network).

A host name that does not resolve is let through: it reaches nothing now, and whether it
resolves at send time is checked again before a test message goes out.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from kiosk.domain.errors import InvalidInput

WEBHOOK_SCHEMES = frozenset(
    {"json", "jsons", "xml", "xmls", "form", "forms", "apprise", "apprises"}
)


@dataclass(frozen=True)
class ChannelPolicy:
    webhooks: bool = False
    private_addresses: bool = False


def non_public_address(host: str) -> str | None:
    """The address that makes `host` not public, or None when it is public (or does not
    resolve)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return host
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    for address in addresses:
        if not address.is_global:
            return str(address)
    return None


def check_channel_target(url: str, policy: ChannelPolicy, field_name: str, shown: str) -> None:
    """InvalidInput when `policy` does not let this person add `url` (`shown`: masked)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in WEBHOOK_SCHEMES and not policy.webhooks:
        raise InvalidInput(field_name, f"{shown}: only an admin may add a webhook")
    if policy.private_addresses or not parts.hostname:
        return
    blocked = non_public_address(parts.hostname)
    if blocked is not None:
        raise InvalidInput(
            field_name, f"{shown}: {blocked} is not a public address; the office's settings "
            "do not allow channels on its own network",
        )  # fmt: skip
