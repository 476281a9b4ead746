"""Every router of the office web, in menu order."""

from __future__ import annotations

from fastapi import APIRouter

from kiosk.office.web import (
    account,
    appointments,
    hosts,
    links,
    onsite,
    reports,
    settings_page,
    users,
    visits,
    watchlist,
)


def routers() -> list[APIRouter]:
    return [
        module.router
        for module in (
            account, onsite, appointments, hosts, watchlist, visits, reports, users,
            settings_page, links,
        )
    ]  # fmt: skip
