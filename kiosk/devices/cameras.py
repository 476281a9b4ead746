"""Frame sources and the scanner thread that turns frames into codes.

    UvcSource        USB UVC camera through OpenCV's V4L2 backend: MJPG, configured size,
                     CAP_PROP_BUFFERSIZE=1 (the driver keeps no stale frames)
    Picamera2Source  the Raspberry Pi camera (picamera2, guarded import): the Y plane of YUV420
    ReplaySource     a video file or a folder of images, at a fixed frame rate
    FakeCamera       plays a folder/video or shows codes pushed by a test; `lose()` unplugs it
    Scanner          the `Camera`: one thread captures (only the latest frame is kept), one
                     decodes; codes go to a callback, device trouble to an event callback. A
                     lost camera is reopened with exponential backoff, never a crash.
    CodeDebouncer    codes are acted on once per appearance (below)

A code is reported once per appearance. It is in view from the frame it is first read in
until it has been missing from `LEAVE_FRAMES` frames in a row and for `quiet_time_s`; only
then can it be reported again. A frame that is not new (the camera handing back its last
frame, as a stalled driver does) is not decoded again: it shows what it showed, so a code
in it stays in view and nothing is reported twice. Time alone proves nothing: a code read
in slow frames, or through a camera outage, is still the same appearance until frames
show it gone. Frames captured before `start` are never decoded (the last screen's card).

Callbacks run on the scanner's threads; a Kivy UI hands them over with Clock.schedule_once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kiosk.devices import hardware
from kiosk.devices.config import CameraConfig
from kiosk.devices.decoders import make_reader
from kiosk.devices.errors import CameraLost, DeviceError
from kiosk.devices.protocols import (
    CodeCallback,
    CodeReader,
    DecodedCode,
    DeviceEvent,
    DeviceEventKind,
    EventCallback,
    Frame,
    FrameSource,
)
from kiosk.devices.synthetic import Conditions, SynthFormat, empty_frame, render_code, synth_frame

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


class EndOfReplay(DeviceError):
    """A replay that does not loop has shown its last frame."""


class _Pacer:
    """Sleeps so that frames come at most `fps` per second (replays and fakes)."""

    def __init__(self, fps: float) -> None:
        self._period = 1.0 / fps
        self._next = time.monotonic()

    def wait(self) -> None:
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)
        self._next = max(self._next + self._period, time.monotonic())


class UvcSource:
    def __init__(
        self,
        device: str | int = "/dev/video0",
        width: int = 640,
        height: int = 480,
        fps: float = 15.0,
        fourcc: str = "MJPG",
        capture_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.device, self.width, self.height, self.fps, self.fourcc = (
            device,
            width,
            height,
            fps,
            fourcc,
        )
        self._factory = capture_factory or cv2.VideoCapture
        self._capture: Any = None

    def open(self) -> None:
        capture = self._factory(self.device, cv2.CAP_V4L2)
        if not capture.isOpened():
            capture.release()
            raise CameraLost(f"cannot open camera {self.device} (unplugged, or no permission?)")
        # FOURCC first: on many UVC cameras the size list depends on the format.
        capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*self.fourcc))
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        capture.set(cv2.CAP_PROP_FPS, self.fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._capture = capture

    def read(self) -> Frame:
        if self._capture is None:
            raise CameraLost("camera not open")
        ok, frame = self._capture.read()
        if not ok or frame is None:
            raise CameraLost(f"camera {self.device} stopped delivering frames")
        return np.asarray(frame, dtype=np.uint8)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class Picamera2Source:
    """The Pi camera; frames are the luminance plane of YUV420 (decoders want gray anyway)."""

    def __init__(self, width: int = 640, height: int = 480, fps: float = 15.0) -> None:
        self.width, self.height, self.fps = width, height, fps
        self._camera: Any = None

    def open(self) -> None:
        module = hardware.require("picamera2")
        assert module is not None
        try:
            camera = module.Picamera2()
            config = camera.create_video_configuration(
                main={"size": (self.width, self.height), "format": "YUV420"},
                controls={"FrameRate": self.fps},
                buffer_count=2,
            )
            camera.configure(config)
            camera.start()
        except Exception as err:  # libcamera raises RuntimeError and friends
            raise CameraLost(f"cannot start the Pi camera: {err}") from err
        self._camera = camera

    def read(self) -> Frame:
        if self._camera is None:
            raise CameraLost("camera not open")
        try:
            yuv = self._camera.capture_array("main")
        except Exception as err:
            raise CameraLost(f"Pi camera stopped: {err}") from err
        return np.ascontiguousarray(yuv[: self.height, : self.width], dtype=np.uint8)

    def close(self) -> None:
        if self._camera is not None:
            try:
                self._camera.stop()
                self._camera.close()
            finally:
                self._camera = None


def iter_media_frames(path: str | Path) -> Iterator[Frame]:
    """Frames of a video file, a folder of images (sorted by name) or a single image."""
    source = Path(path)
    if source.is_dir():
        for image_path in sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            frame = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
            if frame is not None:
                yield np.asarray(frame, dtype=np.uint8)
        return
    if not source.exists():
        raise FileNotFoundError(f"no such file or folder: {source}")
    if source.suffix.lower() in IMAGE_SUFFIXES:
        frame = cv2.imread(str(source), cv2.IMREAD_COLOR)
        if frame is None:
            raise ValueError(f"not a readable image: {source}")
        yield np.asarray(frame, dtype=np.uint8)
        return
    capture = cv2.VideoCapture(str(source))
    if not capture.isOpened():
        raise ValueError(f"not a readable video: {source}")
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield np.asarray(frame, dtype=np.uint8)
    finally:
        capture.release()


class ReplaySource:
    def __init__(self, path: str | Path, fps: float = 15.0, loop: bool = True) -> None:
        self.path, self.fps, self.loop = Path(path), fps, loop
        self._frames: Iterator[Frame] | None = None
        self._pacer = _Pacer(fps)

    def open(self) -> None:
        if not self.path.exists():
            raise CameraLost(f"replay source {self.path} does not exist")
        self._frames = iter_media_frames(self.path)

    def read(self) -> Frame:
        if self._frames is None:
            raise CameraLost("replay not open")
        self._pacer.wait()
        frame = next(self._frames, None)
        if frame is None and self.loop:
            self._frames = iter_media_frames(self.path)
            frame = next(self._frames, None)
        if frame is None:
            raise EndOfReplay(f"end of {self.path}")
        return frame

    def close(self) -> None:
        self._frames = None


class FakeCamera:
    """A camera for tests and demos.

    `push_code(payload)` shows a code (rendered like a real camera would see it, under
    `conditions`) for `hold_frames` frames; otherwise the `source_path` media play, or an
    empty scene. `lose(failed_opens=n)` makes the next read fail and the next n reopen
    attempts fail too; `restore()` ends the outage at once. Closing the camera takes the
    codes still shown away, as a visitor takes their card away when the screen moves on:
    the next scanning screen must not read the last one's card.
    """

    def __init__(
        self,
        size: tuple[int, int] = (640, 480),
        fps: float = 30.0,
        source_path: str | Path | None = None,
    ) -> None:
        self.size, self.fps = size, fps
        self.source_path = Path(source_path) if source_path else None
        self._lock = threading.Lock()
        self._pushed: list[tuple[Frame, int]] = []
        self._media: Iterator[Frame] | None = None
        self._lost = False
        self._failed_opens = 0
        self._empty = empty_frame(size)
        self._pacer = _Pacer(fps)
        self.opens = 0
        self.is_open = False
        self._seed = 0

    def push_code(
        self,
        payload: bytes | str,
        fmt: SynthFormat = "qr",
        conditions: Conditions | None = None,
        hold_frames: int = 10,
    ) -> None:
        with self._lock:
            self._seed += 1
            code = render_code(payload, fmt, module_px=4 if fmt == "qr" else 2)
            frame = synth_frame(code, conditions or Conditions(), self.size, seed=self._seed)
            self._pushed.append((frame, hold_frames))

    def push_frame(self, frame: Frame, hold_frames: int = 1) -> None:
        with self._lock:
            self._pushed.append((frame, hold_frames))

    def lose(self, failed_opens: int = 1) -> None:
        with self._lock:
            self._lost = True
            self._failed_opens = failed_opens

    def restore(self) -> None:
        with self._lock:
            self._lost = False
            self._failed_opens = 0

    def open(self) -> None:
        with self._lock:
            self.opens += 1
            if self._failed_opens > 0:
                self._failed_opens -= 1
                raise CameraLost("fake camera: still unplugged")
            self._lost = False
            self.is_open = True
            if self.source_path is not None:
                self._media = iter_media_frames(self.source_path)

    def read(self) -> Frame:
        self._pacer.wait()
        with self._lock:
            if self._lost or not self.is_open:
                self.is_open = False
                raise CameraLost("fake camera: unplugged")
            if self._pushed:
                frame, hold = self._pushed[0]
                if hold <= 1:
                    self._pushed.pop(0)
                else:
                    self._pushed[0] = (frame, hold - 1)
                return frame
            if self._media is not None and self.source_path is not None:
                frame_or_none = next(self._media, None)
                if frame_or_none is None:
                    self._media = iter_media_frames(self.source_path)
                    frame_or_none = next(self._media, None)
                if frame_or_none is not None:
                    return frame_or_none
            return self._empty

    def close(self) -> None:
        with self._lock:
            self.is_open = False
            self._media = None
            self._pushed.clear()


#: Frames in a row a code must be missing from (and `quiet_time_s` pass) to have left view:
#: more than one, as the decoder misses a held card now and then (glare, a moving hand).
LEAVE_FRAMES = 3


class CodeDebouncer:
    """Which codes of a frame are new to view: see the module's docstring."""

    def __init__(
        self,
        quiet_time_s: float,
        clock: Callable[[], float] = time.monotonic,
        leave_frames: int = LEAVE_FRAMES,
    ) -> None:
        self.quiet_time_s = quiet_time_s
        self.leave_frames = leave_frames
        self._clock = clock
        #: Codes in view: when each was last read, and how many frames since lacked it.
        self._in_view: dict[tuple[str, bytes], tuple[float, int]] = {}

    def new_in_view(self, codes: list[DecodedCode]) -> list[DecodedCode]:
        """The codes of this frame that were not in view, once each; call once per frame."""
        now = self._clock()
        present = {(code.format, code.raw): code for code in codes}
        for key, (last_seen, missed) in list(self._in_view.items()):
            if key in present:
                continue
            if missed + 1 >= self.leave_frames and now - last_seen >= self.quiet_time_s:
                del self._in_view[key]  # it has left: the next sighting is a new appearance
            else:
                self._in_view[key] = (last_seen, missed + 1)
        arrived = [code for key, code in present.items() if key not in self._in_view]
        for key in present:
            self._in_view[key] = (now, 0)
        return arrived


@dataclass
class Backoff:
    initial_s: float = 0.5
    maximum_s: float = 30.0
    _current: float = 0.0

    def next_delay(self) -> float:
        self._current = (
            self.initial_s if self._current == 0 else min(self.maximum_s, self._current * 2)
        )
        return self._current

    def reset(self) -> None:
        self._current = 0.0


class Scanner:
    """The kiosk's `Camera`: capture and decode threads over a FrameSource."""

    def __init__(
        self,
        source: FrameSource,
        reader: CodeReader,
        *,
        quiet_time_s: float = 3.0,
        reopen_initial_s: float = 0.5,
        reopen_max_s: float = 30.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.source = source
        self.reader = reader
        self.debouncer = CodeDebouncer(quiet_time_s)
        self.backoff = Backoff(reopen_initial_s, reopen_max_s)
        self._now = now
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._sequence = 0
        self._stopping = threading.Event()
        self._ended = False
        self._threads: list[threading.Thread] = []
        self._on_code: CodeCallback | None = None
        self._on_event: EventCallback | None = None
        self.frames_captured = 0
        self.frames_decoded = 0

    def start(self, on_code: CodeCallback, on_event: EventCallback | None = None) -> None:
        if self._threads:
            raise RuntimeError("scanner already started")
        self._on_code, self._on_event = on_code, on_event
        self._stopping.clear()
        self._ended = False
        with self._cond:
            # The last frame of the previous run is not this run's: it may hold the card
            # of the screen before, which must not act here.
            self._latest = None
            first_sequence = self._sequence
        self._threads = [
            threading.Thread(target=self._capture_loop, name="camera-capture", daemon=True),
            threading.Thread(
                target=self._decode_loop, args=(first_sequence,), name="camera-decode", daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        try:
            self.source.close()
        except Exception:
            log.exception("closing the camera failed")

    def latest_frame(self) -> Frame | None:
        with self._cond:
            return self._latest

    def _emit(
        self, kind: DeviceEventKind, message: str, error: BaseException | None = None
    ) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(DeviceEvent(kind, message, self._now(), error))
        except Exception:
            log.exception("camera event listener failed on %s", kind)

    def _capture_loop(self) -> None:
        opened, lost_reported = False, False
        while not self._stopping.is_set():
            try:
                if not opened:
                    self.source.open()
                    opened = True
                    self.backoff.reset()
                    if lost_reported:
                        lost_reported = False
                        self._emit(DeviceEventKind.CAMERA_RESTORED, "camera is back")
                frame = self.source.read()
            except EndOfReplay:
                log.info("replay finished")
                with self._cond:
                    self._ended = True  # the decoder finishes the last frame, then stops
                    self._cond.notify_all()
                return
            except Exception as err:  # CameraLost, or anything a driver throws
                if not isinstance(err, CameraLost | DeviceError):
                    err = CameraLost(f"camera failed: {err!r}")
                if opened:
                    try:
                        self.source.close()
                    except Exception:
                        log.debug("closing a lost camera failed", exc_info=True)
                opened = False
                if not lost_reported:
                    lost_reported = True
                    self._emit(DeviceEventKind.CAMERA_LOST, str(err), err)
                delay = self.backoff.next_delay()
                log.warning("camera lost (%s); reopening in %.1f s", err, delay)
                self._stopping.wait(delay)
                continue
            with self._cond:
                self._latest = frame
                self._sequence += 1
                self.frames_captured += 1
                self._cond.notify_all()

    def _has_news(self, seen: int) -> bool:
        return self._sequence != seen or self._ended or self._stopping.is_set()

    def _decode_loop(self, seen: int) -> None:
        previous: Frame | None = None
        previous_codes: list[DecodedCode] = []
        while True:
            with self._cond:
                self._cond.wait_for(partial(self._has_news, seen))
                if self._stopping.is_set() or (self._ended and self._sequence == seen):
                    return
                frame, seen = self._latest, self._sequence
            if frame is None:
                continue
            if _same_frame(frame, previous):
                codes = previous_codes  # not new: it shows what it showed
            else:
                try:
                    codes = self.reader.decode(frame)
                except Exception:
                    log.exception("decoder %s failed on a frame", getattr(self.reader, "name", "?"))
                    continue
                self.frames_decoded += 1
                previous, previous_codes = frame, codes
            for code in self.debouncer.new_in_view(codes):
                if self._on_code is not None:
                    try:
                        self._on_code(code)
                    except Exception:
                        log.exception("code callback failed")


def _same_frame(frame: Frame, previous: Frame | None) -> bool:
    """Whether `frame` is `previous` again, the same array or the same pixels (a driver may
    copy its last buffer): a real sensor's noise makes two new frames differ."""
    if previous is None:
        return False
    return frame is previous or (
        frame.shape == previous.shape and bool(np.array_equal(frame, previous))
    )


def open_source(config: CameraConfig) -> FrameSource:
    size = (config.width, config.height)
    if config.kind == "fake":
        return FakeCamera(size, config.fps, config.source_path)
    if config.kind == "replay":
        assert config.source_path is not None  # checked by CameraConfig
        return ReplaySource(config.source_path, config.fps, config.loop)
    if config.kind == "uvc":
        hardware.require("opencv")
        return UvcSource(config.device, config.width, config.height, config.fps, config.fourcc)
    if config.kind == "picamera2":
        hardware.require("picamera2")  # fail now, at start-up, not in the capture thread
        return Picamera2Source(config.width, config.height, config.fps)
    raise ValueError(f"unknown camera kind {config.kind!r}")


def open_camera(config: CameraConfig, reader: CodeReader | None = None) -> Scanner:
    """The configured camera as a Scanner (not started); `scanner.source` is the FakeCamera
    when kind = "fake", for pushing codes and faults. Without a `reader`, the configured
    decoder, with MRZ OCR as `mrz_ocr` says (kiosk.devices.mrz_camera)."""
    if reader is None:
        from kiosk.devices.mrz_camera import make_mrz_reader

        reader = make_mrz_reader(
            make_reader(config.decoder), config.mrz_ocr, config.mrz_ocr_interval_s
        )
    return Scanner(
        open_source(config),
        reader,
        quiet_time_s=config.quiet_time_s,
        reopen_initial_s=config.reopen_initial_s,
        reopen_max_s=config.reopen_max_s,
    )
