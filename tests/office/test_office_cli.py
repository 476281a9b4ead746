"""The office and sync commands as an admin types them: a real `kiosk office serve` process,
a kiosk enrolled with a one-time code, a round of sync, and the office's visit list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from local_servers import free_port, wait_for_office

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "KIOSK_OFFICE_API_DOCS": "1"}


def kiosk(*args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=ENV,
        timeout=120,
    )
    if ok:
        assert done.returncode == 0, done.stderr + done.stdout
    return done


def set_site_timezone(db: str, site: str, zone: str, *, cwd: Path) -> None:
    """What the office web's site settings page saves, done in a process of its own."""
    script = (
        "import sys\n"
        "from kiosk.domain.clock import SystemClock\n"
        "from kiosk.office.models import Site\n"
        "from kiosk.office.settings import load_site_settings, save_site_settings\n"
        "from kiosk.office.store import open_office_database\n"
        "db = open_office_database(sys.argv[1])\n"
        "with db.connection_context():\n"
        "    site = Site.get(Site.name == sys.argv[2])\n"
        "    changed = load_site_settings(site).model_copy(update={'timezone': sys.argv[3]})\n"
        "    save_site_settings(site, changed, SystemClock().now())\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, db, site, zone], cwd=cwd, env=ENV, check=True, timeout=60
    )


def test_serve_enrol_sync_and_list_visits(tmp_path: Path) -> None:
    port = free_port()
    db = str(tmp_path / "office.sqlite3")
    server = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "office", "serve", "--db", db, "--port", str(port)],
        cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_office(url)
        assert "openapi" in httpx.get(f"{url}/openapi.json").json()

        host_ref = json.loads(
            kiosk(
                "--json",
                "office",
                "host",
                "Maria Schmidt",
                "--site",
                "Tower",
                "--db",
                db,
                cwd=tmp_path,
            ).stdout
        )["ref"]
        at = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
        booked = json.loads(
            kiosk(
                "--json",
                "office",
                "appointment",
                "--site",
                "Tower",
                "--visitor",
                "Anna Eriksson",
                "--host",
                host_ref,
                "--at",
                at,
                "--invite",
                "--db",
                db,
                cwd=tmp_path,
            ).stdout
        )
        code = kiosk(
            "office", "enrolment-code", "--site", "Tower", "--db", db, cwd=tmp_path
        ).stdout.strip()

        site = tmp_path / "kiosk" / "kiosk.toml"
        site.parent.mkdir()
        site.write_text(
            '[site]\nname = "Tower"\nafter_hours = "open"\n[visitor_types.visitor]\nphoto_required = false\n'
        )
        config = ["--config", str(site)]
        kiosk(*config, "init", cwd=tmp_path)
        enrolled = kiosk(*config, "enroll", url, code, cwd=tmp_path)
        assert "site 'Tower'" in enrolled.stdout
        assert not (site.parent / "keys" / "invitation.key").exists()
        again = kiosk(*config, "enroll", url, code, cwd=tmp_path, ok=False)
        assert again.returncode == 1 and "unknown, used or expired" in again.stderr

        assert (
            "VALID invitation for Anna Eriksson"
            in kiosk(*config, "verify", booked["invitation"], cwd=tmp_path).stdout
        )
        kiosk(*config, "checkin", "--token", booked["invitation"], cwd=tmp_path)
        kiosk(*config, "sync", "--once", cwd=tmp_path)
        status = json.loads(kiosk(*config, "--json", "sync", "--status", cwd=tmp_path).stdout)
        assert status["backlog"] == 0 and status["enrolled"] and status["last_error"] is None
        assert status["last_success"].endswith("+08:00")  # the kiosk's site, Asia/Shanghai

        set_site_timezone(db, "Tower", "Asia/Kolkata", cwd=tmp_path)

        visits = json.loads(
            kiosk(
                "--json", "office", "visits", "--since", "2000-01-01", "--db", db, cwd=tmp_path
            ).stdout
        )
        assert [(v["visitor_name"], v["state"]) for v in visits] == [
            ("Anna Eriksson", "awaiting_host")
        ]
        assert visits[0]["arrived_at"].endswith("+05:30")  # in the office's settings for Tower
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_host_account_names_a_host_of_its_own_site(tmp_path: Path) -> None:
    db = str(tmp_path / "office.sqlite3")
    other = json.loads(
        kiosk("--json", "office", "host", "Someone Elsewhere", "--site", "Other Tower",
              "--db", db, cwd=tmp_path).stdout
    )["ref"]  # fmt: skip
    own = json.loads(
        kiosk("--json", "office", "host", "Maria Schmidt", "--site", "Tower", "--db", db,
              cwd=tmp_path).stdout
    )["ref"]  # fmt: skip

    def add(username: str, host_ref: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kiosk", "office", "user", username, "--site", "Tower",
             "--role", "host", "--host", host_ref, "--password-stdin", "--db", db],
            input="correct horse battery\n", capture_output=True, text=True, cwd=tmp_path,
            env=ENV, timeout=120,
        )  # fmt: skip

    refused = add("mallory", other)
    assert refused.returncode != 0 and "is not a host of this site" in refused.stderr
    assert add("maria", own).returncode == 0
