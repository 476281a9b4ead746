"""The `[cases]` and `[kiosk]` sections: how the kiosk numbers, times and routes the cases
(complaints, repairs, suggestions, inquiries) reported at it (issue 19).

Every key has a default, so a kiosk.toml written before cases existed still loads.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

#: A station tag is one character that cannot be misread: A–Z but O, or 1–9 (contract).
STATION_TAG = re.compile(r"[A-NP-Z1-9]")
CASE_KINDS = ("complaint", "repair", "suggestion", "inquiry")
DEFAULT_CATEGORIES = (
    "water",
    "electricity",
    "lift",
    "air_conditioning",
    "doors_locks",
    "cleaning",
    "other",
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StationConfig(_Section):
    """`[kiosk]`: what tells this kiosk's numbers from the site's other kiosks'."""

    station: str = "K"

    @field_validator("station")
    @classmethod
    def _one_clear_character(cls, value: str) -> str:
        if not STATION_TAG.fullmatch(value):
            raise ValueError("must be one character, A-Z but O, or 1-9")
        return value


class CasesConfig(_Section):
    """`[cases]`: minutes to the first response by kind (and when urgent), the follow-up
    delay after resolution, the repair categories, the site's units, who is told at once,
    and how long a closed case keeps its reporter's contact and photo."""

    response_minutes: dict[str, int] = Field(
        default_factory=lambda: {
            "complaint": 120,
            "repair": 240,
            "suggestion": 1440,
            "inquiry": 1440,
        }
    )
    urgent_response_minutes: dict[str, int] = Field(
        default_factory=lambda: {"complaint": 30, "repair": 60, "suggestion": 1440, "inquiry": 240}
    )
    followup_hours: dict[str, int] = Field(default_factory=lambda: dict.fromkeys(CASE_KINDS, 24))
    categories: list[str] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES))
    #: The site's units ("3-1201"); a unit typed that is not here is kept, flagged unknown.
    units: list[str] = Field(default_factory=list)
    #: Apprise URLs (mailto://, ...) of the duty staff told of every new case.
    duty: list[SecretStr] = Field(default_factory=list)
    #: Days after closing that a case's contact details and photo are kept.
    contact_days: int = Field(default=365, ge=1)
    receipt_valid_days: int = Field(default=365, ge=1)

    @field_validator("response_minutes", "urgent_response_minutes", "followup_hours")
    @classmethod
    def _every_kind(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(CASE_KINDS))
        if unknown:
            raise ValueError(
                f"unknown kind(s) {', '.join(unknown)}; kinds: {', '.join(CASE_KINDS)}"
            )
        if any(minutes <= 0 for minutes in value.values()):
            raise ValueError("every time must be positive")
        return value
