"""The link between the touchscreen's process and its engine's (kiosk.engine_link), with a
real child process on a real socket pair."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.errors import (
    AlreadyCheckedOut,
    AlreadyRated,
    ConfigError,
    RejectReason,
    TokenRejected,
)
from kiosk.engine_link import EngineGone, RemoteServices, start_engine

ENGINE = [sys.executable, str(Path(__file__).with_name("fake_engine.py"))]


@pytest.fixture
def engine() -> Iterator[RemoteServices]:
    services = start_engine(ENGINE, timeout_s=60)
    yield services
    services.close()


def test_calls_return_the_engines_values_and_the_snapshot_is_local(
    engine: RemoteServices,
) -> None:
    assert engine.add(2, b=3) == 5
    assert engine.site_name == "Test Tower"
    assert engine.languages == ["en", "zh_Hans"]
    assert engine.pid() == engine.engine_pid != os.getpid()
    engine.idle_timeout_s = 1.5  # the touchscreen's own copy
    assert engine.idle_timeout_s == 1.5


def test_domain_errors_arrive_whole(engine: RemoteServices) -> None:
    with pytest.raises(TokenRejected) as caught:
        engine.reject()
    assert caught.value.reason is RejectReason.EXPIRED
    assert caught.value.detail == "yesterday"
    assert engine.add(1) == 1  # the link goes on after an error


def test_a_second_check_out_or_rating_arrives_with_its_time_and_score(
    engine: RemoteServices,
) -> None:
    with pytest.raises(AlreadyCheckedOut) as checked_out:
        engine.check_out_again()
    left = datetime(2026, 12, 7, 10, 42, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert checked_out.value.visit_ref == "V-1"
    assert checked_out.value.checked_out_at == left
    assert checked_out.value.checked_out_at.utcoffset() == left.utcoffset()  # still site time
    with pytest.raises(AlreadyRated) as rated:
        engine.rate_again()
    assert (rated.value.visit_ref, rated.value.satisfaction) == ("V-1", 5)


def test_a_value_that_cannot_be_sent_is_an_error_not_a_hang(engine: RemoteServices) -> None:
    with pytest.raises(TypeError, match="unpicklable returned what cannot be sent"):
        engine.unpicklable()
    with pytest.raises(AttributeError):
        engine.no_such_service()
    with pytest.raises(AttributeError):
        engine.call("_private")
    assert engine.add(4, 4) == 8


def test_callbacks_run_here_when_the_engine_calls_them_from_its_threads(
    engine: RemoteServices,
) -> None:
    seen: list[tuple[str, str]] = []
    done = threading.Event()

    def on_done(word: str) -> None:
        seen.append((word, threading.current_thread().name))
        done.set()

    engine.later(on_done)
    assert done.wait(10)
    assert seen == [("done", "engine-link")]


def test_a_callback_is_forgotten_once_the_engine_lets_it_go(engine: RemoteServices) -> None:
    done = threading.Event()
    engine.later(lambda _word: done.set(), hold=True)
    assert done.wait(10)
    assert len(engine._callbacks) == 1  # the engine still holds it
    engine.let_go()
    for _ in range(100):
        if not engine._callbacks:
            break
        time.sleep(0.02)
    assert engine._callbacks == {}


def test_a_start_up_error_is_raised_as_the_engines_own() -> None:
    with pytest.raises(ConfigError) as caught:
        start_engine([*ENGINE, "--fail-to-start"], timeout_s=60)
    assert caught.value.problems == ["site.name: missing"]


def test_an_engine_that_dies_makes_every_call_fail_clearly_and_says_so() -> None:
    lost = threading.Event()
    engine = start_engine(ENGINE, timeout_s=60, on_lost=lost.set)
    with pytest.raises(EngineGone):
        engine.die()
    assert lost.wait(10)
    with pytest.raises(EngineGone):
        engine.add(1, 2)
    assert engine.close() == 3


def test_closing_closes_the_engines_services_and_ends_it(engine: RemoteServices) -> None:
    assert engine.close() == 0


def test_closing_ends_the_links_reader_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader thread waits in recv() when close() closes the connection under it: that
    is the end asked for, not an error in the thread, and not "engine lost"."""
    failures: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda hook: failures.append(hook.exc_value))
    lost = threading.Event()
    services = start_engine(ENGINE, timeout_s=60, on_lost=lost.set)
    assert services.close() == 0
    services._reader.join(10)
    assert not services._reader.is_alive()
    assert failures == [] and not lost.is_set()


def test_sigterm_closes_the_engine_in_order_and_the_touchscreen_is_told() -> None:
    """systemd stops the service with SIGTERM to both processes at once."""
    lost = threading.Event()
    engine = start_engine(ENGINE, timeout_s=60, on_lost=lost.set)
    assert engine.engine_pid is not None
    os.kill(engine.engine_pid, signal.SIGTERM)
    assert lost.wait(10)
    assert engine.close() == 0  # sys.exit(0) from the handler, after closing


def test_the_engine_closes_in_order_when_the_touchscreen_is_killed() -> None:
    """A killed touchscreen closes its end of the pair: the engine closes and exits."""
    program = (
        "import signal\n"
        "from kiosk.engine_link import start_engine\n"
        f"engine = start_engine({ENGINE!r}, timeout_s=60)\n"
        "print(engine.engine_pid, flush=True)\n"
        "signal.pause()\n"
    )
    touchscreen = subprocess.Popen(
        [sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert touchscreen.stdout is not None
    engine_pid = int(touchscreen.stdout.readline())
    touchscreen.kill()
    _out, err = touchscreen.communicate(timeout=30)
    for _ in range(200):  # the engine is not our child: poll for it to go
        if not Path(f"/proc/{engine_pid}").exists():
            break
        time.sleep(0.05)
    else:
        pytest.fail("the engine outlived its touchscreen")
    assert b"engine closed" in err
