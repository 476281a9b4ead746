"""The kiosk's background commands: enrolment with an office, sync, and notifications.

    kiosk enroll URL CODE            enrol this kiosk with an office
    kiosk sync [--once] [--status]   push and pull (a loop, one round, or the state)
    kiosk notify [--once]            send host notifications (the loop `sync` also runs)

The sync client and the notifier are built by kiosk.app, over the kiosk of --config.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

from kiosk.cli.common import Commands, emit, open_kiosk, shown_time, stop_on_signals, stored_moment


def cmd_enroll(args: argparse.Namespace) -> int:
    from kiosk.app import build_sync_client

    client = build_sync_client(open_kiosk(args))
    site = client.enroll(args.url, args.code, args.name or "", insecure_http=args.insecure_http)
    report = client.run_once(force=True)
    emit(
        args,
        {"site": site, "pulled": report.pulled, "pushed": report.pushed},
        f"enrolled with {args.url} for site {site!r}; pulled {report.pulled} changes, "
        f"pushed {report.pushed} events. Invitations are now signed at the office.",
    )
    return 0


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def _show_status(args: argparse.Namespace, client: Any) -> int:
    """`kiosk sync --status`: the backlog, the last success and error, the next try."""
    status = client.status()
    data = status.as_dict()
    # Kept as ISO text in UTC: shown, like every time, in the site's zone.
    for name in ("last_success", "last_error_at", "next_attempt"):
        data[name] = stored_moment(data[name])

    def describe() -> str:
        lines = [
            f"office:     {status.office_url or '(not enrolled)'} {status.site}",
            f"backlog:    {status.backlog} events waiting, {status.rejected} rejected",
            f"last sync:  {shown_time(args, data['last_success'], 'never')}",
            f"last error: {status.last_error or '-'} {shown_time(args, data['last_error_at'], '')}",
            f"next try:   {shown_time(args, data['next_attempt'], 'now')} "
            f"({status.failures} failures in a row)",
            f"clock skew: {_or_dash(status.clock_skew_seconds)} s",
            f"office key: {', '.join(status.office_keys) or '(none pinned: enrol again)'}",
        ]
        return "\n".join(lines)

    emit(args, data, describe)
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from kiosk.app import build_notifier, build_sync_client

    kiosk = open_kiosk(args)
    client = build_sync_client(kiosk)
    if args.status:
        return _show_status(args, client)
    if args.once:
        report = client.run_once(force=True)
        emit(args, vars(report), f"pushed {report.pushed} ({report.duplicates} already there, "
             f"{report.rejected} rejected), pulled {report.pulled} changes")  # fmt: skip
        return 0
    stop = stop_on_signals("sync")
    notifier = None
    if not args.no_notify:
        # Notifications go out from the same network-facing service, in their own thread.
        notifier = threading.Thread(
            target=build_notifier(kiosk).run, args=(stop,), name="notify", daemon=True
        )
        notifier.start()
    client.run_forever(stop)
    if notifier is not None:
        notifier.join(timeout=10)
    return 0


def cmd_notify(args: argparse.Namespace) -> int:
    from kiosk.app import build_notifier

    notifier = build_notifier(open_kiosk(args))
    if args.once:
        report = notifier.tick()
        emit(args, vars(report) if hasattr(report, "__dict__") else report, str(report))
        return 0
    notifier.run(stop_on_signals("notify"))
    return 0


def register(commands: Commands) -> None:
    """Add the kiosk's background commands: enroll, sync, notify."""
    enroll = commands.add("enroll", cmd_enroll, "enrol this kiosk with an office")
    enroll.add_argument("url")
    enroll.add_argument("code")
    enroll.add_argument("--name", help="how the office lists this kiosk")
    enroll.add_argument(
        "--insecure-http", action="store_true",
        help="enrol over plain http to another machine (readable on the network path; the "
        "office's answers are still signed and checked)",
    )  # fmt: skip

    sync = commands.add("sync", cmd_sync, "push events to the office and pull its changes")
    sync.add_argument("--once", action="store_true", help="one round, then exit")
    sync.add_argument(
        "--status", action="store_true", help="show the backlog, last success and error"
    )
    sync.add_argument(
        "--no-notify", action="store_true",
        help="do not send host notifications from this process (run `kiosk notify`)",
    )  # fmt: skip
    notify = commands.add(
        "notify", cmd_notify, "send host notifications (the loop `sync` also runs)"
    )
    notify.add_argument("--once", action="store_true", help="one round, then exit")
