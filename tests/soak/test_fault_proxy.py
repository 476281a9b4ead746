"""The soak's fault-injecting proxy (benchmarks/soak/proxy.py) between a real httpx client
and a real HTTP server on loopback: it forwards untouched when calm, and each fault does
what the soak counts on (latency, a dropped request, a reset, a half-open connection, a
partition, an answer withheld from a push). A few seconds in all."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest

from benchmarks.soak.proxy import FaultProxy, ProxyLoop


class Answering(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received: ClassVar[list[str]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        Answering.received.append(f"{self.command} {self.path} {body.decode()}")
        reply = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _answer

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    loop = ProxyLoop()
    Answering.received = []
    try:
        yield loop.add("test", server.server_address[1], seed=1)
    finally:
        loop.close()
        server.shutdown()


def client(proxy: FaultProxy, timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{proxy.port}", timeout=timeout)


def test_calm_it_forwards_requests_and_answers_untouched(proxy: FaultProxy) -> None:
    with client(proxy) as http:
        assert http.post("/v1/events", content=b'{"events": []}').json() == {"ok": True}
        assert http.get("/v1/changes?cursor=3").status_code == 200
    assert Answering.received == ['POST /v1/events {"events": []}', "GET /v1/changes?cursor=3 "]
    assert proxy.counts["requests"] == 2


def test_latency_delays_each_request(proxy: FaultProxy) -> None:
    proxy.faults.latency = 0.4
    with client(proxy) as http:
        started = time.monotonic()
        http.get("/v1/health")
        assert time.monotonic() - started >= 0.2  # 0.4 s, give or take half


# A drop closes the connection; with the request's body still unread (it may come in a
# second segment), Linux sends a reset rather than a FIN: the client sees either.
NO_ANSWER = (httpx.ReadError, httpx.RemoteProtocolError)


@pytest.mark.parametrize(("fault", "error"), [("drop", NO_ANSWER), ("reset", NO_ANSWER)])
def test_a_dropped_or_reset_request_never_reaches_the_server(
    proxy: FaultProxy, fault: str, error: tuple[type[Exception], ...]
) -> None:
    setattr(proxy.faults, fault, 1.0)
    with client(proxy) as http, pytest.raises(error):
        http.post("/v1/events", content=b"{}")
    assert Answering.received == [] and proxy.counts[fault] == 1
    proxy.faults.calm()
    with client(proxy) as http:
        assert http.get("/v1/health").status_code == 200


def test_a_half_open_connection_never_answers_and_the_client_times_out(
    proxy: FaultProxy,
) -> None:
    proxy.faults.stall = 1.0
    with client(proxy, timeout=0.5) as http, pytest.raises(httpx.ReadTimeout):
        http.get("/v1/changes")
    assert Answering.received == [] and proxy.counts["stall"] == 1


def test_a_partition_stalls_new_connections_until_it_ends(proxy: FaultProxy) -> None:
    proxy.faults.partitioned = True
    with client(proxy, timeout=0.5) as http, pytest.raises(httpx.ReadTimeout):
        http.get("/v1/changes")
    proxy.faults.partitioned = False
    with client(proxy) as http:
        assert http.get("/v1/changes").status_code == 200
    assert Answering.received == ["GET /v1/changes "]


def test_a_withheld_push_answer_was_stored_but_never_heard(proxy: FaultProxy) -> None:
    """The server has the batch; the client sees its connection closed (and the hook, the
    soak's SIGKILL of the kiosk, ran first). Pulls pass untouched."""
    calls: list[float] = []

    def hold() -> bool:
        calls.append(time.time())
        return True

    proxy.faults.hold_push_answer = hold
    with client(proxy) as http:
        assert http.get("/v1/changes").status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/v1/events", content=b'{"events": [1]}')
    assert Answering.received[-1] == 'POST /v1/events {"events": [1]}'
    assert len(calls) == 1 and proxy.counts["push_answer_withheld"] == 1


def test_the_office_down_closes_the_clients_connection(proxy: FaultProxy) -> None:
    proxy.upstream_port = 9  # nothing listens on the discard port here
    # Closed before its request was read, the socket may end with a reset instead of a FIN
    # (the kernel's choice, seen on a loaded machine): either way, no answer.
    with client(proxy) as http, pytest.raises(NO_ANSWER):
        http.get("/v1/health")
    assert proxy.counts["upstream_refused"] == 1
