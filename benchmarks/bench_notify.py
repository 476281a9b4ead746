"""From a check-in committed at the kiosk to the host's e-mail accepted by an SMTP server
(issue 6: at most 2 s with the network up).

As on the kiosk: the engine commits in this process (the UI's), and the notifier runs in a
process of its own (`kiosk notify`, the loop `kiosk sync` also runs); a real aiosmtpd server
on loopback stands in for the mail server. Each visit's time runs from the moment
`check_in_walk_in` returned to the moment the server accepted the message's DATA.
"""

from __future__ import annotations

import email
import email.policy
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller

from kiosk.app import build_kiosk, init_kiosk
from kiosk.config import load_config
from kiosk.domain.clock import SystemClock
from kiosk.domain.values import Purpose
from kiosk.notify.channels import AppriseSender, Message
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.storage.db import open_database

VISITS = 20
TARGET_S = 2.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}  # visitor name -> time the DATA was accepted
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        at = time.time()
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        subject = str(message["Subject"] or "")
        with self.arrived:
            self.accepted[subject] = at
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, visitor: str, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                found = next((at for s, at in self.accepted.items() if visitor in s), None)
                if found is not None or time.monotonic() > deadline:
                    return found
                self.arrived.wait(0.05)


def run() -> list[dict[str, Any]]:
    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    mail_url = f"mailto://127.0.0.1:{port}?mode=insecure&from=kiosk@bench.test&to=host@bench.test"
    with tempfile.TemporaryDirectory() as scratch:
        config_path = Path(scratch) / "kiosk.toml"
        config_path.write_text(
            '[site]\nname = "Bench Tower"\nafter_hours = "open"\n'
            "[visitor_types.visitor]\nphoto_required = false\n"
            f'[notifications]\nreception = ["{mail_url}"]\n',
            encoding="utf-8",
        )
        init_kiosk(config_path)
        config = load_config(config_path)
        kiosk = build_kiosk(config, open_database(config.database_path), SystemClock())
        host, _ = kiosk.directory.add_host(
            "Bench Host", email="host@bench.test", channels=[mail_url]
        )
        notifier = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "notify", "--config", str(config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # The baseline, in the same run: apprise handing one message to the same server.
        sender, direct = AppriseSender(), []
        for number in range(10):
            started = time.time()
            assert sender.send(mail_url, Message(f"Baseline {number}", "baseline")).ok
            direct.append(time.time() - started)
        baseline = statistics.median(direct)
        delays: list[float] = []
        try:
            # The first one warms the notifier process up (imports, apprise plugins).
            for number in range(VISITS + 1):
                name = f"Visitor {number:03d}"
                kiosk.engine.check_in_walk_in(
                    WalkIn(
                        visitor=VisitorDetails(name=name, company="Bench Ltd"),
                        host_ref=host.ref,
                        purpose=Purpose.VISIT_PERSON,
                    ),
                    Collected(),
                )
                committed = time.time()
                accepted = box.wait_for(name, timeout=30 if number == 0 else 10)
                if number and accepted is not None:
                    delays.append(accepted - committed)
                elif number:
                    delays.append(float("inf"))
                time.sleep(0.3)  # visitors do not arrive back to back
        finally:
            notifier.terminate()
            notifier.wait(timeout=10)
            kiosk.close()
            controller.stop()
    finite = sorted(delays)
    worst = finite[-1]
    median = statistics.median(finite)
    return [
        {
            "name": "check-in committed -> host e-mail accepted by SMTP (kiosk notify process)",
            "median_ms": round(median * 1000, 1),
            "p90_ms": round(finite[int(len(finite) * 0.9)] * 1000, 1),
            "max_ms": round(worst * 1000, 1) if worst != float("inf") else "lost",
            "x_direct_send": round(median / baseline, 1),
            "direct_send_ms": round(baseline * 1000, 1),
            "visits": VISITS,
            "target": f"<= {TARGET_S:.0f} s, every visit",
            "ok": worst <= TARGET_S,
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
