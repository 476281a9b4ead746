"""What an unsigned sender can make the office do: nothing costly. A real `kiosk office
serve` process on loopback gets 100 MiB bodies, with and without Content-Length, at the
sync and enrolment endpoints and a web form; each is answered 413 (or 401 before any body
is read) and the server's resident memory stays within 20 MiB of where it was. Deeply
nested JSON is a 400, not a 500."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from local_servers import free_port, wait_for_office

from kiosk.domain.tokens import raw_public_key
from kiosk.office.api import MAX_BODY
from kiosk.office.store import OfficeStore, open_office_database
from kiosk.sync.wire import sign_request

CHUNK = b"x" * (1024 * 1024)
HUNDRED_MIB = 100 * 1024 * 1024


@pytest.fixture(scope="module")
def served_office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int, str]]:
    """The office's URL, port and server process id: one process for the module (each test
    measures the memory it adds from where it finds it)."""
    tmp_path = tmp_path_factory.mktemp("limits")
    db = str(tmp_path / "office.sqlite3")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "office", "serve", "--db", db, "--port", str(port),
         "--no-notify"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_for_office(url)
    try:
        yield url, port, server.pid, db
    finally:
        server.terminate()
        server.wait(timeout=20)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def send_raw(port: int, path: str, headers: dict[str, str], chunked: bool) -> int:
    """Send up to 100 MiB of body, stopping as soon as the office answers; its status."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUNDRED_MIB}")
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        conn.settimeout(0.05)
        answer = b""
        sent = 0
        while sent < HUNDRED_MIB and not answer:
            try:
                answer = conn.recv(4096)
                break
            except TimeoutError:
                pass
            piece = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n" if chunked else CHUNK
            try:
                conn.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(CHUNK)
        conn.settimeout(30)
        while b"\r\n" not in answer:
            more = conn.recv(4096)
            if not more:
                break
            answer += more
    assert sent < HUNDRED_MIB, "the office read the whole body"
    return int(answer.split(b" ", 2)[1])


SIGNED_LOOKING = {
    "X-Kiosk-Id": "kiosk-nobody",
    "X-Kiosk-Time": "0",
    "X-Kiosk-Nonce": "n" * 16,
    "X-Kiosk-Signature": "s" * 86,
}


@pytest.mark.parametrize(
    ("path", "headers", "chunked", "expected"),
    [
        ("/v1/events", {}, False, 413),
        ("/v1/events", {}, True, 401),  # no signature headers: refused before the body
        ("/v1/events", SIGNED_LOOKING, True, 401),  # no such kiosk: likewise
        ("/v1/enrol", {"Content-Type": "application/json"}, False, 413),
        ("/v1/enrol", {"Content-Type": "application/json"}, True, 413),
        ("/login", {"Content-Type": "application/x-www-form-urlencoded"}, False, 413),
        # Streamed, one form field passes Starlette's 1 MiB field limit first: a 400.
        ("/login", {"Content-Type": "application/x-www-form-urlencoded"}, True, 400),
    ],
)
def test_a_huge_body_is_refused_without_being_read(
    served_office: tuple[str, int, int, str], path: str, headers: dict[str, str], chunked: bool,
    expected: int,
) -> None:  # fmt: skip
    _, port, pid, _ = served_office
    before = rss_kib(pid)

    status = send_raw(port, path, headers, chunked)

    assert status == expected
    assert rss_kib(pid) - before < 20 * 1024


def test_a_batch_just_under_the_limit_is_read(served_office: tuple[str, int, int, str]) -> None:
    url, _, _, _ = served_office
    body = b'{"events": []}' + b" " * (MAX_BODY - 20)

    answer = httpx.post(f"{url}/v1/events", content=body, headers=SIGNED_LOOKING)

    assert answer.status_code == 401  # read whole, then judged: no such kiosk


def test_deeply_nested_json_is_a_bad_request(served_office: tuple[str, int, int, str]) -> None:
    url, _, _, _ = served_office
    nested = "[" * 3000 + "]" * 3000  # within the enrolment's 8 KiB

    enrol = httpx.post(
        f"{url}/v1/enrol", content=nested, headers={"Content-Type": "application/json"}
    )

    assert enrol.status_code in (400, 422), enrol.text


def test_a_signed_batch_nested_too_deeply_is_a_bad_request(
    served_office: tuple[str, int, int, str],
) -> None:
    url, _, _, _ = served_office
    store = OfficeStore(open_office_database(served_office[3]))
    key = Ed25519PrivateKey.generate()
    enrolled = httpx.post(
        f"{url}/v1/enrol",
        json={
            "code": store.enrolment_code("Tower"), "kiosk_id": "kiosk-deep",
            "auth_public_key": raw_public_key(key.public_key()).hex(),
            "badge_public_key": raw_public_key(Ed25519PrivateKey.generate().public_key()).hex(),
        },
    )  # fmt: skip
    assert enrolled.status_code == 200, enrolled.text
    store.db.close()
    for body in (
        ('{"events": ' + "[" * 100_000 + "]" * 100_000 + "}").encode(),
        b'{"events": [{"payload": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001 + b"]}",
    ):
        headers = sign_request(
            key, "kiosk-deep", "POST", "/v1/events", body, int(time.time() * 1000)
        )
        answer = httpx.post(f"{url}/v1/events", content=body, headers=headers)
        assert answer.status_code == 400, answer.text
        assert "nest" in answer.json()["detail"]
