"""A print queue where nothing is ever lost.

Job states: QUEUED -> PRINTING -> DONE, or -> FAILED (kept with its bytes and the error).
A failed job is retried with `retry(job_id)` (same job, back in the queue) and any job can be
printed again with `reprint(job_id)` (a new job, same bytes: a lost badge). Every change is
an event for the listeners (`add_listener`); a listener that raises is logged, never
propagated, so a broken UI cannot stop printing. Jobs run one at a time on the queue's own
thread (`start()`), or synchronously with `run_pending()` (tests, the CLI).

A job submitted with `submit_stream(chunks)` is encoded while it prints: the printer gets
each chunk as it is made. The chunks are kept as they pass, and whatever was not made yet
when a job fails is made then, so a failed or reprinted job always has its whole payload.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum

from kiosk.devices.errors import PrinterError
from kiosk.devices.protocols import DeviceEvent, DeviceEventKind, EventCallback, Printer

log = logging.getLogger(__name__)


class JobState(StrEnum):
    QUEUED = "queued"
    PRINTING = "printing"
    DONE = "done"
    FAILED = "failed"


class StreamedPayload:
    """Chunks made on demand and remembered, so the job can be sent again whole."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._source: Iterator[bytes] | None = iter(chunks)
        self._made: list[bytes] = []
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[bytes]:
        index = 0
        while True:
            with self._lock:
                if index < len(self._made):
                    chunk = self._made[index]
                elif self._source is None:
                    return
                else:
                    made = next(self._source, None)
                    if made is None:
                        self._source = None
                        return
                    self._made.append(made)
                    chunk = made
            index += 1
            yield chunk

    def whole(self) -> bytes:
        return b"".join(self)


@dataclass(frozen=True)
class PrintJob:
    """A snapshot of one job; the queue owns the live record."""

    job_id: int
    label: str
    payload: bytes
    state: JobState
    attempts: int = 0
    error: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    reprint_of: int | None = None
    stream: StreamedPayload | None = field(default=None, repr=False, compare=False)


class PrintQueue:
    def __init__(self, printer: Printer, now: Callable[[], datetime] | None = None) -> None:
        self._printer = printer
        self._now = now or (lambda: datetime.now(UTC))
        self._jobs: dict[int, PrintJob] = {}
        self._pending: deque[int] = deque()
        self._listeners: list[EventCallback] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._next_id = 1
        self._thread: threading.Thread | None = None
        self._running = False
        self._busy = False

    # -- listeners ------------------------------------------------------------------------
    def add_listener(self, listener: EventCallback) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: EventCallback) -> None:
        self._listeners.remove(listener)

    def _emit(
        self, kind: DeviceEventKind, job: PrintJob, message: str, error: BaseException | None = None
    ) -> None:
        event = DeviceEvent(
            kind, message, self._now(), error, {"job_id": job.job_id, "label": job.label}
        )
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("print queue listener %r failed on %s", listener, kind)

    # -- jobs -----------------------------------------------------------------------------
    def submit(self, payload: bytes, label: str = "", *, reprint_of: int | None = None) -> PrintJob:
        return self._submit(payload, None, label, reprint_of)

    def submit_stream(self, chunks: Iterable[bytes], label: str = "") -> PrintJob:
        """Queue a job whose bytes are made while it prints (see the module's docstring)."""
        return self._submit(b"", StreamedPayload(chunks), label, None)

    def _submit(
        self, payload: bytes, stream: StreamedPayload | None, label: str, reprint_of: int | None
    ) -> PrintJob:
        with self._lock:
            job = PrintJob(
                self._next_id,
                label,
                payload,
                JobState.QUEUED,
                created_at=self._now(),
                reprint_of=reprint_of,
                stream=stream,
            )
            self._next_id += 1
            self._jobs[job.job_id] = job
            self._pending.append(job.job_id)
            self._wake.notify_all()
        self._emit(DeviceEventKind.PRINT_QUEUED, job, f"queued {label or job.job_id}")
        return job

    def retry(self, job_id: int) -> PrintJob:
        """Put a FAILED job back in the queue (KeyError if unknown, ValueError if not failed)."""
        with self._lock:
            job = self._jobs[job_id]
            if job.state is not JobState.FAILED:
                raise ValueError(f"job {job_id} is {job.state}, only failed jobs are retried")
            job = self._jobs[job_id] = replace(job, state=JobState.QUEUED)
            self._pending.append(job_id)
            self._wake.notify_all()
        self._emit(DeviceEventKind.PRINT_QUEUED, job, f"retrying {job.label or job_id}")
        return job

    def retry_failed(self) -> list[PrintJob]:
        return [self.retry(job.job_id) for job in self.jobs() if job.state is JobState.FAILED]

    def reprint(self, job_id: int) -> PrintJob:
        """Print a job's bytes again as a new job (the original keeps its history)."""
        original = self.get(job_id)
        payload = original.stream.whole() if original.stream else original.payload
        return self.submit(payload, original.label, reprint_of=job_id)

    def get(self, job_id: int) -> PrintJob:
        with self._lock:
            return self._jobs[job_id]

    def jobs(self) -> list[PrintJob]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.job_id)

    def failed(self) -> list[PrintJob]:
        return [j for j in self.jobs() if j.state is JobState.FAILED]

    # -- running --------------------------------------------------------------------------
    def _take(self) -> PrintJob | None:
        if not self._pending:
            return None
        job_id = self._pending.popleft()
        job = self._jobs[job_id] = replace(
            self._jobs[job_id], state=JobState.PRINTING, attempts=self._jobs[job_id].attempts + 1
        )
        self._busy = True
        return job

    def _print(self, job: PrintJob) -> None:
        try:
            if job.stream is not None:
                self._printer.send_stream(job.stream)
            else:
                self._printer.send(job.payload)
        except Exception as err:  # a broken transport must never lose the job
            reason = str(err) if isinstance(err, PrinterError) else f"unexpected error: {err!r}"
            job = _settled(job)
            with self._lock:
                done = self._jobs[job.job_id] = replace(
                    job, state=JobState.FAILED, error=reason, finished_at=self._now()
                )
                self._busy = False
                self._wake.notify_all()
            log.warning("print job %s failed: %s", job.job_id, reason)
            self._emit(DeviceEventKind.PRINT_FAILED, done, reason, err)
            return
        job = _settled(job)
        with self._lock:
            done = self._jobs[job.job_id] = replace(
                job, state=JobState.DONE, error=None, finished_at=self._now()
            )
            self._busy = False
            self._wake.notify_all()
        self._emit(DeviceEventKind.PRINT_DONE, done, f"printed {job.label or job.job_id}")

    def run_pending(self) -> int:
        """Print every queued job on the calling thread; returns how many were attempted."""
        count = 0
        while True:
            with self._lock:
                job = self._take()
            if job is None:
                return count
            self._print(job)
            count += 1

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._running = True
            self._thread = threading.Thread(target=self._loop, name="print-queue", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._running = False
            self._wake.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or printing; False on timeout."""
        with self._lock:
            return self._wake.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _loop(self) -> None:
        while True:
            with self._lock:
                self._wake.wait_for(lambda: bool(self._pending) or not self._running)
                if not self._running:
                    return
                job = self._take()
            if job is not None:
                self._print(job)


def _settled(job: PrintJob) -> PrintJob:
    """A streamed job with its whole payload made and kept (a retry sends these bytes)."""
    if job.stream is None:
        return job
    return replace(job, payload=job.stream.whole(), stream=None)
