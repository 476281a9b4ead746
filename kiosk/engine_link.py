"""The touchscreen and its engine in two processes, joined by a private socket pair.

`kiosk run` is two processes. The touchscreen's holds Kivy, SDL, the GL driver and the
screens; the engine's (`kiosk engine`, started by `kiosk run`) holds everything behind
`kiosk.ui.services.KioskServices`: the check-in engine and its SQLite database, the signing
keys, the camera with OpenCV, numpy and zxing-cpp, the badge renderer with Pillow, and
pypinyin's dictionaries. In one process the kiosk was ~370 MB resident after a round of
every flow, the GL driver's and the engine's libraries adding up; the touchscreen's
process now stays near the GL driver's floor. It also keeps a camera or printer driver
that misbehaves, and the signing keys, out of the process that draws the screen.

The link is `multiprocessing.connection` (pickled messages, length-prefixed) over a
`socket.socketpair()` made by the touchscreen's process, one end inherited by the engine
and no other process: there is no socket file to find and no key to steal.

    touchscreen -> engine   ("call", method, args, kwargs)   one at a time, in order
    engine -> touchscreen   ("reply", value) | ("raise", error)
                            ("event", callback id, args)     a device thread's callback
                            ("forget", callback id)          the engine let it go

A callable passed to a method (the camera's `on_code`, a badge's `on_done`) stays in the
touchscreen's process: the engine gets a stand-in that sends an "event" when called, and a
"forget" once the engine no longer holds it. Events run on the link's reader thread, as
they ran on a device thread before; the screens hand them to the UI thread already.

Values are the plain dataclasses of `kiosk.ui.services` and `kiosk.domain.values`, and
errors the domain's own (`kiosk.domain.errors`), so a screen cannot tell the two processes
from one. If the engine dies, the touchscreen's `on_lost` runs and every call raises
EngineGone: `kiosk run` then exits non-zero and systemd restarts both (every check-in is
committed to SQLite before its reply, so nothing is lost).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import pickle
import queue
import signal
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from kiosk.domain.errors import KioskError
from kiosk.ui.services import AfterHours

log = logging.getLogger(__name__)

#: The attributes a screen reads without calling: sent once, when the engine is ready.
#: The touchscreen may change its own copy (the idle timeout in tests, for instance).
SNAPSHOT_ATTRIBUTES = (
    "site_name",
    "languages",
    "common_purposes",
    "after_hours",
    "idle_timeout_s",
)

#: The command line option that hands the engine its end of the pair.
LINK_FD_OPTION = "--link-fd"


class EngineGone(KioskError):
    """The engine's process has ended or could not start; the message says which."""


@dataclass(frozen=True)
class CallbackRef:
    """A callable that stayed in the touchscreen's process, by number."""

    number: int


class RemoteServices:
    """`KioskServices` in the engine's process, seen from the touchscreen's.

    Any public method name becomes a call to the engine (the protocol's, and the test
    harness's controls of simulated devices); the snapshot attributes are plain ones.
    """

    site_name: str
    languages: list[str]
    common_purposes: list[str]
    after_hours: AfterHours
    idle_timeout_s: float

    def __init__(
        self,
        connection: Connection,
        process: subprocess.Popen[bytes] | None,
        snapshot: dict[str, Any],
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self._connection = connection
        self._process = process
        self._send_lock = threading.Lock()
        self._call_lock = threading.Lock()
        self._replies: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._callbacks: dict[int, Callable[..., None]] = {}
        self._numbers = itertools.count(1)
        self._lost = False
        self._closing = False
        self.on_lost = on_lost
        for name in SNAPSHOT_ATTRIBUTES:
            setattr(self, name, snapshot[name])
        self._reader = threading.Thread(target=self._read, name="engine-link", daemon=True)
        self._reader.start()

    @property
    def engine_pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def __getattr__(self, name: str) -> Callable[..., Any]:
        # Only reached for names not set on the instance: the engine's methods.
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.call(name, *args, **kwargs)

        call.__name__ = name
        return call

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Run `method` in the engine and return its value, or raise its error."""
        args = tuple(self._outgoing(value) for value in args)
        kwargs = {key: self._outgoing(value) for key, value in kwargs.items()}
        with self._call_lock:
            if self._lost:
                raise EngineGone("the kiosk engine has stopped")
            try:
                with self._send_lock:
                    self._connection.send(("call", method, args, kwargs))
            except OSError as error:
                raise EngineGone(f"the kiosk engine has stopped ({error})") from error
            kind, value = self._replies.get()
        if kind == "raise":
            raise value
        if kind == "lost":
            raise EngineGone("the kiosk engine stopped during the call")
        return value

    def close(self, timeout: float = 10.0) -> int | None:
        """Ask the engine to close its devices and database and exit; its exit code."""
        self._closing = True  # the engine's end from here on is the one asked for
        if not self._lost:
            with contextlib.suppress(EngineGone):
                self.call("close")
        self._connection.close()
        if self._process is None:
            return None
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the kiosk engine did not exit in %.0f s: killed", timeout)
            self._process.kill()
            return self._process.wait()

    def _outgoing(self, value: Any) -> Any:
        if not callable(value):
            return value
        number = next(self._numbers)
        self._callbacks[number] = value
        return CallbackRef(number)

    def _read(self) -> None:
        try:
            while True:
                message = self._connection.recv()
                if message[0] == "event":
                    self._run_callback(message[1], message[2])
                elif message[0] == "forget":
                    self._callbacks.pop(message[1], None)
                else:
                    self._replies.put(message)
        except (EOFError, OSError):
            pass
        except TypeError:
            # multiprocessing's Connection, closed by close() while recv() waits, reads from
            # a handle that is None now: the end of the link we asked for, not a fault.
            if not self._closing:
                raise
        self._lost = True
        self._replies.put(("lost", None))
        code = self._process.poll() if self._process is not None else None
        if self._closing:
            log.info("the link to the kiosk engine is closed (engine exit code %s)", code)
            return
        log.error("the link to the kiosk engine is closed (engine exit code %s)", code)
        if self.on_lost is not None:
            self.on_lost()

    def _run_callback(self, number: int, args: tuple[Any, ...]) -> None:
        callback = self._callbacks.get(number)
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:  # a screen's bug must not stop the link
            log.exception("a callback from the kiosk engine failed")


class EngineLaunch:
    """An engine process started, not yet ready: the touchscreen imports Kivy meanwhile
    (the two start-ups overlap on a multi-core Pi), then `wait()`s for its services."""

    def __init__(self, command: Sequence[str]) -> None:
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [*command, LINK_FD_OPTION, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self._connection = Connection(ours.detach())

    def wait(
        self, *, timeout_s: float = 180.0, on_lost: Callable[[], None] | None = None
    ) -> RemoteServices:
        """The engine's services once it reports ready. Raises the engine's own start-up
        error (a ConfigError, say) or EngineGone."""
        connection, process = self._connection, self.process
        try:
            if not connection.poll(timeout_s):
                raise EngineGone(f"the kiosk engine did not start within {timeout_s:.0f} s")
            kind, value = connection.recv()
        except EOFError:
            code = process.wait()
            connection.close()
            raise EngineGone(
                f"the kiosk engine exited with code {code} before it was ready (see its messages)"
            ) from None
        except BaseException:
            process.kill()
            process.wait()
            connection.close()
            raise
        if kind == "failed":
            process.wait()
            connection.close()
            raise value
        return RemoteServices(connection, process, value, on_lost)


def start_engine(
    command: Sequence[str],
    *,
    timeout_s: float = 180.0,
    on_lost: Callable[[], None] | None = None,
) -> RemoteServices:
    """Start `command` (which must end up in `serve_engine`) with its end of a new pair,
    and wait until its services are ready (see EngineLaunch.wait)."""
    return EngineLaunch(command).wait(timeout_s=timeout_s, on_lost=on_lost)


def serve_engine(link_fd: int, open_services: Callable[[], AbstractContextManager[Any]]) -> int:
    """The engine's side: open the services, report ready (or the error that stopped
    them), then answer calls until the touchscreen closes the link or asks to close.
    Returns the process's exit code. Call it on the main thread: it takes SIGTERM."""
    # systemd stops the service by sending SIGTERM to both processes at once: close the
    # devices and the database in order (an open transaction rolls back) rather than die.
    signal.signal(signal.SIGTERM, lambda _number, _frame: sys.exit(0))
    connection = Connection(link_fd)
    with contextlib.ExitStack() as stack:
        stack.callback(connection.close)
        try:
            services = stack.enter_context(open_services())
        except Exception as error:
            log.exception("the kiosk engine could not start")
            connection.send(("failed", _picklable(error)))
            return 1
        snapshot = {name: getattr(services, name) for name in SNAPSHOT_ATTRIBUTES}
        connection.send(("ready", snapshot))
        _EngineSide(connection, services).serve()
    return 0


class _EngineSide:
    def __init__(self, connection: Connection, services: Any) -> None:
        self._connection = connection
        self._services = services
        # Re-entrant: a stand-in's finalizer ("forget") may run while this thread sends.
        self._send_lock = threading.RLock()

    def serve(self) -> None:
        while True:
            try:
                _kind, method, args, kwargs = self._connection.recv()
            except (EOFError, OSError):
                return  # the touchscreen's process has gone
            if method == "close":
                self._send(("reply", None))
                return
            try:
                if method.startswith("_"):
                    raise AttributeError(f"{method} is not a service")
                args = tuple(self._incoming(value) for value in args)
                kwargs = {key: self._incoming(value) for key, value in kwargs.items()}
                result = getattr(self._services, method)(*args, **kwargs)
            except Exception as error:
                self._send(("raise", _picklable(error)))
                continue
            try:
                self._send(("reply", result))
            except (pickle.PicklingError, TypeError, AttributeError) as error:
                self._send(("raise", TypeError(f"{method} returned what cannot be sent: {error}")))

    def _send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            self._connection.send(message)

    def _incoming(self, value: Any) -> Any:
        if not isinstance(value, CallbackRef):
            return value
        number = value.number

        def stand_in(*args: Any) -> None:
            try:
                self._send(("event", number, args))
            except OSError:
                log.warning("a device event was lost: the touchscreen's process has gone")

        weakref.finalize(stand_in, self._forget, number)
        return stand_in

    def _forget(self, number: int) -> None:
        with contextlib.suppress(OSError):
            self._send(("forget", number))


def _picklable(error: BaseException) -> BaseException:
    """The error itself when it survives the trip, else a RuntimeError that names it."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
