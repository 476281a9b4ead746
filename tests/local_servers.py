"""Real servers on loopback that stand in for the outside world in tests: an SMTP server
(aiosmtpd) for the hosts' mailboxes and a JSON webhook receiver for the chat channels.

Shared by tests/notify and tests/office (conftest fixtures cannot be imported by name,
so the servers live here and each suite's fixture is a few lines over them)."""

from __future__ import annotations

import email
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(app: Any, port: int) -> Iterator[str]:
    """An ASGI app (the office) served by uvicorn on loopback in a thread: its URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the office did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """The machine's Chromium driven by Playwright, for the office's pages."""
    import shutil

    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            browser.close()


def wait_for_office(url: str, seconds: float = 30) -> None:
    """Return once the office process at `url` answers its health check."""
    import httpx

    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{url}/v1/health").status_code == 200:
                return
        except httpx.HTTPError:
            assert time.monotonic() < deadline, f"the office at {url} did not start"
            time.sleep(0.2)


@dataclass
class Mailbox:
    """What the SMTP server accepted, as parsed e-mails; `url` is an apprise mailto URL
    that sends to it as `sender`."""

    port: int
    sender: str = "kiosk@tower.test"
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def url(self, to: str) -> str:
        return f"mailto://127.0.0.1:{self.port}?mode=insecure&from={self.sender}&to={to}"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]


@contextmanager
def smtp_server(sender: str = "kiosk@tower.test") -> Iterator[Mailbox]:
    with smtp_server_on(free_port(), sender) as box:
        yield box


@contextmanager
def smtp_server_on(port: int, sender: str = "kiosk@tower.test") -> Iterator[Mailbox]:
    """An SMTP server on a port chosen earlier (by another process, say)."""
    box = Mailbox(port, sender)
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        # aiosmtpd's stop() joins its loop's thread with no time limit; once, on a starved
        # machine, that join never returned (a 300-s test timeout in a teardown). The server
        # has stopped serving by then, and its daemon thread ends with the process.
        stopping = threading.Thread(target=controller.stop, daemon=True)
        stopping.start()
        stopping.join(timeout=30)


@dataclass
class Webhook:
    """A JSON webhook receiver (apprise json://): the bodies it took, in order, and the path
    each came to. `status` is what it answers; only a 200 counts as taken."""

    port: int
    posts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    status: int = 200

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def at(self, path: str) -> list[dict[str, Any]]:
        return [
            body for where, body in zip(self.paths, self.posts, strict=True) if where == "/" + path
        ]


@contextmanager
def webhook_server() -> Iterator[Webhook]:
    hook = Webhook(free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if hook.status == 200:
                hook.paths.append(self.path)
                hook.posts.append(json.loads(body))
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", hook.port), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


def text_of(message: EmailMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")
    raise AssertionError("no text part")


def attachments_of(message: EmailMessage) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename(), part.get_payload(decode=True))
        for part in message.walk()
        if part.get_filename()
    ]
