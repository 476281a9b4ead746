"""The welcome screen's summary when the services fail: a kiosk error (the engine gone at a
stop, a locked database) is one warning line; anything else keeps its traceback. Under load
`kiosk run`'s stop once printed a traceback: the engine had left before the touchscreen
handled its own SIGTERM, and the next summary refresh found the link closed."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from kiosk.domain.errors import StorageError
from kiosk.engine_link import EngineGone
from kiosk.ui.screens.welcome import WelcomeScreen

pytestmark = pytest.mark.ui


def failing_screen(error: Exception) -> SimpleNamespace:
    def today_summary() -> None:
        raise error

    return SimpleNamespace(
        services=SimpleNamespace(today_summary=today_summary), figures_available=True
    )


@pytest.mark.parametrize(
    "error", [EngineGone("the kiosk engine has stopped"), StorageError("database is locked")]
)
def test_a_kiosk_error_is_one_line(error: Exception, caplog: pytest.LogCaptureFixture) -> None:
    screen = failing_screen(error)
    with caplog.at_level(logging.WARNING, logger="kiosk.ui.screens.welcome"):
        WelcomeScreen.refresh_summary(screen)  # type: ignore[arg-type]
    assert screen.figures_available is False
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert str(error) in record.getMessage()


def test_a_bug_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    screen = failing_screen(RuntimeError("a bug"))
    with caplog.at_level(logging.WARNING, logger="kiosk.ui.screens.welcome"):
        WelcomeScreen.refresh_summary(screen)  # type: ignore[arg-type]
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None
