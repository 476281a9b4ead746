"""Tell systemd how the kiosk is doing, through the sd_notify protocol (pure standard library).

systemd starts `kiosk.service` with `Type=notify` and `WatchdogSec=`: it sets `$NOTIFY_SOCKET`
(a datagram socket, `@` for the abstract namespace) and `$WATCHDOG_USEC`, waits for
`READY=1`, then expects `WATCHDOG=1` at least once per `WatchdogSec`; when the pings stop it
kills the service (SIGABRT, so `PYTHONFAULTHANDLER=1` dumps every thread's stack into the
journal) and `Restart=always` starts it again.

The pings must come from the UI main loop itself, never from a thread of their own: a
thread would keep pinging while the loop is stuck, which is the very hang to catch::

    watchdog = Watchdog.from_environment()
    watchdog.ready("welcome screen up")                      # once, when the screen shows
    Clock.schedule_interval(lambda _dt: watchdog.ping(), watchdog.ping_interval)

Outside systemd (a developer's `kiosk run`, the tests) `$NOTIFY_SOCKET` is unset and every
call is a cheap no-op. Sending never raises: a lost status message must not stop the kiosk.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

#: When systemd asks for no watchdog, the interval a main loop may still use for ping().
DEFAULT_PING_INTERVAL_S = 5.0


def _socket_address(value: str) -> str | None:
    if value.startswith("@"):
        return "\0" + value[1:]  # abstract namespace
    if value.startswith("/"):
        return value
    return None  # vsock and other forms are not used on a kiosk


def notify(message: str, *, environ: Mapping[str, str] | None = None) -> bool:
    """Send one sd_notify datagram ("READY=1", "STATUS=..."; several lines allowed).

    Returns True when a datagram was sent, False when there is no systemd to tell or the
    send failed (logged, never raised).
    """
    env = os.environ if environ is None else environ
    address = _socket_address(env.get("NOTIFY_SOCKET", ""))
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode("utf-8"))
    except OSError as err:
        log.warning("sd_notify %r failed: %s", message.split("\n", 1)[0], err)
        return False
    return True


class Watchdog:
    """The kiosk's side of systemd's watchdog and readiness protocol.

    `ping()` is rate-limited to one datagram per `ping_interval` (half of WatchdogSec, as
    sd_watchdog_enabled(3) advises), so a main loop may call it every frame.
    """

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        pid: int | None = None,
    ) -> None:
        env = dict(os.environ if environ is None else environ)
        self._environ = env
        self._monotonic = monotonic
        self._last_ping: float | None = None
        self.notify_enabled = _socket_address(env.get("NOTIFY_SOCKET", "")) is not None
        self.watchdog_usec = self._watchdog_usec(env, os.getpid() if pid is None else pid)

    @classmethod
    def from_environment(cls) -> Watchdog:
        return cls()

    @staticmethod
    def _watchdog_usec(env: Mapping[str, str], pid: int) -> int | None:
        """WatchdogSec in microseconds when it is meant for this process, else None."""
        try:
            usec = int(env.get("WATCHDOG_USEC", ""))
        except ValueError:
            return None
        owner = env.get("WATCHDOG_PID", "")
        if owner and owner != str(pid):
            return None  # set for our parent (a shell wrapper, say), not for us
        return usec if usec > 0 else None

    @property
    def watchdog_enabled(self) -> bool:
        return self.notify_enabled and self.watchdog_usec is not None

    @property
    def ping_interval(self) -> float:
        """Seconds between pings: half of WatchdogSec, or DEFAULT_PING_INTERVAL_S without one."""
        if self.watchdog_usec is None:
            return DEFAULT_PING_INTERVAL_S
        return self.watchdog_usec / 2_000_000

    def _send(self, message: str) -> bool:
        if not self.notify_enabled:
            return False
        return notify(message, environ=self._environ)

    def ready(self, status: str | None = None) -> bool:
        """Tell systemd the kiosk is up (the first screen shows); it counts as a ping too."""
        lines = ["READY=1", *([f"STATUS={status}"] if status else [])]
        if self.watchdog_enabled:
            lines.append("WATCHDOG=1")
            self._last_ping = self._monotonic()
        return self._send("\n".join(lines))

    def ping(self) -> bool:
        """Feed the watchdog if half its period has passed; True when a ping was sent."""
        if not self.watchdog_enabled:
            return False
        now = self._monotonic()
        if self._last_ping is not None and now - self._last_ping < self.ping_interval:
            return False
        self._last_ping = now
        return self._send("WATCHDOG=1")

    def status(self, text: str) -> bool:
        """A one-line status shown by `systemctl status kiosk`."""
        return self._send(f"STATUS={text}")

    def stopping(self) -> bool:
        """Say the kiosk is shutting down on purpose (so a slow exit is not a hang)."""
        return self._send("STOPPING=1")
