"""The arm64 run's report fixture, and its table at the end of the run (arm64_report)."""

from __future__ import annotations

import pytest
from arm64_report import REPORT, StepReport

_REPORT = StepReport()


@pytest.fixture(scope="session")
def report() -> StepReport:
    return _REPORT


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _REPORT.steps:
        terminalreporter.section("arm64 under qemu-user, step by step")
        for line in _REPORT.lines():
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"(kept in {REPORT})")
