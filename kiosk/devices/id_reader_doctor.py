"""`kiosk doctor`'s look at the ID card reader: the port, the SAM's id, the last error.

The running kiosk holds the line exclusively while it polls, so the doctor asks the reader
itself only when the line is free, and otherwise reports what the kiosk last wrote
(`id_reader.ReaderState`, DATA_DIR/id-reader.json): connected or not, the SAM id, and the
last error with its time. Nothing of any card is in either.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kiosk.devices import hardware
from kiosk.devices.config import IdReaderConfig
from kiosk.devices.errors import IdReaderError, ReaderProblem
from kiosk.devices.id_reader import SamReader, read_state

UDEV_ADVICE = (
    "plug the reader in; provisioning/udev/99-kiosk-idreader.rules names it "
    "/dev/kiosk-idreader (provisioning/README.md says how to add a USB id)"
)


@dataclass(frozen=True)
class ReaderFinding:
    status: str  # "ok", "warn", "fail"
    detail: str
    fix: str = ""


def _last_error(data_dir: Path) -> str:
    state = read_state(data_dir / "id-reader.json")
    if not state or not state.get("last_error"):
        return "no error recorded"
    return f"last error {state.get('last_error_at', '?')}: {state['last_error']}"


def _ask_reader(config: IdReaderConfig, data_dir: Path) -> ReaderFinding:
    reader = SamReader(config.port, baudrate=config.baudrate, reply_timeout_s=1.0)
    try:
        sam_id = reader.sam_id()
        reader.sam_status()
    except IdReaderError as err:
        state = read_state(data_dir / "id-reader.json") or {}
        if err.problem is ReaderProblem.NOT_CONNECTED and state.get("connected"):
            return ReaderFinding(
                "ok",
                f"{config.port}: in use by the running kiosk, SAM {state.get('sam_id', '?')}; "
                + _last_error(data_dir),
            )
        return ReaderFinding(
            "fail",
            f"{config.port}: {err} ({err.problem.value}); {_last_error(data_dir)}",
            "check the cable and the reader's power; a SAM fault needs the vendor",
        )
    finally:
        reader.close()
    return ReaderFinding("ok", f"{config.port}: SAM {sam_id} ready; {_last_error(data_dir)}")


def check_id_reader(config: IdReaderConfig, data_dir: Path) -> ReaderFinding:
    if config.kind == "off":
        return ReaderFinding("ok", 'none configured ([devices.id_reader] kind = "off")')
    missing = hardware.missing("serial")
    if missing is not None:
        return ReaderFinding("fail", missing, hardware.FEATURES["serial"].advice)
    if config.kind == "fake" or (config.kind == "auto" and not os.path.exists(config.port)):
        return ReaderFinding(
            "warn" if config.kind == "auto" else "ok",
            f"the simulated reader (kind {config.kind!r}); {_last_error(data_dir)}",
            UDEV_ADVICE if config.kind == "auto" else "",
        )
    if not os.path.exists(config.port):
        return ReaderFinding("fail", f"no reader at {config.port}", UDEV_ADVICE)
    return _ask_reader(config, data_dir)
