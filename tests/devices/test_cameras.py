"""Fake, replay and UVC sources; the Scanner's debounce, backoff and loss reporting."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.devices.cameras import (
    Backoff,
    CodeDebouncer,
    FakeCamera,
    ReplaySource,
    Scanner,
    UvcSource,
    open_camera,
)
from kiosk.devices.config import CameraConfig
from kiosk.devices.decoders import FastReader
from kiosk.devices.errors import CameraLost
from kiosk.devices.protocols import DecodedCode, DeviceEvent, DeviceEventKind
from kiosk.devices.synthetic import empty_frame, render_code, synth_frame


class Collector:
    def __init__(self) -> None:
        self.codes: list[DecodedCode] = []
        self.events: list[DeviceEvent] = []
        self.changed = threading.Condition()

    def code(self, code: DecodedCode) -> None:
        with self.changed:
            self.codes.append(code)
            self.changed.notify_all()

    def event(self, event: DeviceEvent) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def wait(self, predicate, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
        with self.changed:
            return self.changed.wait_for(predicate, timeout)


def test_pushed_code_is_reported_once_while_held() -> None:
    camera = FakeCamera(fps=60)
    scanner = Scanner(camera, FastReader(), quiet_time_s=5)
    seen = Collector()
    scanner.start(seen.code, seen.event)
    try:
        camera.push_code("HELLO KIOSK", hold_frames=20)
        assert seen.wait(lambda: len(seen.codes) >= 1)
        time.sleep(0.4)  # the code stays in view for ~20 frames: still one report
        assert [c.raw for c in seen.codes] == [b"HELLO KIOSK"]
        camera.push_code("SECOND CODE", hold_frames=3)
        assert seen.wait(lambda: len(seen.codes) >= 2)
        assert seen.codes[1].raw == b"SECOND CODE"
        assert scanner.latest_frame() is not None
    finally:
        scanner.stop()
    assert seen.events == []


def test_a_code_is_new_once_per_appearance() -> None:
    now = [0.0]
    debouncer = CodeDebouncer(2.0, clock=lambda: now[0], leave_frames=3)
    code = DecodedCode(b"X", "qr")
    assert debouncer.new_in_view([code]) == [code]
    for t in (0.5, 10.0, 30.0):  # in view, however long, with frames far apart
        now[0] = t
        assert debouncer.new_in_view([code]) == []
    now[0] = 30.05
    for _missed in range(5):  # missed by the decoder in a few frames, for 0.05 s: not gone
        assert debouncer.new_in_view([]) == []
    now[0] = 30.1
    assert debouncer.new_in_view([code]) == []
    for _missed in range(2):
        now[0] += 5.0
        assert debouncer.new_in_view([]) == []  # two frames: not yet three
    now[0] += 5.0
    assert debouncer.new_in_view([]) == []  # three frames and 15 s: it has left
    assert debouncer.new_in_view([code]) == [code]  # back: a new appearance
    other = DecodedCode(b"X", "pdf417")  # same bytes, other format
    assert debouncer.new_in_view([code, other]) == [other]


class CountingReader:
    """FastReader, counting the frames it is asked to decode."""

    name = "counting"

    def __init__(self) -> None:
        self.reader = FastReader()
        self.decoded = 0

    def decode(self, frame: np.ndarray) -> list[DecodedCode]:
        self.decoded += 1
        return self.reader.decode(frame)


def until(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def code_frame(payload: str, seed: int = 1) -> np.ndarray:
    return synth_frame(render_code(payload), seed=seed)


def test_the_same_frame_again_is_neither_decoded_nor_reported_again() -> None:
    # A camera handing back its last frame, slower than the quiet time: once, decoded once.
    camera = FakeCamera(fps=10)
    reader = CountingReader()
    scanner = Scanner(camera, reader, quiet_time_s=0.05)
    seen = Collector()
    camera.push_frame(code_frame("STALE"), hold_frames=12)
    scanner.start(seen.code, seen.event)
    try:
        assert until(lambda: scanner.frames_captured >= 12)
        camera.push_frame(code_frame("STALE").copy(), hold_frames=3)  # the same pixels, copied
        assert until(lambda: scanner.frames_captured >= 15)
    finally:
        scanner.stop()
    assert [c.raw for c in seen.codes] == [b"STALE"]
    assert reader.decoded <= 3  # the code, the empty scene after it: not once a frame


def test_a_code_in_view_for_long_is_reported_once_and_again_after_it_left() -> None:
    camera = FakeCamera(fps=60)
    scanner = Scanner(camera, FastReader(), quiet_time_s=0)
    seen = Collector()
    # New frames, each showing the card (held for 40 frames), but for one the decoder missed
    # it in; made first, as drawing them is slower than the camera.
    held = [code_frame("BADGE", seed) for seed in range(1, 41)]
    held[20] = empty_frame(camera.size)
    scanner.start(seen.code, seen.event)
    try:
        for frame in held:
            camera.push_frame(frame)
        assert until(lambda: scanner.frames_captured > 44)
        assert [c.raw for c in seen.codes] == [b"BADGE"]
        taken_away = scanner.frames_captured  # the fake shows an empty scene once codes end
        assert until(lambda: scanner.frames_captured > taken_away + 5)
        camera.push_code("BADGE", hold_frames=3)
        assert seen.wait(lambda: len(seen.codes) >= 2)
    finally:
        scanner.stop()
    assert [c.raw for c in seen.codes] == [b"BADGE", b"BADGE"]


class SlowToOpen(FakeCamera):
    """A camera that takes a while to open again, as a real one does."""

    def open(self) -> None:
        if self.opens:
            time.sleep(0.3)
        super().open()


def test_the_last_runs_frame_does_not_act_on_the_next_screen() -> None:
    camera = SlowToOpen(fps=60)
    scanner = Scanner(camera, FastReader(), quiet_time_s=0.05)
    seen = Collector()
    camera.push_code("LAST SCREEN", hold_frames=1000)
    scanner.start(seen.code, seen.event)
    try:
        assert seen.wait(lambda: len(seen.codes) == 1)
    finally:
        scanner.stop()  # the card still in view: the last frame captured shows it
    time.sleep(0.1)  # longer than the quiet time
    again = Collector()
    scanner.start(again.code, again.event)
    try:
        assert until(lambda: camera.opens == 2)
        time.sleep(0.2)
    finally:
        scanner.stop()
    assert again.codes == []


def test_backoff_doubles_to_a_maximum() -> None:
    backoff = Backoff(0.5, 4.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_lost_camera_is_an_event_and_is_reopened_with_backoff() -> None:
    camera = FakeCamera(fps=60)
    scanner = Scanner(camera, FastReader(), quiet_time_s=0, reopen_initial_s=0.02, reopen_max_s=0.1)
    seen = Collector()
    scanner.start(seen.code, seen.event)
    try:
        assert seen.wait(lambda: scanner.frames_captured > 2)
        camera.lose(failed_opens=3)
        assert seen.wait(
            lambda: any(e.kind is DeviceEventKind.CAMERA_RESTORED for e in seen.events)
        )
        kinds = [e.kind for e in seen.events]
        assert kinds == [DeviceEventKind.CAMERA_LOST, DeviceEventKind.CAMERA_RESTORED]  # once each
        assert isinstance(seen.events[0].error, CameraLost)
        assert camera.opens == 1 + 3 + 1  # first open, three failures, the successful reopen
        camera.push_code("AFTER OUTAGE")
        assert seen.wait(lambda: any(c.raw == b"AFTER OUTAGE" for c in seen.codes))
    finally:
        scanner.stop()


def test_failing_callbacks_do_not_kill_the_scanner() -> None:
    camera = FakeCamera(fps=60)
    scanner = Scanner(camera, FastReader(), quiet_time_s=0)
    calls = []

    def broken(code: DecodedCode) -> None:
        calls.append(code)
        raise RuntimeError("UI bug")

    scanner.start(broken)
    try:
        # Held for several frames: with latest-frame semantics a busy machine may skip one.
        camera.push_code("ONE", hold_frames=10)
        deadline = time.monotonic() + 15
        while not calls and time.monotonic() < deadline:
            time.sleep(0.01)
        camera.push_code("TWO", hold_frames=10)
        while not any(c.raw == b"TWO" for c in calls) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        scanner.stop()
    raws = [c.raw for c in calls]
    # The callback raised on "ONE", and the scanner still went on to report "TWO".
    assert b"ONE" in raws and b"TWO" in raws[raws.index(b"ONE") :]


def _write_frames(folder: Path, payloads: list[str]) -> list[np.ndarray]:
    folder.mkdir()
    frames = [synth_frame(render_code(p), seed=i, color=True) for i, p in enumerate(payloads)]
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), frame)
    return frames


def test_replay_folder_then_end(tmp_path: Path) -> None:
    _write_frames(tmp_path / "frames", ["A1", "B2"])
    source = ReplaySource(tmp_path / "frames", fps=20, loop=False)  # slower than decoding
    scanner = Scanner(source, FastReader(), quiet_time_s=10)
    seen = Collector()
    scanner.start(seen.code, seen.event)
    try:
        assert seen.wait(lambda: len(seen.codes) == 2)
    finally:
        scanner.stop()
    assert [c.raw for c in seen.codes] == [b"A1", b"B2"]


def test_replay_video_file_loops(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (640, 480))
    frame = synth_frame(render_code("VIDEO CODE"), seed=1, color=True)
    for _ in range(3):
        writer.write(frame)
    writer.release()
    source = ReplaySource(path, fps=500, loop=True)
    source.open()
    frames = [source.read() for _ in range(7)]  # 3 frames, looped
    source.close()
    assert all(f.shape == (480, 640, 3) for f in frames)
    assert FastReader().decode(frames[6])[0].raw == b"VIDEO CODE"


class _RecordingCapture:
    def __init__(self, device, backend, opened: bool = True) -> None:  # type: ignore[no-untyped-def]
        self.device, self.backend, self.opened = device, backend, opened
        self.props: dict[int, float] = {}
        self.reads = 0

    def isOpened(self) -> bool:
        return self.opened

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def read(self):  # type: ignore[no-untyped-def]
        self.reads += 1
        if self.reads > 2:
            return False, None  # unplugged
        return True, np.zeros((480, 640, 3), np.uint8)

    def release(self) -> None:
        self.opened = False


def test_uvc_source_asks_for_mjpg_size_and_a_one_frame_buffer() -> None:
    made: list[_RecordingCapture] = []
    source = UvcSource(
        "/dev/video0",
        1280,
        720,
        30,
        capture_factory=lambda d, b: made.append(_RecordingCapture(d, b)) or made[-1],
    )
    source.open()
    capture = made[0]
    assert capture.backend == cv2.CAP_V4L2 and capture.device == "/dev/video0"
    assert capture.props[cv2.CAP_PROP_FOURCC] == cv2.VideoWriter.fourcc(*"MJPG")
    assert (capture.props[cv2.CAP_PROP_FRAME_WIDTH], capture.props[cv2.CAP_PROP_FRAME_HEIGHT]) == (
        1280,
        720,
    )
    assert capture.props[cv2.CAP_PROP_BUFFERSIZE] == 1
    source.read()
    source.read()
    with pytest.raises(CameraLost):
        source.read()
    source.close()
    absent = UvcSource(
        "/dev/video9", capture_factory=lambda d, b: _RecordingCapture(d, b, opened=False)
    )
    with pytest.raises(CameraLost, match="cannot open"):
        absent.open()


def test_open_camera_default_is_fake() -> None:
    scanner = open_camera(CameraConfig())
    assert isinstance(scanner.source, FakeCamera)
    assert scanner.reader.name == "fast"


def test_picamera2_missing_fails_loudly() -> None:
    from kiosk.devices import hardware
    from kiosk.devices.errors import HardwareUnavailable

    if hardware.available("picamera2"):
        pytest.skip("picamera2 is installed")
    with pytest.raises(HardwareUnavailable, match="python3-picamera2"):
        open_camera(CameraConfig(kind="picamera2"))
