"""The value types a visit report is made of, the same in the kiosk's report
(kiosk.services.reports) and the office's (kiosk.office.reporting)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ResponseTimes:
    answered: int = 0
    unanswered: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    within_standard: float | None = None  # share answered within ATTENDED_WITHIN, 0..1


@dataclass
class Satisfaction:
    ratings: int = 0
    average: float | None = None
    distribution: dict[int, int] = field(default_factory=dict)
