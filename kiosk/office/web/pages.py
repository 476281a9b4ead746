"""Every router of the office web, in menu order."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

# Each module has a `router`. (Modules still being written are skipped until they exist.)
PAGE_MODULES = (
    "account", "onsite", "appointments", "hosts", "watchlist", "visits", "reports", "users",
    "settings_page", "links",
)  # fmt: skip


def routers() -> list[APIRouter]:
    found = []
    for name in PAGE_MODULES:
        try:
            module = importlib.import_module(f"kiosk.office.web.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"kiosk.office.web.{name}":
                raise
            continue
        found.append(module.router)
    return found
