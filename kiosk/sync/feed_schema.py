"""What each change of the office's feed must look like before a kiosk writes it.

The office checks kiosks' events at ingest (kiosk.office.event_schema), but a kiosk does not
take its word for it: a feed row may predate those checks, come from an older office, or
have been written to the office's database by hand. One bad row mirrored here would break
the roll call of every kiosk of the site, so each change is checked alone, with the same
rules (kiosk.domain.records, kiosk.domain.text), and kiosk.sync.apply skips the one that
fails, saying why.

`validate_change` raises InvalidInput naming the field and the problem.

A visit that is inside (checked in, awaiting its host, acknowledged) must say when it
arrived; a checkout that does not is still applied, because refusing it would keep the
visitor "on site" at this kiosk's roll call forever.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.domain.errors import InvalidInput
from kiosk.domain.records import (
    CODE_MAX,
    REF_MAX,
    VISIT_TIMES,
    check_flag,
    check_satisfaction,
    check_state,
    check_storable,
    check_text_field,
    parse_time,
)
from kiosk.domain.text import (
    COMPANY_MAX,
    EMAIL_MAX,
    FREE_TEXT_MAX,
    NAME_MAX,
    PHONE_MAX,
    check_text,
)
from kiosk.domain.tokens import key_id_for
from kiosk.domain.values import ON_SITE_STATES, HostAvailability
from kiosk.services.cases.deadlines import check_deadlines_change
from kiosk.services.cases.status import check_case_change

#: The matching keys the office computes from a name (kiosk.domain.names) can be far longer
#: than the name: NFKC turns U+FDFA into 18 characters, pinyin a Han character into up to 6.
#: The bound only refuses a runaway value.
KEY_MAX = 20 * NAME_MAX
KEY_KINDS = frozenset({"invitation", "badge"})
LINK_ACTIONS = frozenset({"ack", "approve", "deny"})
#: A host's channel is an apprise URL; the office allows this long a one
#: (kiosk.office.directory.check_channel).
CHANNEL_MAX = 2000
#: A key row's ref: its kind (at most "invitation") and the 64 hex digits of the key.
KEY_REF_MAX = 80


def validate_change(entity: str, ref: Any, data: Any) -> tuple[str, dict[str, Any]]:
    """The change's ref and data, checked for a kind this kiosk applies (kiosk.sync.apply's
    ORDER); InvalidInput if they fail."""
    if not isinstance(ref, str):
        raise InvalidInput("ref", "must be text")
    # A key's row is named by its kind and whole public key (kiosk.office.store).
    check_text(ref, "ref", max_length=KEY_REF_MAX if entity == "key" else REF_MAX, required=True)
    if not isinstance(data, dict):
        raise InvalidInput("data", "must be an object")
    check_storable(data, "data")
    _RULES[entity](ref, data)
    return ref, data


def _text(
    data: dict[str, Any], name: str, limit: int, *, required: bool = False, multiline: bool = False
) -> str:
    value = data.get(name)
    # What check_text_field accepts at once, without building the field's name: printable
    # text within its limit (a first pull checks a million fields).
    if type(value) is str and len(value) <= limit and value.isprintable():
        if not required or value.strip():
            return value
    elif value is None and not required:
        return ""
    return check_text_field(
        data, name, limit, field=f"data.{name}", required=required, multiline=multiline
    )


def _time(data: dict[str, Any], name: str, *, required: bool = False) -> None:
    if parse_time(data.get(name), f"data.{name}") is None and required:
        raise InvalidInput(f"data.{name}", "is required")


def _flags(data: dict[str, Any], *names: str) -> None:
    for name in names:
        check_flag(data, name, field=f"data.{name}")


def _host(ref: str, data: dict[str, Any]) -> None:
    _text(data, "name", NAME_MAX, required=True)
    _text(data, "department", NAME_MAX)
    _text(data, "email", EMAIL_MAX)
    _text(data, "phone", PHONE_MAX)
    _text(data, "delegate_ref", REF_MAX)
    channels = data.get("channels")
    if channels is not None:
        if not isinstance(channels, list):
            raise InvalidInput("data.channels", "must be a list")
        for index, channel in enumerate(channels):
            if not isinstance(channel, str):
                raise InvalidInput(f"data.channels[{index}]", "must be text")
            check_text(channel, f"data.channels[{index}]", max_length=CHANNEL_MAX)
    availability = data.get("availability")
    if availability is not None and availability not in {a.value for a in HostAvailability}:
        raise InvalidInput("data.availability", f"is not known ({str(availability)[:40]!r})")
    _flags(data, "is_senior", "walk_in_needs_approval", "active")


def _appointment(ref: str, data: dict[str, Any]) -> None:
    _text(data, "visit_ref", REF_MAX, required=True)
    _text(data, "host_ref", REF_MAX, required=True)
    _text(data, "visitor_name", NAME_MAX, required=True)
    _text(data, "exact_key", KEY_MAX)
    _text(data, "latin_key", KEY_MAX)
    _text(data, "company", COMPANY_MAX)
    _text(data, "email", EMAIL_MAX)
    _text(data, "phone", PHONE_MAX)
    for name in ("purpose", "level", "visitor_type"):
        _text(data, name, CODE_MAX)
    _text(data, "invitation_token_id", REF_MAX)
    _time(data, "starts_at", required=True)
    _time(data, "ends_at", required=True)
    _time(data, "cancelled_at")


def _watchlist(ref: str, data: dict[str, Any]) -> None:
    _text(data, "name", NAME_MAX, required=True)
    _text(data, "exact_key", KEY_MAX)
    _text(data, "latin_key", KEY_MAX)
    _text(data, "document_hash", 128)
    _text(data, "reason", FREE_TEXT_MAX, multiline=True)
    _flags(data, "active")


def _parcel(ref: str, data: dict[str, Any]) -> None:
    """Issue 20's feed entity (/work/briefs/deliveries-contract.md)."""
    code = _text(data, "pickup_code", 6, required=True)
    if not code.isdigit() or len(code) != 6:
        raise InvalidInput("data.pickup_code", "is not 6 digits")
    if data.get("state") not in ("waiting", "collected", "returned"):
        raise InvalidInput(
            "data.state", f"is not a parcel's state ({str(data.get('state'))[:20]!r})"
        )
    for name in ("kind", "carrier"):
        _text(data, name, CODE_MAX, required=True)
    _text(data, "host_ref", REF_MAX)
    _text(data, "token_id", REF_MAX)
    _text(data, "company", 120)
    _text(data, "shelf", 32)
    items = data.get("items", 1)
    if type(items) is not int or not 1 <= items <= 99:
        raise InvalidInput("data.items", "is not a count of 1..99")
    _time(data, "logged_at", required=True)
    _time(data, "collected_at")


def _revoked_token(ref: str, data: dict[str, Any]) -> None:
    _text(data, "kind", CODE_MAX)


def _used_invitation(ref: str, data: dict[str, Any]) -> None:
    _text(data, "kiosk", REF_MAX)
    _text(data, "visit", REF_MAX)


def _key(ref: str, data: dict[str, Any]) -> None:
    if data.get("kind") not in KEY_KINDS:
        raise InvalidInput("data.kind", f"is not a kind of key ({str(data.get('kind'))[:40]!r})")
    public_hex = _text(data, "public_key", 128, required=True)
    try:
        public = bytes.fromhex(public_hex)
    except ValueError as err:
        raise InvalidInput("data.public_key", "is not hexadecimal") from err
    if len(public) != 32:
        raise InvalidInput("data.public_key", "is not a raw Ed25519 public key")
    if ref not in (key_id_for(public), f"{data['kind']}:{public_hex}"):
        raise InvalidInput("data.public_key", f"does not match the key row {ref[:80]}")
    _text(data, "owner", REF_MAX)
    _flags(data, "revoked")


def _visit(ref: str, data: dict[str, Any]) -> None:
    state = check_state(data.get("state"), "data.state")
    _text(data, "visitor_name", NAME_MAX)
    _text(data, "company", COMPANY_MAX)
    _text(data, "host_ref", REF_MAX)
    _text(data, "appointment_ref", REF_MAX)
    _text(data, "kiosk", REF_MAX)
    for name in ("method", "purpose", "level", "visitor_type"):
        _text(data, name, CODE_MAX)
    for name in VISIT_TIMES:
        _time(data, name)
    # See the module docstring for why only the states inside need the arrival.
    if state in ON_SITE_STATES and data.get("arrived_at") in (None, ""):
        raise InvalidInput("data.arrived_at", f"is required for a visit {state}")
    _flags(data, "escort_required", "auto_checked_out")
    check_satisfaction(data.get("satisfaction"), "data.satisfaction")


def _link_response(ref: str, data: dict[str, Any]) -> None:
    _text(data, "kiosk", REF_MAX)
    _text(data, "visit", REF_MAX, required=True)
    if data.get("action") not in LINK_ACTIONS:
        raise InvalidInput("data.action", f"is not known ({str(data.get('action'))[:40]!r})")
    _text(data, "party", CODE_MAX)
    _time(data, "answered_at")


_RULES: dict[str, Callable[[str, dict[str, Any]], None]] = {
    "key": _key,
    "host": _host,
    "watchlist": _watchlist,
    "appointment": _appointment,
    "revoked_token": _revoked_token,
    "used_invitation": _used_invitation,
    "visit": _visit,
    "link_response": _link_response,
    "case": check_case_change,
    "parcel": _parcel,
    "case_settings": check_deadlines_change,
}
