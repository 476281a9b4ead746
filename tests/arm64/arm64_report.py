"""The step-by-step report of `make test-arm64`: each step's time and outcome, printed at the
end of the run (conftest.py) and kept in build/arm64/report.txt, the figures the issue asks for."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPORT = Path(__file__).resolve().parents[2] / "build" / "arm64" / "report.txt"


@dataclass
class StepReport:
    """Steps in the order they ran: (name, seconds, outcome and a short note)."""

    steps: list[tuple[str, float, str]] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        """Time the block; what it appends to the yielded list is the step's note."""
        notes: list[str] = []
        start = time.monotonic()
        try:
            yield notes
        except BaseException as error:
            self.add(name, time.monotonic() - start, f"FAILED {type(error).__name__}", notes)
            raise
        self.add(name, time.monotonic() - start, "ok", notes)

    def add(self, name: str, seconds: float, outcome: str, notes: list[str]) -> None:
        self.steps.append((name, seconds, "; ".join([outcome, *notes])))
        self.write()

    def lines(self) -> list[str]:
        total = sum(seconds for _, seconds, _ in self.steps)
        rows = [f"{seconds:8.1f} s  {name}: {outcome}" for name, seconds, outcome in self.steps]
        return [*rows, f"{total:8.1f} s  in all ({total / 60:.1f} min)"]

    def write(self) -> None:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text("\n".join(self.lines()) + "\n", encoding="utf-8")
