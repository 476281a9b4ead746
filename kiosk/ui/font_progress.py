"""`kiosk prepare-fonts` as a person waits for it: a bar naming the font file being
prepared and the time left, or the whole job in the background (`--background`).

Preparing (kiosk.ui.fonts.prepare_faces) flattens each font file in one call, so the time
left is an estimate: the files' size at ~3 s per MB a core (Noto Sans CJK's two 19 MB
files took ~60 s on two idle cores, ~100 s on busy ones), corrected by the files done so
far; past it, the estimate grows with the time spent rather than promising "1 s".

In the background the preparation runs in a process of its own session (it outlives the
`make run` that started it), niced, with its output in `prepare-fonts.log` beside the
prepared files; a lock file keeps a second one from starting meanwhile. The kiosk
started meanwhile draws with the faces as they are and uses the prepared ones from its
next start.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import IO

from kiosk.ui.fonts import (
    PREPARE_MEMORY_BYTES,
    FontFace,
    memory_available,
    prepare_file,
    prepared_path,
)

#: Seconds per byte of font file, before any file has been timed here.
SECONDS_PER_BYTE = 3.0 / 2**20
#: Past the estimate, the time left is this share of the time spent so far.
OVERRUN = 0.25
LOCK_NAME = "prepare-fonts.lock"
LOG_NAME = "prepare-fonts.log"
BAR_WIDTH = 24


def missing_files(faces: list[FontFace], cache_dir: Path) -> dict[Path, list[FontFace]]:
    """The font files with a face not prepared yet, and those faces."""
    missing: dict[Path, list[FontFace]] = {}
    for face in dict.fromkeys(faces):
        if not prepared_path(face, cache_dir).exists():
            missing.setdefault(face.path, []).append(face)
    return missing


def expected_total(elapsed: float, estimate: float) -> float:
    """The whole job's expected time: the estimate, or once past it a little more than
    the time spent (OVERRUN), so that the time left is never promised as "1 s" again
    and again."""
    return estimate if elapsed < estimate else elapsed * (1 + OVERRUN)


def bar(done: float, total: float) -> str:
    share = 0.0 if total <= 0 else min(1.0, done / total)
    filled = round(share * BAR_WIDTH)
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:4.0%}"


def prepare_with_progress(
    faces: list[FontFace],
    cache_dir: Path,
    out: IO[str],
    *,
    clock: Callable[[], float] = time.monotonic,
    tick_s: float | None = None,
) -> list[Path]:
    """Prepare the faces not prepared yet, telling `out` how it goes (every `tick_s`: a
    second on a terminal, whose line is redrawn, else ten); the files written."""
    missing = missing_files(faces, cache_dir)
    if not missing:
        return []
    cache_dir.mkdir(parents=True, exist_ok=True)
    sizes = {path: path.stat().st_size for path in missing}
    workers = max(
        1, min(len(missing), os.cpu_count() or 1, memory_available() // PREPARE_MEMORY_BYTES)
    )
    # Files side by side on `workers` cores: the time is that of the largest share.
    total_s = SECONDS_PER_BYTE * sum(sizes.values()) / workers
    started = clock()
    left = dict(missing)
    written: list[Path] = []
    stop = threading.Event()
    interactive = out.isatty()

    def say(final: bool = False) -> None:
        elapsed = clock() - started
        estimate = expected_total(elapsed, total_s)
        names = ", ".join(path.name for path in left) or "done"
        line = f"preparing fonts {bar(1 if final else elapsed, 1 if final else estimate)}  {names}"
        line += f"  about {estimate - elapsed:.0f} s left" if left else f"  in {elapsed:.0f} s"
        if interactive:
            out.write(f"\r{line}\033[K" + ("\n" if final else ""))
        else:
            out.write(line + "\n")
        out.flush()

    def ticker() -> None:
        every = tick_s if tick_s is not None else 1.0 if interactive else 10.0
        while not stop.wait(every):
            say()

    say()
    thread = threading.Thread(target=ticker, daemon=True)
    pool: Executor
    try:
        pool = ProcessPoolExecutor(max_workers=workers)
    except OSError as err:
        # No POSIX semaphores (a chroot or container without a writable /dev/shm): one
        # file after the other, in a thread, is slower, not wrong.
        out.write(f"preparing the font files one by one: no process pool here ({err})\n")
        pool, workers = ThreadPoolExecutor(max_workers=1), 1
    try:
        with pool:
            jobs = {
                pool.submit(prepare_file, group, cache_dir): path for path, group in missing.items()
            }
            # The workers are forked by now: no thread of ours is running in the middle of
            # a write when they are.
            thread.start()
            for job in as_completed(jobs):
                written += job.result()
                path = jobs[job]
                del left[path]
                done_bytes = sum(sizes.values()) - sum(sizes[p] for p in left)
                rate = (clock() - started) * workers / max(done_bytes, 1)
                total_s = rate * sum(sizes.values()) / workers  # what this machine takes
    finally:
        stop.set()
        if thread.is_alive():
            thread.join()
    say(final=True)
    return written


def start_in_background(font: str | None, cache_dir: Path) -> int | None:
    """Start `kiosk prepare-fonts` in a session of its own, niced; its pid, or None when
    one is already preparing (it holds the lock)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    if preparing_now(cache_dir):
        return None
    command = [sys.executable, "-m", "kiosk", "prepare-fonts", "--hold-lock"]
    if font:
        command += ["--font", font]
    with (cache_dir / LOG_NAME).open("w") as log:
        process = subprocess.Popen(
            ["nice", "-n", "10", *command],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def preparing_now(cache_dir: Path) -> bool:
    """Whether a `kiosk prepare-fonts` holds the lock of `cache_dir`."""
    try:
        with (cache_dir / LOCK_NAME).open("a") as file:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except FileNotFoundError:
        return False
    except BlockingIOError:
        return True
    return False


def hold_lock(cache_dir: Path) -> IO[str] | None:
    """Take the lock for this process's lifetime (the file kept open); None if taken."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    file = (cache_dir / LOCK_NAME).open("a")
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        return None
    return file


def prepare_fonts_command(font: str | None, *, background: bool, holding: bool) -> int:
    """`kiosk prepare-fonts [--background]`: its exit code."""
    from kiosk.ui.fonts import FONTCONFIG_LANGUAGE, FontNotFound, default_cache_dir, find_faces

    cache_dir = default_cache_dir()
    try:
        faces = find_faces(list(FONTCONFIG_LANGUAGE), font)
    except FontNotFound as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if not missing_files(faces, cache_dir):
        print(f"the font faces are prepared already (in {cache_dir})")
        return 0
    if background:
        pid = start_in_background(font, cache_dir)
        if pid is None:
            print("the font faces are being prepared already, in the background")
        else:
            print(
                f"preparing the font faces in the background (pid {pid}, log "
                f"{cache_dir / LOG_NAME}); the kiosk uses them from its next start"
            )
        return 0
    lock = hold_lock(cache_dir) if holding else None
    if holding and lock is None:
        print("the font faces are being prepared already, by another process")
        return 0
    try:
        written = prepare_with_progress(faces, cache_dir, sys.stdout)
    except OSError as err:  # never an empty message: the file and what was refused
        what = err.strerror or type(err).__name__
        print(
            f"error: cannot prepare the fonts: {what}: {err.filename or cache_dir}", file=sys.stderr
        )
        return 1
    finally:
        if lock is not None:
            lock.close()
    names = "\n".join(f"  {path}" for path in written)
    print(f"prepared {len(written)} font faces:\n{names}")
    return 0
