"""The office's host directory as the kiosks decide with it: hosts and the watchlist,
each change told to the site's kiosks through the change feed.

The web's directory logic (kiosk.office.directory: forms, CSV imports, audit, masked
channels) and the CLI call these.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from peewee import Database

from kiosk.domain.clock import Clock
from kiosk.domain.errors import NotFound
from kiosk.domain.text import check_email, check_name
from kiosk.domain.tokens import new_ref
from kiosk.office.feed import ChangeFeed, host_data, watchlist_data
from kiosk.office.models import OfficeHost, OfficeWatchlistEntry, Site


class HostDirectory:
    """The site's hosts and watchlist, as the kiosks learn them."""

    def __init__(
        self, db: Database, clock: Clock, feed: ChangeFeed, site_named: Callable[[str], Site]
    ) -> None:
        self.db = db
        self.clock = clock
        self.feed = feed
        self._site_named = site_named

    def add_host(
        self,
        site_name: str,
        name: str,
        *,
        email: str = "",
        department: str = "",
        phone: str = "",
        availability: str = "in",
        delegate_ref: str = "",
        is_senior: bool = False,
        walk_in_needs_approval: bool = False,
        channels: list[str] | None = None,
        ref: str | None = None,
        active: bool = True,
    ) -> OfficeHost:
        check_name(name)
        check_email(email)
        site = self._site_named(site_name)
        now = self.clock.now()
        with self.db.connection_context(), self.feed.site_writes(site):
            host = (
                OfficeHost.get_or_none((OfficeHost.ref == ref) & (OfficeHost.site == site))
                if ref
                else None
            )
            host = host or OfficeHost(ref=ref or new_ref(), site=site)
            host.name, host.email, host.department, host.phone = name, email, department, phone
            host.availability = availability
            host.delegate_ref = delegate_ref
            host.is_senior = is_senior
            host.walk_in_needs_approval = walk_in_needs_approval
            host.active = active
            host.channels = json.dumps(channels or ([f"mailto://{email}"] if email else []))
            host.updated_at = now
            host.save(force_insert=host.id is None)
            self.feed.log(site, "host", host.ref, host_data(host))
        return host

    def add_watchlist_entry(
        self, site_name: str, name: str, *, reason: str = "", document_hash: str | None = None
    ) -> OfficeWatchlistEntry:
        check_name(name)
        site = self._site_named(site_name)
        with self.db.connection_context(), self.feed.site_writes(site):
            entry = OfficeWatchlistEntry.create(
                ref=new_ref(), site=site, name=name, document_hash=document_hash, reason=reason,
                updated_at=self.clock.now(),
            )  # fmt: skip
            self.feed.log(site, "watchlist", entry.ref, watchlist_data(entry))
        return entry

    def set_host_active(self, host_ref: str, active: bool) -> OfficeHost:
        host: OfficeHost = self._set_active(OfficeHost, "host", "host", host_ref, active, host_data)
        return host

    def set_watchlist_active(self, entry_ref: str, active: bool) -> OfficeWatchlistEntry:
        entry: OfficeWatchlistEntry = self._set_active(
            OfficeWatchlistEntry,
            "watchlist",
            "watchlist entry",
            entry_ref,
            active,
            watchlist_data,
        )
        return entry

    def _set_active(
        self,
        model: Any,
        entity: str,
        what: str,
        ref: str,
        active: bool,
        data: Callable[[Any], dict[str, Any]],
    ) -> Any:
        """Switch a host or watchlist entry on or off, and tell the site's kiosks."""
        with self.db.connection_context():
            row = model.get_or_none(model.ref == ref)
            if row is None:
                raise NotFound(f"no {what} {ref}")
            with self.feed.site_writes(row.site):
                row.active = active
                row.updated_at = self.clock.now()
                row.save()
                self.feed.log(row.site, entity, row.ref, data(row))
        return row
