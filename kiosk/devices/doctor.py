"""What devices this machine has, and what each one lacks; `kiosk doctor` prints it.

Checks are read-only and quick: no frame is grabbed and nothing is printed. Network
printers are probed with a TCP connect only when asked (`probe_network=True`).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field

from kiosk.devices import hardware
from kiosk.devices.config import CameraConfig, DevicesConfig, PrinterConfig
from kiosk.devices.findings import Finding, probe_network_printer
from kiosk.devices.fonts import NO_FONT_ADVICE, fc_match

#: USB vendors of common ESC/POS receipt printers (also in provisioning/udev).
PRINTER_VENDORS = {
    0x04B8: "Epson",
    0x0519: "Star Micronics",
    0x0DD4: "Custom",
    0x154F: "SNBC",
    0x0416: "Winbond (many Xprinter/Rongta clones)",
    0x0483: "STMicro (many 58 mm clones)",
    0x1FC9: "NXP (POS-5890 clones)",
    0x28E9: "GigaDevice (many 80 mm clones)",
    0x1504: "Bixolon",
    0x04F9: "Brother (QL label printers: printer.kind = 'brother_ql')",
}


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    def problems(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]


def _access(path: str, mode: int) -> Finding:
    kind = "camera" if "video" in path else "printer"
    if os.access(path, mode):
        return Finding(kind, path, True, "readable" if mode == os.R_OK else "read/write")
    group = "video" if kind == "camera" else "lp"
    return Finding(
        kind,
        path,
        False,
        "no permission",
        f"add the kiosk user to the '{group}' group (sudo usermod -aG {group} $USER) and "
        "install provisioning/udev/99-kiosk-printers.rules",
    )


def find_cameras() -> list[Finding]:
    found = [_access(path, os.R_OK | os.W_OK) for path in sorted(glob.glob("/dev/video*"))]
    if not found:
        found.append(
            Finding("camera", "/dev/video*", False, "no V4L2 camera found", "plug in a USB camera")
        )
    return found


def find_usb_printers() -> list[Finding]:
    """USB devices with the printer interface class (7) or a known ESC/POS vendor id."""
    findings = [_access(path, os.R_OK | os.W_OK) for path in sorted(glob.glob("/dev/usb/lp*"))]
    reason = hardware.missing("usb")
    if reason is not None:
        findings.append(
            Finding("printer", "USB (pyusb)", False, reason, hardware.FEATURES["usb"].advice)
        )
        return findings
    import usb.core

    try:
        devices = list(usb.core.find(find_all=True))
    except Exception as err:  # no backend, no permission on the bus
        return [*findings, Finding("printer", "USB bus", False, f"cannot list USB devices: {err}")]
    for device in devices:
        vendor = int(device.idVendor)
        is_printer = vendor in PRINTER_VENDORS
        try:
            for configuration in device:
                for interface in configuration:
                    is_printer = is_printer or interface.bInterfaceClass == 7
        except Exception:  # descriptors unreadable without permission; vendor id decides
            pass
        if is_printer:
            label = PRINTER_VENDORS.get(vendor, "")
            name = f"USB {vendor:04x}:{int(device.idProduct):04x} {label}".strip()
            findings.append(
                Finding("printer", name, True, "set printer.kind = 'usb' with these ids")
            )
    return findings


def find_devices() -> list[Finding]:
    """Cameras and printers attached to this machine, whatever the configuration says."""
    return find_cameras() + find_usb_printers()


def mrz_ocr_finding(mode: str) -> Finding:
    """Whether passports' MRZ can be read from the camera: the binding, the model and its
    form (kiosk.devices.mrz_model), or why not with the exact install advice."""
    from kiosk.devices.mrz_model import find_mrz_model, is_int_model

    if mode == "off":
        return Finding("ocr", "tesseract", True, "MRZ OCR off (devices.camera.mrz_ocr)")
    advice = hardware.FEATURES["tesseract"].advice
    reason = hardware.missing("tesseract")
    if reason is not None:
        return Finding("ocr", "tesseract", False, f"MRZ OCR off: {reason}", advice)
    model = find_mrz_model()
    if model is None:
        return Finding("ocr", "tesseract", False, "MRZ OCR off: no MRZ model", advice)
    if not is_int_model(model[0]):
        return Finding(
            "ocr",
            "tesseract",
            False,
            f"MRZ OCR on with the float model in {model[0]} (slower)",
            "python -m kiosk.devices.mrz_model (make bootstrap runs it)",
        )
    return Finding("ocr", "tesseract", True, f"MRZ OCR available ({model[0]})")


def check(config: DevicesConfig, probe_network: bool = False) -> Report:
    """Everything the configured devices need, each with advice when missing."""
    report = Report()
    report.findings += camera_findings(config.camera)
    report.findings += decoder_findings()
    report.findings.append(mrz_ocr_finding(config.camera.mrz_ocr))
    report.findings += printer_findings(config.printer, probe_network)
    report.findings.append(badge_font_finding(config.printer))
    return report


def _feature(kind: str, name: str, feature: str, present: str) -> Finding:
    """An optional library: importable, or why not and how to install it."""
    reason = hardware.missing(feature)
    advice = hardware.FEATURES[feature].advice if reason else ""
    return Finding(kind, name, reason is None, reason or present, advice)


def camera_findings(camera: CameraConfig) -> list[Finding]:
    if camera.kind == "uvc":
        return [
            f
            for f in find_cameras()
            if f.name == camera.device or not isinstance(camera.device, str)
        ] or [
            Finding(
                "camera",
                str(camera.device),
                False,
                "configured camera not found",
                "check devices.camera.device",
            )
        ]
    if camera.kind == "picamera2":
        return [_feature("camera", "Pi camera", "picamera2", "picamera2 importable")]
    return []


def decoder_findings() -> list[Finding]:
    return [
        _feature("decoder", "zxing-cpp", "zxing-cpp", "QR + PDF417 decoder (default)"),
        _feature("decoder", "pyzbar", "pyzbar", "QR + 1-D decoder (alternative)"),
    ]


def printer_findings(printer: PrinterConfig, probe_network: bool) -> list[Finding]:
    if printer.kind == "usb":
        return find_usb_printers()
    if printer.kind == "serial":
        if hardware.missing("serial"):
            return [_feature("printer", printer.serial_device, "serial", "")]
        if os.path.exists(printer.serial_device):
            return [_access(printer.serial_device, os.R_OK | os.W_OK)]
        return [Finding("printer", printer.serial_device, False, "device does not exist")]
    if printer.kind == "file":
        if os.path.exists(printer.file_path):
            return [_access(printer.file_path, os.W_OK)]
        return [
            Finding(
                "printer",
                printer.file_path,
                False,
                "device does not exist",
                "is the printer on and plugged in?",
            )
        ]
    if printer.kind == "cups":
        return [_feature("printer", f"CUPS {printer.cups_printer}", "cups", "pycups importable")]
    if printer.kind == "network" and probe_network:
        return [probe_network_printer(printer.host, printer.port)]
    if printer.kind == "brother_ql":
        from kiosk.devices.ql_doctor import check_ql

        return check_ql(printer, probe_network)
    return []


def badge_font_finding(printer: PrinterConfig) -> Finding:
    font = printer.font_path or fc_match("sans:lang=zh-cn")
    if font and os.path.isfile(font):
        return Finding("font", font, True, "badge font")
    return Finding(
        "font", printer.font_path or "fontconfig", False, "no badge font", NO_FONT_ADVICE
    )
