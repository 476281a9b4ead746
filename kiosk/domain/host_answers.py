"""`HostAnswers`: what a host's answer to a visitor does, as the parts that only relay the
answer see it.

A host answers through a signed link (kiosk.notify.notifier redeems it) or at the office
(kiosk.sync.apply pulls it from the change feed); either hands the answer to the kiosk's
check-in engine, which is the one thing that records it. They need only these two methods,
not the whole engine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class HostAnswers(Protocol):
    """Record a host's answer: "on my way" (acknowledge) or a walk-in approved or denied."""

    def acknowledge(self, visit_ref: str, *, by: str = ..., at: datetime | None = ...) -> float:
        """The host answered; the response time in seconds. `at`: when, if elsewhere."""
        ...

    def decide_approval(
        self, visit_ref: str, approved: bool, *, by: str = ..., at: datetime | None = ...
    ) -> object:
        """The host approved (a badge is issued) or denied a walk-in."""
        ...
