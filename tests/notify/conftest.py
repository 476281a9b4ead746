"""A real SMTP server (aiosmtpd) and a JSON webhook receiver on loopback, standing in for
the hosts' mailboxes and the chat channels; a kiosk whose channels point at them."""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from kiosk.app import Kiosk
from kiosk.notify import Notifier, build_notifier

LINK_BASE = "https://office.test/l/"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server accepted, as parsed e-mails."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def url(self, to: str) -> str:
        return f"mailto://127.0.0.1:{self.port}?mode=insecure&from=kiosk@tower.test&to={to}"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]


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


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@dataclass
class Webhook:
    """A JSON webhook receiver (apprise json://); `status` is what it answers."""

    port: int
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def at(self, path: str) -> list[dict[str, Any]]:
        return [body for where, body in self.posts if where == "/" + path]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook(free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if hook.status == 200:
                hook.posts.append((self.path, json.loads(body)))
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", hook.port), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()


@pytest.fixture
def config_extra(smtp: Mailbox, webhook: Webhook) -> str:
    return f"""
[notifications]
reception = ["{smtp.url("reception@tower.test")}"]
security = ["{webhook.url("security")}"]
vip = ["{webhook.url("vip")}"]
escalation_seconds = 60
language = "en"
"""


@pytest.fixture
def hosts(kiosk: Kiosk, smtp: Mailbox) -> dict[str, str]:
    """The suite's hosts, with their mail going to the local SMTP server; Maria's delegate
    is Amy."""
    directory = kiosk.directory
    made = {}
    for name, address, department, delegate in [
        ("Amy Assistant", "amy@tower.test", "Engineering", None),
        ("Maria Schmidt", "maria@tower.test", "Engineering", "amy@tower.test"),
        ("李娜", "li.na@tower.test", "行政部", None),
    ]:
        host, _ = directory.add_host(
            name,
            email=address,
            department=department,
            delegate=delegate,
            channels=[smtp.url(address)],
        )
        made[name] = host.ref
    return made


@pytest.fixture
def notifier(kiosk: Kiosk, hosts: dict[str, str]) -> Notifier:
    return build_notifier(kiosk, link_base_url=LINK_BASE)
