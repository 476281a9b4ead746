"""`kiosk doctor`: what works, what does not, and the exact fix for each.

Each check is independent and never raises: a kiosk that cannot start must still be able
to say why.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import importlib.util
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

Status = Literal["ok", "warn", "fail"]
#: A kiosk with less free space than this may soon refuse check-ins.
MIN_FREE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Finding:
    name: str
    status: Status
    detail: str
    fix: str = ""


def check_fonts() -> list[Finding]:
    """The faces the touchscreen uses for each Chinese script (the UI's own lookup), and
    whether they are prepared (see kiosk.ui.fonts)."""
    from kiosk.ui.fonts import (
        PREPARE_ADVICE,
        FontNotFound,
        default_cache_dir,
        fc_match,
        prepared_path,
    )

    findings = []
    for label, language in (("Simplified", "zh-cn"), ("Traditional", "zh-tw")):
        name = f"CJK font ({label})"
        try:
            face = fc_match(language)
        except FontNotFound as err:
            findings.append(Finding(name, "fail", str(err), "sudo apt-get install fonts-noto-cjk"))
            continue
        where = f"{face.path} (face {face.index})"
        if prepared_path(face, default_cache_dir()).exists():
            findings.append(Finding(name, "ok", f"{where}, prepared"))
        else:
            findings.append(
                Finding(name, "warn", f"{where}, not prepared: ~11 MB more memory", PREPARE_ADVICE)
            )
    return findings


def check_library(name: str, module: str, native: str | None, fix: str) -> Finding:
    if importlib.util.find_spec(module) is None:
        return Finding(name, "fail", f"Python module {module} is not installed", fix)
    if native and ctypes.util.find_library(native) is None:
        return Finding(name, "fail", f"native library lib{native} is missing", fix)
    return Finding(name, "ok", "installed")


def _has_office(config: Any) -> bool:
    """Configured with an office, or enrolled with one (enrolment leaves its auth key)."""
    from kiosk.sync.client import AUTH_KEY

    return bool(config.office.configured or (config.keys_dir / AUTH_KEY).exists())


def check_config(path: str | None) -> tuple[list[Finding], object | None]:
    from kiosk.config import load_config
    from kiosk.domain.errors import ConfigError

    try:
        config = load_config(path)
    except ConfigError as err:
        return [Finding("configuration", "fail", "; ".join(err.problems), "edit the file")], None
    findings = [Finding("configuration", "ok", str(config.source))]
    if not _has_office(config):
        findings.append(
            Finding(
                "office",
                "warn",
                "standalone: this kiosk holds the invitation key "
                "(a stolen kiosk could sign invitations)",
                "run an office server and set [office] url; the invitation key then lives there",
            )
        )
    return findings, config


def check_keys(config: object) -> list[Finding]:
    from kiosk.config import KioskConfig
    from kiosk.services.keys import BADGE_KEY, DOCUMENT_SALT, INVITATION_KEY

    assert isinstance(config, KioskConfig)
    findings = []
    office = _has_office(config)
    wanted = [BADGE_KEY, DOCUMENT_SALT] + ([] if office else [INVITATION_KEY])
    for name in wanted:
        path = config.keys_dir / name
        if not path.exists():
            findings.append(Finding(f"key {name}", "fail", f"missing at {path}", "kiosk init"))
            continue
        # Its mode is checked with every other private file, in check_private_files.
        findings.append(Finding(f"key {name}", "ok", str(path)))
    if office and (config.keys_dir / INVITATION_KEY).exists():
        findings.append(
            Finding(
                "invitation key",
                "fail",
                "an office is configured but the site's invitation key is on this kiosk",
                f"move {config.keys_dir / INVITATION_KEY} to the office and delete it here",
            )
        )
    return findings


def private_files(config: object) -> list[Path]:
    """Every file the configuration names that only the kiosk user may read: the database
    and its SQLite side files, each file in the keys folder (office-auth.key included) and
    the backups. Only those that exist."""
    from kiosk.config import KioskConfig
    from kiosk.dbkit.private_files import sqlite_files
    from kiosk.storage.backup import list_backups

    assert isinstance(config, KioskConfig)
    paths = sqlite_files(config.database_path)
    # A folder this user may not list is left out here; its files then cannot be checked.
    with contextlib.suppress(OSError):
        paths += sorted(config.keys_dir.iterdir())
    with contextlib.suppress(OSError):
        paths += list_backups(config.backup_dir)
    return [path for path in paths if _is_file_or_unknown(path)]


def _is_file_or_unknown(path: Path) -> bool:
    """A file, or a path this user may not look at (then reported as not checked)."""
    try:
        return path.is_file()
    except OSError:
        return True


def check_file_modes(paths: list[Path], what: str) -> list[Finding]:
    """One failure, with the chmod that fixes it, for each file group or others may read
    or write; one "ok" when there is none."""
    from kiosk.dbkit.private_files import loose_mode

    findings = []
    for path in paths:
        try:
            mode = loose_mode(path)
        except OSError as err:
            findings.append(Finding(f"permissions {path.name}", "warn", f"cannot check: {err}"))
            continue
        if mode is not None:
            findings.append(
                Finding(
                    f"permissions {path.name}",
                    "fail",
                    f"{path} is open to group or others (mode {mode:o}); it holds secrets",
                    f"chmod 600 {path}",
                )
            )
    if not findings:
        findings.append(
            Finding("permissions", "ok", f"{len(paths)} {what} files, none open to others")
        )
    return findings


def check_office_database(url: str) -> list[Finding]:
    """The office's SQLite file (it holds the sites' invitation private keys) and its side
    files. A PostgreSQL server keeps its own files: nothing to check from here."""
    from kiosk.dbkit.private_files import sqlite_files

    if url.startswith(("postgres://", "postgresql://")):
        return [Finding("office database", "ok", "PostgreSQL: its files are the server's")]
    path = Path(url.removeprefix("sqlite:///"))
    if not _is_file_or_unknown(path):
        return [Finding("office database", "fail", f"none at {path}", "check --office-db")]
    findings = [Finding("office database", "ok", str(path))]
    return findings + check_file_modes(
        [file for file in sqlite_files(path) if _is_file_or_unknown(file)], "office database"
    )


def check_database(config: object) -> list[Finding]:
    from kiosk.config import KioskConfig
    from kiosk.domain.errors import StorageError
    from kiosk.storage.db import integrity_problems, open_database
    from kiosk.storage.journal import verify_audit_chain
    from kiosk.storage.migrations import LATEST_VERSION, schema_version

    assert isinstance(config, KioskConfig)
    path = config.database_path
    if not path.exists():
        return [Finding("database", "fail", f"none at {path}", "kiosk init")]
    try:
        db = open_database(path)
    except StorageError as err:
        return [Finding("database", "fail", str(err), "restore the last backup")]
    try:
        findings = []
        problems = integrity_problems(db)
        version = schema_version(db)
        if problems:
            findings.append(
                Finding("database", "fail", "; ".join(problems[:3]), "restore the last backup")
            )
        else:
            findings.append(
                Finding("database", "ok", f"{path} (schema {version}/{LATEST_VERSION})")
            )
        chain = verify_audit_chain()
        findings.append(
            Finding("audit chain", "ok", f"{chain.entries} entries intact")
            if chain.intact
            else Finding(
                "audit chain", "fail", f"broken at entry {chain.first_broken_id}: {chain.problem}"
            )
        )
        findings += _sync_findings(config)
        findings += _notification_findings(config)
    finally:
        db.close()
    free = shutil.disk_usage(path.parent).free
    findings.append(
        Finding(
            "disk space",
            "ok" if free >= MIN_FREE_BYTES else "fail",
            f"{free // (1024 * 1024)} MiB free in {path.parent}",
            "" if free >= MIN_FREE_BYTES else "free space: kiosk purge, or remove old backups",
        )
    )
    return findings


def _sync_findings(config: object) -> list[Finding]:
    """The office link: enrolled or not, the backlog, the last error, the clock skew."""
    from kiosk.storage.models import KioskState, OutboxEvent

    def state(key: str) -> str | None:
        row = KioskState.get_or_none(KioskState.key == f"sync_{key}")
        return row.value if row else None

    backlog = (
        OutboxEvent.select()
        .where(OutboxEvent.sent_at.is_null() & OutboxEvent.rejected_at.is_null())
        .count()
    )
    rejected = OutboxEvent.select().where(OutboxEvent.rejected_at.is_null(False)).count()
    url = state("office_url")
    if not url:
        return [Finding("office sync", "ok", f"standalone; {backlog} events recorded locally")]
    findings = [
        Finding(
            "office sync",
            "ok" if not state("last_error") else "warn",
            f"{url}: {backlog} events waiting, last success {state('last_success') or 'never'}"
            + (f", last error: {state('last_error')}" if state("last_error") else ""),
            "" if not state("last_error") else "see `kiosk sync --status`; the kiosk keeps working",
        )
    ]
    if rejected:
        findings.append(
            Finding(
                "office sync",
                "warn",
                f"{rejected} events refused by the office (kept here)",
                "see `kiosk sync --status`",
            )
        )
    findings.append(_office_key_finding(state))
    skew_ms = state("clock_skew_ms")
    if skew_ms is not None:
        skew = int(skew_ms) / 1000
        findings.append(
            Finding(
                "clock skew",
                "ok" if abs(skew) < 60 else "warn",
                f"this kiosk's clock is {skew:+.1f} s from the office's",
                "" if abs(skew) < 60 else "enable time sync: timedatectl set-ntp true",
            )
        )
    return findings


def _office_key_finding(state: Callable[[str], str | None]) -> Finding:
    """The office keys this kiosk pinned, and whether an answer was forged on the way."""
    import json

    from kiosk.storage.models import AuditEntry
    from kiosk.sync.wire import fingerprint

    keys = [fingerprint(key) for key in sorted(json.loads(state("office_keys") or "[]"))]
    if not keys:
        return Finding(
            "office key", "fail", "no office key pinned: the office's answers cannot be checked",
            "sync once over https, or enrol again with a new code: kiosk enroll URL CODE",
        )  # fmt: skip
    forged = (
        AuditEntry.select()
        .where(AuditEntry.action == "office.answer_forged")
        .order_by(AuditEntry.at.desc())
        .first()
    )
    if forged is not None:
        at = forged.at.isoformat(timespec="seconds")
        success = state("last_success")
        if success is None or datetime.fromisoformat(success) <= forged.at:
            return Finding(
                "office key", "fail",
                f"pinned {', '.join(keys)}; an answer not signed by it was refused at {at}, "
                "and no sync has succeeded since",
                "something between this kiosk and the office alters its answers: check the "
                "network path (proxy, Wi-Fi); compare the key with `kiosk office rotate-key` "
                "at the office",
            )  # fmt: skip
        return Finding(
            "office key", "warn",
            f"pinned {', '.join(keys)}; an answer not signed by it was refused at {at} "
            "(sync has succeeded since)",
        )  # fmt: skip
    return Finding("office key", "ok", f"pinned {', '.join(keys)}; every answer checked")


def _notification_findings(config: object) -> list[Finding]:
    """Notifications waiting, failing (last error, channel masked) and handed to the office."""
    from kiosk.config import KioskConfig
    from kiosk.notify.models import NotificationDelivery, NotificationForward, masked_channel

    assert isinstance(config, KioskConfig)
    try:
        open_rows = list(
            NotificationDelivery.select().where(
                NotificationDelivery.sent_at.is_null() & NotificationDelivery.gave_up_at.is_null()
            )
        )
        forwarded = NotificationForward.select().count()
        unconfirmed = 0
        if forwarded:
            from kiosk.storage.models import OutboxEvent
            from kiosk.sync.wire import EventKind

            unconfirmed = (
                OutboxEvent.select()
                .where(
                    (OutboxEvent.kind == EventKind.NOTIFICATION_FORWARD)
                    & OutboxEvent.sent_at.is_null()
                )
                .count()
            )
    except Exception as err:  # an old database without the tables: say so, never raise
        return [Finding("notifications", "warn", f"cannot read the queue: {err}", "kiosk init")]
    failing = [row for row in open_rows if row.last_error]
    findings = [
        Finding(
            "notifications",
            "ok" if not failing else "warn",
            f"{len(open_rows) - len(failing)} pending, {len(failing)} failing, "
            f"{forwarded} forwarded to the office"
            + (f" ({unconfirmed} not yet received there)" if unconfirmed else ""),
            "" if not failing else "check the channels below; they are retried with backoff",
        )
    ]
    for row in failing[:5]:
        channel = masked_channel(config, row.audience, row.channel_hash)
        findings.append(
            Finding(
                "notification failing",
                "warn",
                f"{row.kind} to {row.audience} via {channel}: {row.attempts} attempts, "
                f"last error: {row.last_error}",
                "fix the channel's URL, or wait: with an office it is forwarded there",
            )
        )
    return findings


def check_clock() -> Finding:
    now = datetime.now(UTC)
    if now.year < 2025:
        return Finding(
            "clock",
            "fail",
            f"the clock says {now:%Y-%m-%d}",
            "enable time sync: timedatectl set-ntp true",
        )
    return Finding("clock", "ok", f"{now:%Y-%m-%d %H:%M} UTC")


def check_display() -> Finding:
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or Path("/dev/dri").exists():
        return Finding("display", "ok", os.environ.get("DISPLAY") or "KMS/DRM")
    return Finding("display", "warn", "no display found; `kiosk run` needs a screen or xvfb-run")


def check_text_layout() -> Finding:
    """Pillow lays badge text out with Raqm (HarfBuzz) only when it finds libfribidi0."""
    from PIL import features

    if features.check("raqm"):
        return Finding("text layout", "ok", f"Raqm {features.version('raqm')}")
    return Finding(
        "text layout",
        "warn",
        "basic: badges kerned unlike a desktop's, Arabic or Indic names unshaped",
        "sudo apt install libfribidi0 (provisioning/install.sh does)",
    )


def run_checks(config_path: str | None, office_db: str | None = None) -> list[Finding]:
    """Every check; with `office_db` (an office's --db URL or SQLite path) that one too."""
    checks: list[Callable[[], Finding]] = [
        lambda: check_library("Kivy", "kivy", None, "pip install kivy"),
        lambda: check_library("OpenCV (camera)", "cv2", None, "pip install opencv-python-headless"),
        lambda: check_library(
            "python-escpos (printer)", "escpos", None, "pip install python-escpos"
        ),
        check_clock,
        check_display,
        check_text_layout,
    ]
    findings = check_fonts() + [check() for check in checks]
    config_findings, config = check_config(config_path)
    findings += config_findings
    if config is not None:
        findings += check_keys(config)
        findings += check_file_modes(private_files(config), "key and database")
        findings += check_database(config)
        findings += _device_findings(config)
        findings.append(_id_reader_finding(config))
    if office_db:
        findings += check_office_database(office_db)
    return findings


def _id_reader_finding(config: Any) -> Finding:
    from kiosk.devices.id_reader_doctor import check_id_reader

    found = check_id_reader(config.devices.id_reader, config.data_dir)
    return Finding("ID card reader", cast(Status, found.status), found.detail, found.fix)


def _simulated_printer(printer: object) -> bool:
    kind, connection = getattr(printer, "kind", ""), getattr(printer, "ql_connection", "")
    return kind == "fake" or (kind == "brother_ql" and connection == "fake")


def _device_findings(config: object) -> list[Finding]:
    """Cameras, printers, decoders and OCR, from the devices layer's own checks.

    A missing device is a failure only when the configuration asks for real hardware of
    that kind; with the fakes configured it is worth knowing, nothing more.
    """
    from kiosk.config import KioskConfig
    from kiosk.devices.doctor import check

    assert isinstance(config, KioskConfig)
    real = {
        "camera": config.devices.camera.kind != "fake",
        "printer": not _simulated_printer(config.devices.printer),
    }
    findings = []
    for item in check(config.devices).findings:
        status: Status = "ok" if item.ok else ("fail" if real.get(item.kind, False) else "warn")
        findings.append(Finding(f"{item.kind} {item.name}", status, item.detail, item.advice))
    return findings
