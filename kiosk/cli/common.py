"""What every command group of `kiosk` shares: adding a command, opening the kiosk of
--config, printing JSON or text, and showing times and stored text.

    Commands        adds a command (with --config and --json) or a group of subcommands
    open_kiosk      the kiosk of --config (kiosk.app builds it); JSON times in its zone
    emit            data as JSON with --json, else text; no control character gets through
    site_time       a moment as every JSON time is written (ISO 8601, the site's offset)
    stop_on_signals an event SIGTERM and Ctrl+C set (the loops of sync, notify, office)

Nothing here imports more than the standard library and kiosk.domain at import time:
`kiosk run` builds this parser in the touchscreen's process.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any

from kiosk.domain.text import MISSING, shown

Handler = Callable[[argparse.Namespace], int]


# ----------------------------------------------------------------------------- commands


def needs_subcommand(_args: argparse.Namespace) -> int:
    """The handler of a group (`kiosk hosts`): never run, argparse asks for a subcommand."""
    return 2


class Commands:
    """Adds commands to a parser; each takes --config and --json after its name too.

    `common` is the parent parser holding those two options (their defaults SUPPRESS, so
    they do not reset what was given before the command)."""

    def __init__(self, subparsers: Any, common: argparse.ArgumentParser) -> None:
        self._subparsers = subparsers
        self._common = common
        self._groups: dict[str, Any] = {}

    def add(
        self, name: str, handler: Handler, help_text: str, parent: Any = None
    ) -> argparse.ArgumentParser:
        """A command `name` run by `handler`; under `parent` (a group's subparsers) if given."""
        where = self._subparsers if parent is None else parent
        sub = where.add_parser(name, help=help_text, description=help_text, parents=[self._common])
        sub.set_defaults(handler=handler)
        return sub

    def group(self, name: str, help_text: str, dest: str) -> Any:
        """A command with subcommands (`kiosk hosts add`): the subparsers to add them to."""
        subparsers = self.add(name, needs_subcommand, help_text).add_subparsers(
            dest=dest, required=True
        )
        self._groups[name] = subparsers
        return subparsers

    def existing_group(self, name: str) -> Any:
        """The subparsers of a group an earlier module added, for a module of its own that
        adds commands under it (`kiosk office deliveries`)."""
        return self._groups[name]


# ----------------------------------------------------------------------------- output


def plain(value: Any) -> Any:
    """`value` as JSON's types, but for times, left as they are for `site_time` (in emit)."""
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, date | time) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, Path):
        return str(value)
    return value


def site_time(moment: datetime, zone: tzinfo | None) -> str:
    """A moment as JSON shows it, in every command: ISO 8601 with the site's own offset,
    "2026-12-07T10:42:00+08:00" (a naive time is taken as UTC, as the kiosk stores it).
    Without a site (a command that opens none) it keeps its own offset."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware.astimezone(zone) if zone is not None else aware).isoformat()


#: Characters json.dumps(ensure_ascii=False) leaves raw that must not reach a terminal: DEL,
#: the C1 controls (U+009B is a CSI to many terminals) and lone surrogates (which print
#: cannot even encode). JSON's \u escapes keep the data exact.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff]")


def emit(args: argparse.Namespace, data: Any, text: str | Callable[[], str]) -> None:
    """Print `data` as JSON with --json, else `text`. Either way no control character
    from the data reaches the terminal: names come from visitors and from other machines.

    Times in `data` are written by `site_time` in the zone of the site `open_kiosk` opened."""
    if getattr(args, "json", False):
        zone = getattr(args, "site_zone", None)

        def encode_time(value: object) -> str:
            if isinstance(value, datetime):
                return site_time(value, zone)
            raise TypeError(f"{type(value).__name__} is not JSON")

        encoded = json.dumps(plain(data), ensure_ascii=False, indent=2, default=encode_time)
        print(_JSON_UNSAFE.sub(lambda found: f"\\u{ord(found.group()):04x}", encoded))
    else:
        print(_terminal_safe(text() if callable(text) else text))


def _terminal_safe(text: str) -> str:
    """`text` with its lines and tabs kept and every other control character replaced."""
    return "\n".join(
        "\t".join(shown(part) for part in line.split("\t")) for line in text.split("\n")
    )


def list_field(value: object) -> str:
    """A stored text as one line of a list: control characters shown as U+FFFD (tabs and
    newlines too, which would break the columns), MISSING when blank."""
    return shown(value).strip() or MISSING


# ----------------------------------------------------------------------------- the kiosk


def open_kiosk(args: argparse.Namespace) -> Any:
    """The kiosk of --config; its site's zone is then the one every JSON time is in."""
    from kiosk.app import open_kiosk as open_configured_kiosk

    kiosk = open_configured_kiosk(args.config)
    args.site_zone = kiosk.config.site.zone
    return kiosk


def site_minute(kiosk: Any, moment: datetime | None) -> str:
    """ "YYYY-MM-DD HH:MM" in the kiosk's site's zone; "-" when there is no time."""
    if moment is None:
        return "-"
    return moment.astimezone(kiosk.config.site.zone).strftime("%Y-%m-%d %H:%M")


def stored_moment(stamp: str | None) -> datetime | None:
    """A time some record keeps as ISO text, as a datetime for `site_time`."""
    return datetime.fromisoformat(stamp) if stamp else None


def shown_time(args: argparse.Namespace, moment: datetime | None, missing: str) -> str:
    """`moment` as `site_time` writes it in the opened site's zone; `missing` if none."""
    return site_time(moment, getattr(args, "site_zone", None)) if moment else missing


def stop_on_signals(service: str = "") -> threading.Event:
    """An event that SIGTERM (systemd stopping the service) and Ctrl+C set. With `service`,
    a line on stderr (the journal) says it runs, once the handlers are in place: from then
    on a SIGTERM is a clean stop."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if service:
        print(f"kiosk {service}: running; SIGTERM or Ctrl+C stops it", file=sys.stderr, flush=True)
    return stop


# ------------------------------------------------------------- the office's commands


def office_of(args: argparse.Namespace) -> tuple[Any, Any]:
    """The office store over --db (or $KIOSK_OFFICE_DB) and the office built on it."""
    from kiosk.office.api import build_office
    from kiosk.office.settings import OfficeSettings
    from kiosk.office.store import OfficeStore, open_office_database

    store = OfficeStore(open_office_database(args.db or os.environ.get("KIOSK_OFFICE_DB")))
    return store, build_office(store, OfficeSettings.from_environment())


def site_of(args: argparse.Namespace) -> Any:
    """The --site named, or the office's only site; sets `args.site_zone` for emit."""
    from zoneinfo import ZoneInfo

    from kiosk.domain.errors import InvalidInput, NotFound
    from kiosk.office.models import Site
    from kiosk.office.settings import load_site_settings

    if args.site:
        site = Site.get_or_none(Site.name == args.site)
        if site is None:
            raise NotFound(f"no site {args.site!r}")
    else:
        sites = list(Site.select().limit(2))
        if len(sites) != 1:
            raise InvalidInput("--site", "name the site: the office has " + (
                "none" if not sites else "more than one"))  # fmt: skip
        site = sites[0]
    args.site_zone = ZoneInfo(load_site_settings(site).timezone)
    return site
