"""The directory as the office web edits it: hosts (with a CSV import and a test
notification), the watchlist and the audit of both. No web imports: the pages call these,
and so could the CLI. Staff accounts are kiosk.office.staff_accounts', the site's settings
and kiosks kiosk.office.site_admin's.

Every change commits in one transaction with its audit entry (OfficeStore.site_change), and
what kiosks decide with (hosts, watchlist entries, revoked kiosks) also goes out on the
change feed.

Channel URLs can hold passwords and tokens (`mailto://user:password@host`,
`slack://T1/B2/x3`), so they are shown and audited only masked (`mask_url`). A form that
comes back with a masked line means "keep that channel": `restore_masked` puts the stored
URL back, so the browser never holds a secret it could leak.

Identity document numbers never reach the database: a watchlist entry keeps the HMAC of the
number keyed with the site's salt (kiosk.domain.identity), the salt the office gives every
kiosk of the site at enrolment, so the kiosks' hashes of a scanned document match.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kiosk.domain import names
from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.domain.identity import hash_document_number, normalise_document_number
from kiosk.domain.text import (
    FREE_TEXT_MAX,
    check_email,
    check_name,
    check_optional,
    check_phone,
    check_text,
)
from kiosk.domain.tokens import new_ref
from kiosk.domain.values import HostAvailability
from kiosk.notify.channels import Message, Sender
from kiosk.office.channel_policy import ChannelPolicy, check_channel_target
from kiosk.office.models import (
    AuditEntry,
    OfficeHost,
    OfficeWatchlistEntry,
    Site,
)
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore

MASK = "***"
DEPARTMENT_MAX = 200
REASON_MAX = FREE_TEXT_MAX
MAX_CHANNELS = 20
MAX_IMPORT_BYTES = 2_000_000
MAX_IMPORT_ROWS = 5_000
HOST_CSV_COLUMNS = ("name", "department", "email", "phone", "delegate_email", "channels")
#: Query keys whose values say where a message goes, not how to get in: shown as they are.
_PLAIN_QUERY_KEYS = frozenset(
    {"to", "cc", "bcc", "from", "name", "format", "mode", "method", "smtp", "port", "user"}
)


# ---------------------------------------------------------------- channel URLs


def mask_url(url: str) -> str:
    """The URL with whatever could be a secret replaced by ***: the password of the user
    part, a host that is not a host name (chat services put their token there), path
    segments that are not plain words, and query values other than addresses and formats.
    `mailto://user:secret@host` -> `mailto://user:***@host`."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return f"{url.split(':', 1)[0]}://{MASK}" if "://" in url else MASK
    if not parts.scheme:
        return MASK
    netloc = ""
    if parts.username is not None:
        netloc = parts.username + (f":{MASK}" if parts.password is not None else "") + "@"
    looks_like_host = "." in host or host == "localhost" or ":" in host
    netloc += (host if looks_like_host or parts.username is not None else MASK) if host else ""
    if port is not None:
        netloc += f":{port}"
    segments = [
        segment if segment == "" or (segment.isalpha() and len(segment) <= 12) else MASK
        for segment in parts.path.split("/")
    ]
    query = urlencode(
        [
            (key, value if key.lower() in _PLAIN_QUERY_KEYS else MASK)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*@",
    )
    return urlunsplit((parts.scheme, netloc, "/".join(segments), query, parts.fragment))


def restore_masked(lines: Iterable[str], current: Iterable[str]) -> list[str]:
    """The channels a form sent back: a line that is the masked form of a stored channel
    stands for that channel (each stored one used once); other lines are new URLs."""
    unused: dict[str, list[str]] = {}
    for url in current:
        unused.setdefault(mask_url(url), []).append(url)
    restored = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if unused.get(line):
            restored.append(unused[line].pop(0))
        else:
            restored.append(line)
    return restored


def check_channel(
    url: str, field_name: str = "channels", policy: ChannelPolicy | None = None
) -> str:
    """An apprise URL apprise can use, and (given the policy of the person adding it) one
    they may add; raises InvalidInput naming the URL only masked."""
    import apprise

    check_text(url, field_name, max_length=2000, required=True)
    if not apprise.Apprise().add(url):
        raise InvalidInput(field_name, f"{mask_url(url)} is not a channel URL apprise knows")
    if policy is not None:
        check_channel_target(url, policy, field_name, mask_url(url))
    return url


def parse_channels(
    lines: Iterable[str],
    current: Iterable[str] = (),
    field_name: str = "channels",
    policy: ChannelPolicy | None = None,
) -> list[str]:
    """The channel list a form sent, masked lines restored; the policy judges only the
    URLs added now (those already stored stay, whoever edits the rest)."""
    stored = set(current)
    channels = restore_masked(lines, stored)
    if len(channels) > MAX_CHANNELS:
        raise InvalidInput(field_name, f"at most {MAX_CHANNELS} channels")
    for url in channels:
        check_channel(url, field_name, None if url in stored else policy)
    return list(dict.fromkeys(channels))


# ---------------------------------------------------------------- hosts


@dataclass
class HostFields:
    name: str
    department: str = ""
    email: str = ""
    phone: str = ""
    availability: str = HostAvailability.IN.value
    delegate_ref: str = ""
    is_senior: bool = False
    walk_in_needs_approval: bool = False
    active: bool = True
    channels: list[str] = field(default_factory=list)


def _site(site_id: int) -> Site:
    return Site.get_by_id(site_id)


def host_channels(host: OfficeHost) -> list[str]:
    return list(json.loads(host.channels or "[]"))


def hosts_of(site_id: int, query: str = "", *, include_inactive: bool = True) -> list[OfficeHost]:
    """The site's hosts by name, those matching `query` by name, pinyin, initials,
    department or e-mail: 张伟, "zhang wei", "zhangwei", "zw" and "行政" all find 张伟
    of 行政部."""
    select = OfficeHost.select().where(OfficeHost.site == site_id)
    if not include_inactive:
        select = select.where(OfficeHost.active == True)  # noqa: E712 (peewee)
    hosts = sorted(select, key=lambda host: (not host.active, _alphabetical(host.name)))
    wanted = names.exact_key(query)
    if not wanted:
        return hosts
    needles = {wanted, wanted.replace(" ", "")}
    return [
        host
        for host in hosts
        if any(
            needle in names.search_key(host.name, host.department) + "|" + host.email.lower()
            for needle in needles
        )
    ]


def _alphabetical(name: str) -> str:
    """Chinese names among the others by their pinyin: 李娜 between Kim and Maria."""
    pieces = names.search_key(name).split("|")
    return pieces[1] if names.has_han(name) and len(pieces) > 1 else pieces[0]


def host_of(site_id: int, ref: str) -> OfficeHost:
    host = OfficeHost.get_or_none((OfficeHost.ref == ref) & (OfficeHost.site == site_id))
    if host is None:
        raise NotFound(f"no host {ref}")
    return host


def _host_view(host: OfficeHost) -> dict[str, Any]:
    """A host's fields as the audit records them: channels masked."""
    return {
        "name": host.name,
        "department": host.department,
        "email": host.email,
        "phone": host.phone,
        "availability": host.availability,
        "delegate_ref": host.delegate_ref,
        "is_senior": host.is_senior,
        "walk_in_needs_approval": host.walk_in_needs_approval,
        "active": host.active,
        "channels": [mask_url(url) for url in host_channels(host)],
    }


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {"from": before.get(name), "to": value}
        for name, value in after.items()
        if before.get(name) != value
    }


def check_host_fields(site_id: int, fields: HostFields, ref: str | None = None) -> HostFields:
    check_name(fields.name)
    check_optional(fields.department, "department", DEPARTMENT_MAX)
    check_email(fields.email)
    check_phone(fields.phone)
    if fields.availability not in {item.value for item in HostAvailability}:
        raise InvalidInput("availability", "must be in, out or in_meeting")
    if fields.delegate_ref:
        if fields.delegate_ref == ref:
            raise InvalidInput("delegate", "a host cannot be their own delegate")
        delegate = OfficeHost.get_or_none(
            (OfficeHost.ref == fields.delegate_ref) & (OfficeHost.site == site_id)
        )
        if delegate is None or not delegate.active:
            raise InvalidInput("delegate", "is not an active host of this site")
    for url in fields.channels:
        check_channel(url)
    return fields


def save_host(
    store: OfficeStore,
    staff: StaffDirectory,
    site_id: int,
    actor: str,
    fields: HostFields,
    ref: str | None = None,
) -> OfficeHost:
    """Add a host, or change the host `ref` (same ref: kiosks update their copy)."""
    site = _site(site_id)
    before = _host_view(host_of(site_id, ref)) if ref else {}
    check_host_fields(site_id, fields, ref)
    with store.site_change(site):
        host = store.add_host(
            site.name,
            fields.name,
            email=fields.email,
            department=fields.department,
            phone=fields.phone,
            availability=fields.availability,
            delegate_ref=fields.delegate_ref,
            is_senior=fields.is_senior,
            walk_in_needs_approval=fields.walk_in_needs_approval,
            channels=fields.channels,
            ref=ref,
            active=fields.active,
        )
        staff.audit(
            site,
            actor,
            "host.update" if ref else "host.add",
            entity="host",
            ref=host.ref,
            detail=changed_fields(before, _host_view(host)),
        )
    return host


def set_host_active(
    store: OfficeStore, staff: StaffDirectory, site_id: int, actor: str, ref: str, active: bool
) -> OfficeHost:
    site = _site(site_id)
    host_of(site_id, ref)
    with store.site_change(site):
        host = store.set_host_active(ref, active)
        staff.audit(
            site,
            actor,
            "host.reactivate" if active else "host.deactivate",
            entity="host",
            ref=ref,
            detail={"name": host.name},
        )
    return host


# ---------------------------------------------------------------- hosts from CSV


@dataclass
class RowError:
    line: int  # the line of the file, counting the header as line 1
    message: str


@dataclass
class HostRow:
    line: int
    ref: str
    existing: bool
    fields: HostFields
    delegate_email: str = ""


@dataclass
class ImportResult:
    rows: list[HostRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(not row.existing for row in self.rows)

    @property
    def updated(self) -> int:
        return sum(row.existing for row in self.rows)


def check_hosts_csv(site_id: int, data: bytes, policy: ChannelPolicy | None = None) -> ImportResult:
    """Every row of a hosts CSV checked, nothing written. Columns: name, department, email,
    phone, delegate_email, channels (apprise URLs separated by spaces); UTF-8 with or
    without a BOM. A row whose e-mail is a host's already updates that host: its name,
    department and phone; its delegate and channels only where the cell is not empty."""
    result = ImportResult()
    if len(data) > MAX_IMPORT_BYTES:
        result.errors.append(RowError(0, f"the file is larger than {MAX_IMPORT_BYTES} bytes"))
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        result.errors.append(RowError(line, "is not UTF-8: save the file as CSV UTF-8"))
        return result
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if "name" not in header:
        result.errors.append(RowError(1, "the first line must name the columns, with name"))
        return result
    unknown = [name for name in header if name not in HOST_CSV_COLUMNS]
    if unknown:
        result.errors.append(
            RowError(1, f"unknown columns {', '.join(unknown)}; "
                        f"known: {', '.join(HOST_CSV_COLUMNS)}")
        )  # fmt: skip
        return result
    reader.fieldnames = header
    known = {
        host.email.lower(): host
        for host in OfficeHost.select().where(OfficeHost.site == site_id)
        if host.email
    }
    in_file: dict[str, HostRow] = {}
    for record in reader:
        line = reader.line_num
        if len(result.rows) + len(result.errors) >= MAX_IMPORT_ROWS:
            result.errors.append(RowError(line, f"at most {MAX_IMPORT_ROWS} rows an import"))
            break
        if None in record:
            result.errors.append(RowError(line, "has more cells than the header has columns"))
            continue
        cells = {name: (record.get(name) or "").strip() for name in HOST_CSV_COLUMNS}
        try:
            row = _host_row(line, cells, known, policy)
        except InvalidInput as err:
            result.errors.append(RowError(line, str(err)))
            continue
        email = row.fields.email.lower()
        if email and email in in_file:
            result.errors.append(
                RowError(line, f"email: {row.fields.email} is also on line {in_file[email].line}")
            )
            continue
        if email:
            in_file[email] = row
        result.rows.append(row)
    refs = {email: host.ref for email, host in known.items()}
    refs.update({email: row.ref for email, row in in_file.items()})
    for row in result.rows:
        wanted = row.delegate_email.lower()
        if not wanted:
            continue
        if wanted not in refs:
            result.errors.append(
                RowError(row.line, f"delegate_email: no host has the address {row.delegate_email}")
            )
        elif refs[wanted] == row.ref:
            result.errors.append(RowError(row.line, "delegate_email: a host cannot be their own"))
        else:
            row.fields.delegate_ref = refs[wanted]
    result.errors.sort(key=lambda error: error.line)
    return result


def _host_row(
    line: int, cells: dict[str, str], known: dict[str, OfficeHost], policy: ChannelPolicy | None
) -> HostRow:
    check_name(cells["name"])
    check_optional(cells["department"], "department", DEPARTMENT_MAX)
    check_email(cells["email"])
    check_phone(cells["phone"])
    check_email(cells["delegate_email"], "delegate_email")
    channels = [url for url in cells["channels"].split() if url]
    existing = known.get(cells["email"].lower()) if cells["email"] else None
    stored = set(host_channels(existing)) if existing else set()
    for url in channels:
        check_channel(url, policy=None if url in stored else policy)
    fields = HostFields(
        name=cells["name"],
        department=cells["department"],
        email=cells["email"],
        phone=cells["phone"],
        channels=channels,
    )
    if existing is not None:
        # What the file does not say stays as it was.
        fields.availability = existing.availability
        fields.is_senior = existing.is_senior
        fields.walk_in_needs_approval = existing.walk_in_needs_approval
        fields.delegate_ref = existing.delegate_ref
        fields.channels = channels or host_channels(existing)
    return HostRow(
        line=line,
        ref=existing.ref if existing else new_ref(),
        existing=existing is not None,
        fields=fields,
        delegate_email=cells["delegate_email"],
    )


def import_hosts(
    store: OfficeStore,
    staff: StaffDirectory,
    site_id: int,
    actor: str,
    data: bytes,
    policy: ChannelPolicy | None = None,
) -> ImportResult:
    """Check the whole file; if any row is wrong, write nothing and return the errors.
    Otherwise add and update every host in one transaction."""
    site = _site(site_id)
    result = check_hosts_csv(site_id, data, policy)
    if result.errors or not result.rows:
        if not result.rows and not result.errors:
            result.errors.append(RowError(2, "the file has no hosts"))
        return result
    with store.site_change(site):
        for row in result.rows:
            store.add_host(
                site.name,
                row.fields.name,
                email=row.fields.email,
                department=row.fields.department,
                phone=row.fields.phone,
                availability=row.fields.availability,
                delegate_ref=row.fields.delegate_ref,
                is_senior=row.fields.is_senior,
                walk_in_needs_approval=row.fields.walk_in_needs_approval,
                channels=row.fields.channels,
                ref=row.ref,
            )
        staff.audit(
            site,
            actor,
            "host.import",
            entity="host",
            detail={
                "created": [row.ref for row in result.rows if not row.existing],
                "updated": [row.ref for row in result.rows if row.existing],
            },
        )
    return result


# ---------------------------------------------------------------- test notification


@dataclass
class ChannelOutcome:
    channel: str  # masked
    ok: bool
    error: str = ""


def send_test_notification(
    staff: StaffDirectory,
    site_id: int,
    actor: str,
    ref: str,
    sender: Sender,
    policy: ChannelPolicy | None = None,
) -> list[ChannelOutcome]:
    """A short test message to each of the host's channels, each outcome on its own. A
    channel whose host now names an address the policy refuses is not sent to."""
    site = _site(site_id)
    host = host_of(site_id, ref)
    message = Message(
        title=f"Test from the reception of {site.name}",
        body=(
            f"Hello {host.name}, this is a test from the office. When a visitor arrives "
            f"for you at {site.name}, the kiosk tells you through this channel."
        ),
    )
    outcomes = []
    for url in host_channels(host):
        if policy is not None:
            try:
                check_channel_target(url, replace(policy, webhooks=True), "channel", "")
            except InvalidInput as err:
                outcomes.append(ChannelOutcome(mask_url(url), False, str(err)))
                continue
        sent = sender.send(url, message)
        outcomes.append(ChannelOutcome(mask_url(url), sent.ok, mask_secrets(sent.error, url)))
    with staff.db.atomic():
        staff.audit(
            site,
            actor,
            "host.test_notification",
            entity="host",
            ref=ref,
            detail={"channels": [vars(outcome) for outcome in outcomes]},
        )
    return outcomes


def mask_secrets(text: str, url: str) -> str:
    """An error message with the parts mask_url hides taken out, should a plugin repeat
    them (host names stay: they help to find the fault)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return MASK
    hidden = [parts.password or ""]
    if host and parts.username is None and not ("." in host or host == "localhost"):
        hidden.append(host)
    hidden += [
        segment
        for segment in parts.path.split("/")
        if not (segment.isalpha() and len(segment) <= 12)
    ]
    hidden += [
        value for key, value in parse_qsl(parts.query) if key.lower() not in _PLAIN_QUERY_KEYS
    ]
    text = text.replace(url, mask_url(url))
    for secret in sorted(hidden, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, MASK)
    return text


# ---------------------------------------------------------------- watchlist


def watchlist_of(site_id: int) -> list[OfficeWatchlistEntry]:
    return list(
        OfficeWatchlistEntry.select()
        .where(OfficeWatchlistEntry.site == site_id)
        .order_by(OfficeWatchlistEntry.active.desc(), OfficeWatchlistEntry.name)
    )


def add_watchlist_entry(
    store: OfficeStore,
    staff: StaffDirectory,
    site_id: int,
    actor: str,
    name: str,
    *,
    document_number: str = "",
    reason: str = "",
) -> OfficeWatchlistEntry:
    """A watchlist entry; the document number is kept only as its salted hash."""
    site = _site(site_id)
    check_name(name)
    check_text(reason, "reason", max_length=REASON_MAX, multiline=True)
    document_hash = None
    if document_number.strip():
        check_text(document_number, "document_number", max_length=64)
        if not normalise_document_number(document_number):
            raise InvalidInput("document_number", "has no letters or digits")
        document_hash = hash_document_number(document_number, store.document_salt(site))
    with store.site_change(site):
        entry = store.add_watchlist_entry(
            site.name, name, reason=reason, document_hash=document_hash
        )
        staff.audit(
            site,
            actor,
            "watchlist.add",
            entity="watchlist",
            ref=entry.ref,
            detail={"name": name, "reason": reason, "document": document_hash is not None},
        )
    return entry


def set_watchlist_active(
    store: OfficeStore, staff: StaffDirectory, site_id: int, actor: str, ref: str, active: bool
) -> OfficeWatchlistEntry:
    site = _site(site_id)
    found = OfficeWatchlistEntry.get_or_none(
        (OfficeWatchlistEntry.ref == ref) & (OfficeWatchlistEntry.site == site_id)
    )
    if found is None:
        raise NotFound(f"no watchlist entry {ref}")
    with store.site_change(site):
        entry = store.set_watchlist_active(ref, active)
        staff.audit(
            site,
            actor,
            "watchlist.reactivate" if active else "watchlist.deactivate",
            entity="watchlist",
            ref=ref,
            detail={"name": entry.name},
        )
    return entry


@dataclass
class AuditLine:
    at: datetime
    actor: str
    action: str
    ref: str
    detail: dict[str, Any]


def audit_of(site_id: int, entity: str, limit: int = 200) -> list[AuditLine]:
    """The newest audit entries about one kind of thing at the site."""
    return [
        AuditLine(entry.at, entry.actor, entry.action, entry.ref, json.loads(entry.detail or "{}"))
        for entry in AuditEntry.select()
        .where((AuditEntry.site == site_id) & (AuditEntry.entity == entity))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    ]
