"""The `[deliveries]` table of kiosk.toml (issue 20): carriers offered, shelves and how one
is chosen, whether a collection takes a signature, and how long a pickup QR is valid
(how long collected parcels keep names is `[retention] parcels_days`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The contract's carriers (/work/briefs/deliveries-contract.md), in the order shown.
DEFAULT_CARRIERS = [
    "sf", "jd", "ems", "zto", "yto", "sto", "yunda", "meituan", "eleme", "dhl", "ups", "fedex",
    "other",
]  # fmt: skip


class DeliveriesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Carrier keys the courier may pick; each key's label is translated (kiosk.ui, notify).
    carriers: list[str] = Field(default_factory=lambda: list(DEFAULT_CARRIERS), min_length=1)
    #: Shelves or lockers, by name. Empty: parcels get no shelf.
    shelves: list[str] = Field(default_factory=lambda: ["A1", "A2", "A3", "B1", "B2", "B3"])
    #: "round_robin": the shelf holding the fewest waiting parcels, in list order on ties;
    #: "by_department": the recipient's department's shelf from `shelf_by_department`, else
    #: round robin.
    shelf_rule: Literal["round_robin", "by_department"] = "round_robin"
    shelf_by_department: dict[str, str] = Field(default_factory=dict)
    #: Ask for a signature on the touchscreen when a parcel is collected.
    signature: bool = False
    #: Days a pickup token (the label's and the message's QR) stays valid.
    pickup_valid_days: int = Field(default=30, ge=1, le=365)

    @field_validator("carriers")
    @classmethod
    def _carrier_keys(cls, value: list[str]) -> list[str]:
        bad = [key for key in value if not key.isascii() or not key.isidentifier()]
        if bad:
            raise ValueError(f"carrier keys are short ASCII words: {', '.join(map(repr, bad))}")
        return value

    @field_validator("shelves")
    @classmethod
    def _shelf_names(cls, value: list[str]) -> list[str]:
        bad = [name for name in value if not name.strip() or len(name) > 32]
        if bad:
            raise ValueError(f"shelf names are 1..32 characters: {', '.join(map(repr, bad))}")
        return value
