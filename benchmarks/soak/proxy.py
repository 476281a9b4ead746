"""A fault-injecting TCP proxy on loopback, written with asyncio (toxiproxy would need its Go
binary, and no well-kept PyPI package does this in-process).

One `FaultProxy` listens on a loopback port and forwards every connection to the office.
Its `Faults` can be changed from any thread while it runs; each request a client sends (a
chunk that starts with an HTTP method) rolls the dice again:

    latency      seconds added before a request is forwarded
    drop         the connection is closed at once, the request never answered
    reset        the connection is reset (RST, SO_LINGER 0)
    stall        the connection goes half-open: nothing more is forwarded either way, and
                 the client waits until its own timeout
    partitioned  every connection, open or new, stalls (the network between is gone)

`hold_push_answer`, when set, is called with the office's answer to a `POST /v1/events`
before it is passed on; if it returns True the answer is withheld and the connection
closed: the office stored the batch, the kiosk never heard (a kiosk restarted mid-push).

`ProxyLoop` runs any number of proxies on one event loop in a thread of its own. Every
connection ends when the loop stops; nothing listens anywhere but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

HTTP_METHODS = (b"GET ", b"POST ", b"PUT ", b"DELETE ", b"HEAD ", b"PATCH ", b"OPTIONS ")
PUSH_REQUEST = b"POST /v1/events"
CHUNK = 64 * 1024


@dataclass
class Faults:
    latency: float = 0.0
    drop: float = 0.0
    reset: float = 0.0
    stall: float = 0.0
    partitioned: bool = False
    hold_push_answer: Callable[[], bool] | None = None

    def calm(self) -> None:
        """No fault at all (the hook too)."""
        self.latency = self.drop = self.reset = self.stall = 0.0
        self.partitioned = False
        self.hold_push_answer = None


@dataclass
class FaultProxy:
    name: str
    upstream_port: int
    faults: Faults = field(default_factory=Faults)
    #: How many of each fault were applied, and connections and requests seen.
    counts: Counter[str] = field(default_factory=Counter)
    seed: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._server: asyncio.base_events.Server | None = None
        self._open: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._open):
            task.cancel()
        await asyncio.gather(*self._open, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._open.add(task)
        self.counts["connections"] += 1
        try:
            if self.faults.partitioned:
                self.counts["partitioned"] += 1
                await _swallow(reader)
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    "127.0.0.1", self.upstream_port
                )
            except OSError:
                self.counts["upstream_refused"] += 1
                return  # the office is down: the client sees its connection closed
            try:
                await self._pump_both(reader, writer, up_reader, up_writer)
            finally:
                up_writer.close()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._open.discard(task)

    async def _pump_both(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        state = _Connection()
        upward = asyncio.create_task(self._upward(reader, up_writer, writer, state))
        downward = asyncio.create_task(self._downward(up_reader, writer, state))
        try:
            await asyncio.wait({upward, downward}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (upward, downward):
                task.cancel()
            await asyncio.gather(upward, downward, return_exceptions=True)
        if state.stalled:
            await _swallow(reader)  # half-open: the client times out by itself

    async def _upward(
        self,
        reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
        writer: asyncio.StreamWriter,
        state: _Connection,
    ) -> None:
        while chunk := await reader.read(CHUNK):
            if chunk.startswith(HTTP_METHODS):
                self.counts["requests"] += 1
                state.pushing = chunk.startswith(PUSH_REQUEST)
                fault = self._roll()
                if fault == "reset":
                    _reset(writer)
                    return
                if fault == "drop":
                    return
                if fault in ("stall", "partitioned"):
                    state.stalled = True
                    return
                if self.faults.latency:
                    await asyncio.sleep(self.faults.latency * self._rng.uniform(0.5, 1.5))
            up_writer.write(chunk)
            await up_writer.drain()

    async def _downward(
        self, up_reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: _Connection
    ) -> None:
        while chunk := await up_reader.read(CHUNK):
            if self.faults.partitioned:
                state.stalled = True
                self.counts["partitioned"] += 1
                return
            hook = self.faults.hold_push_answer
            if state.pushing and chunk.startswith(b"HTTP/1.1 200") and hook is not None:
                state.pushing = False
                if await asyncio.to_thread(hook):
                    self.counts["push_answer_withheld"] += 1
                    return
            writer.write(chunk)
            await writer.drain()

    def _roll(self) -> str:
        faults = self.faults
        if faults.partitioned:
            self.counts["partitioned"] += 1
            return "partitioned"
        draw = self._rng.random()
        for name, chance in (
            ("drop", faults.drop),
            ("reset", faults.reset),
            ("stall", faults.stall),
        ):
            if draw < chance:
                self.counts[name] += 1
                return name
            draw -= chance
        return ""


@dataclass
class _Connection:
    pushing: bool = False
    stalled: bool = False


async def _swallow(reader: asyncio.StreamReader) -> None:
    """Read and forget until the client gives up (a half-open path never answers)."""
    while await reader.read(CHUNK):
        pass


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class ProxyLoop:
    """Proxies on one asyncio loop in a daemon thread; `add` starts one, `close` ends all."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="soak-proxies")
        self._thread.daemon = True
        self._thread.start()
        self.proxies: dict[str, FaultProxy] = {}

    def add(self, name: str, upstream_port: int, *, seed: int = 0) -> FaultProxy:
        proxy = FaultProxy(name, upstream_port, seed=seed)
        asyncio.run_coroutine_threadsafe(proxy.start(), self._loop).result(timeout=10)
        self.proxies[name] = proxy
        return proxy

    def close(self) -> None:
        for proxy in self.proxies.values():
            asyncio.run_coroutine_threadsafe(proxy.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
