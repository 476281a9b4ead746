"""The soak's office and database: `kiosk office serve --workers 2` processes on PostgreSQL,
killed with SIGKILL and started again, their memory read from /proc; and the PostgreSQL
server (scripts/test-postgres.sh) stopped and started again, with a database of the soak's
own on it.

Each office runs in a process group of its own, so SIGKILL takes the whole server (the
supervisor and its workers), as a machine losing power does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx

REPO = Path(__file__).resolve().parents[2]
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


#: systemd/kiosk-office.service's RestartSec.
RESTART_SECONDS = 5.0


class OfficeExited(RuntimeError):
    pass


@dataclass
class OfficeProcess:
    """One office server on a loopback port, its output in `log`."""

    db_url: str
    port: int
    log: Path
    workers: int = 2
    #: (start, end) of each time it was down, in time.time().
    down: list[tuple[float, float]] = field(default_factory=list)
    #: Starts that ended with the server exiting (and systemd's restart, played here).
    failed_starts: int = 0
    _process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180.0) -> None:
        """Start the server and wait until it answers. A server that exits while starting
        (its database unreachable: restarted too, or failing over) is started again every
        RESTART_SECONDS, as systemd's `Restart=always` does (systemd/kiosk-office.service)."""
        deadline = time.monotonic() + timeout
        while True:
            self._spawn()
            try:
                self.wait_healthy(max(1.0, deadline - time.monotonic()))
                return
            except OfficeExited:
                self.failed_starts += 1
                if time.monotonic() + RESTART_SECONDS > deadline:
                    raise
                time.sleep(RESTART_SECONDS)

    def _spawn(self) -> None:
        with self.log.open("ab") as output:
            self._process = subprocess.Popen(
                [
                    sys.executable, "-m", "kiosk", "office", "serve", "--db", self.db_url,
                    "--port", str(self.port), "--workers", str(self.workers),
                ],
                cwd=REPO, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "KIOSK_OFFICE_COOKIE_SECURE": "0"},
            )  # fmt: skip

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise OfficeExited(
                    f"the office exited ({self._process.returncode}); see {self.log}"
                )
            try:
                if httpx.get(self.url + "/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the office on port {self.port} did not answer in {timeout:.0f} s")

    def kill_and_restart(self, down_for: float = 0.0) -> float:
        """SIGKILL the whole server, wait `down_for`, start it again; the seconds it was down."""
        killed = time.time()
        self.kill()
        time.sleep(down_for)
        self.start()
        self.down.append((killed, time.time()))
        return time.time() - killed

    def kill(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait(timeout=30)
        self._process = None

    def stop(self) -> None:
        """The end of the run: SIGTERM first, as systemd does, then SIGKILL."""
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            self.kill()
        self._process = None

    def rss_bytes(self) -> int:
        """The resident memory of every process of the server (supervisor and workers)."""
        if self._process is None:
            return 0
        group = self._process.pid
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getpgid(int(entry.name)) != group:
                    continue
                pages = int((entry / "statm").read_text().split()[1])
            except (OSError, ValueError, IndexError):
                continue
            total += pages * PAGE_SIZE
        return total


@dataclass
class Postgres:
    """The PostgreSQL server scripts/test-postgres.sh runs, at its port and folder."""

    port: int
    folder: str
    down: list[tuple[float, float]] = field(default_factory=list)

    def _script(self, action: str) -> str:
        env = {**os.environ, "KIOSK_TEST_PG_PORT": str(self.port), "KIOSK_TEST_PG_DIR": self.folder}
        done = subprocess.run(
            [str(REPO / "scripts" / "test-postgres.sh"), action],
            env=env, check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        return done.stdout.strip()

    def start(self) -> str:
        return self._script("start")

    def restart(self, down_for: float = 0.0) -> float:
        """Stop the server (fast shutdown: open connections are cut), wait, start it."""
        stopped = time.time()
        self._script("stop")
        time.sleep(down_for)
        self._script("start")
        self.down.append((stopped, time.time()))
        return time.time() - stopped

    def fresh_database(self, server_url: str, name: str = "kiosk_soak") -> str:
        """A new empty database `name` on the server; its URL."""
        import psycopg

        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
        return urlunparse(urlparse(server_url)._replace(path=f"/{name}"))
