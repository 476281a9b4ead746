"""Device configuration, embedded by the main configuration as `[devices]`.

`DevicesConfig()` alone gives a fake camera and a fake 80 mm printer, so a laptop without
hardware runs the whole kiosk. Example::

    [devices.camera]
    kind = "uvc"            # fake | uvc | picamera2 | replay
    device = "/dev/video0"
    width = 640
    height = 480

    [devices.printer]
    kind = "usb"            # fake | usb | network | serial | file | cups | brother_ql
    profile = "TM-T20II"    # a python-escpos profile: its media.width.pixels is the dot width
    usb_vendor_id = "0x04b8"
    usb_product_id = "0x0e15"

A Brother QL label printer::

    [devices.printer]
    kind = "brother_ql"
    ql_model = "QL-820NWB"  # QL-800 | QL-810W | QL-820NWB | QL-1100
    ql_label = "62"         # 62 (DK-22205) | 62x100 (DK-11202) | 62red (DK-22251)
    ql_connection = "file:///dev/usb/lp0"   # or usb://0x04f9:0x209d, tcp://10.0.0.5:9100, fake

The resident-ID card reader::

    [devices.id_reader]
    kind = "serial"         # off | fake | serial | auto (serial if the port exists, else fake)
    port = "/dev/kiosk-idreader"   # the udev rule's symlink (provisioning/udev)
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CameraKind = Literal["fake", "uvc", "picamera2", "replay"]
PrinterKind = Literal["fake", "usb", "network", "serial", "file", "cups", "brother_ql"]
QlModel = Literal["QL-800", "QL-810W", "QL-820NWB", "QL-1100"]
#: brother_ql label names: 62 mm continuous (DK-22205), 62 x 100 mm die-cut (DK-11202),
#: 62 mm continuous black and red (DK-22251).
QlLabelName = Literal["62", "62x100", "62red"]
DecoderName = Literal["auto", "fast", "zxing", "pyzbar"]
IdReaderKind = Literal["off", "fake", "serial", "auto"]


class CameraConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: CameraKind = "fake"
    #: UVC: a V4L2 device path or index ("/dev/video0", 0).
    device: str | int = "/dev/video0"
    width: int = Field(default=640, ge=160, le=4096)
    height: int = Field(default=480, ge=120, le=4096)
    fps: float = Field(default=15.0, gt=0, le=120)
    #: UVC: the FOURCC asked of the camera; MJPG lets USB 2.0 cameras reach full frame rate.
    fourcc: str = Field(default="MJPG", min_length=4, max_length=4)
    #: replay (required) and fake (optional): a video file or a folder of images.
    source_path: str | None = None
    loop: bool = True
    #: "auto" means the measured default (`fast`: zxing-cpp restricted to QR + PDF417).
    decoder: DecoderName = "auto"
    #: A code read leaves view once missing this long (and from a few frames in a row);
    #: only then is it reported again (kiosk.devices.cameras).
    quiet_time_s: float = Field(default=3.0, ge=0)
    #: Passports' and ID cards' MRZ read by OCR from frames with no barcode
    #: (kiosk.devices.mrz_camera): "auto" when Tesseract and the MRZ model load, "on"
    #: (start-up fails without them), "off".
    mrz_ocr: Literal["auto", "on", "off"] = "auto"
    #: At most one OCR attempt this often, on a worker thread (one takes ~70-300 ms).
    mrz_ocr_interval_s: float = Field(default=0.5, ge=0.1, le=10)
    reopen_initial_s: float = Field(default=0.5, gt=0)
    reopen_max_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _replay_needs_a_source(self) -> CameraConfig:
        if self.kind == "replay" and not self.source_path:
            raise ValueError("camera kind 'replay' needs source_path (a video file or folder)")
        if self.reopen_max_s < self.reopen_initial_s:
            raise ValueError("reopen_max_s must be at least reopen_initial_s")
        return self


class PrinterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: PrinterKind = "fake"
    #: python-escpos profile name; decides the dot width (TM-T20II: 576, TM-T88V: 512,
    #: POS-5890: 384).
    profile: str = "TM-T20II"
    #: Overrides the profile's media.width.pixels (for profiles that say "Unknown").
    width_pixels: int | None = Field(default=None, ge=96, le=2048)
    usb_vendor_id: int = 0x04B8
    usb_product_id: int | None = None
    host: str = "192.168.1.100"
    port: int = Field(default=9100, ge=1, le=65535)
    timeout_s: float = Field(default=10.0, gt=0)
    serial_device: str = "/dev/ttyUSB0"
    baudrate: int = 115200
    file_path: str = "/dev/usb/lp0"
    cups_printer: str = ""
    #: A TrueType/OpenType font for badges; empty means ask fontconfig for a CJK-capable sans.
    font_path: str | None = None
    #: fake: where a PNG of each job's paper is written; none means keep in memory only.
    fake_output_dir: str | None = None
    cut: bool = True
    #: The badge's QR: "auto" lets the printer draw it (GS ( k) when the python-escpos profile
    #: says it can, else raster; "native" and "raster" force one way.
    qr: Literal["auto", "native", "raster"] = "auto"
    #: Dots per QR module when the printer draws it (4 = 0.5 mm at 203 dpi).
    qr_module: int = Field(default=4, ge=1, le=16)
    qr_error: Literal["l", "m", "q", "h"] = "m"
    #: Names in the printer's own GB18030 font (Chinese receipt printers); off by default.
    #: Only text stripped of every control character reaches it (kiosk.devices.escpos_text).
    native_text: bool = False
    #: The name, the bands and the expiry time drawn at half density (2 x 2 dots a pixel:
    #: 0.25 mm steps at 203 dpi) and sent at a quarter of the bytes; false: full density.
    half_density_large_text: bool = True
    ql_model: QlModel = "QL-820NWB"
    ql_label: QlLabelName = "62"
    #: Where the QL is: file:///dev/usb/lpN (the kernel's printer class), usb://VID:PID
    #: (pyusb), tcp://HOST:9100, or "fake" (kiosk.devices.fake_brother_ql, for make run).
    ql_connection: str = "fake"

    @field_validator("usb_vendor_id", "usb_product_id", mode="before")
    @classmethod
    def _hex_ids(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return int(value, 16)  # "0x04b8" and "04b8" alike, as lsusb prints them
            except ValueError as err:
                raise ValueError(f"not a hexadecimal USB id: {value!r}") from err
        return value

    @model_validator(mode="after")
    def _ql_settings(self) -> PrinterConfig:
        if self.kind != "brother_ql":
            return self
        if self.ql_label == "62red" and self.ql_model == "QL-1100":
            raise ValueError("ql_label 62red needs a two-colour model (QL-800, QL-810W, QL-820NWB)")
        prefixes = ("fake", "file://", "usb://", "tcp://", "/dev/usb/")
        if not self.ql_connection.startswith(prefixes):
            raise ValueError(
                "ql_connection must be fake, file:///dev/usb/lpN, usb://VID:PID or tcp://HOST:PORT"
            )
        return self

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        from escpos.capabilities import get_profile

        try:
            get_profile(value)
        except Exception as err:  # python-escpos raises a bare KeyError subclass here
            raise ValueError(f"unknown python-escpos printer profile {value!r}") from err
        return value


class IdReaderConfig(BaseModel):
    """The resident-ID card reader (GA 467 SAM protocol over USB-serial)."""

    model_config = ConfigDict(extra="forbid")

    #: off: no reader; fake: the simulated reader on a pseudo-terminal (kiosk.devices.
    #: fake_id_reader); serial: a real reader on `port`; auto: serial when `port` exists
    #: when the kiosk starts, else the fake (the demo's choice), said in the log.
    kind: IdReaderKind = "fake"
    port: str = "/dev/kiosk-idreader"
    baudrate: int = Field(default=115200, ge=9600, le=921600)
    #: How often the reader is asked for a card while the welcome or document screen shows.
    poll_interval_s: float = Field(default=0.3, ge=0.05, le=5.0)
    #: The longest a reader may take to answer one command (a base-information read takes
    #: a real reader ~0.5 s).
    reply_timeout_s: float = Field(default=2.0, gt=0, le=30.0)
    #: fake: the reader's own time to read a card (the SAM's work), wire time apart.
    fake_read_delay_s: float = Field(default=0.4, ge=0, le=10.0)
    #: fake: a folder where `kiosk demo-card` lays cards on the running kiosk's fake reader;
    #: none means the data folder's `id-card-tray`.
    fake_tray_dir: str | None = None


class DevicesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera: CameraConfig = Field(default_factory=lambda: CameraConfig())
    printer: PrinterConfig = Field(default_factory=lambda: PrinterConfig())
    id_reader: IdReaderConfig = Field(default_factory=lambda: IdReaderConfig())
