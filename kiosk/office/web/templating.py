"""Jinja2 for the office pages: autoescaped, with gettext calls (`_()`) so the pages can be
translated like the kiosk, and a few filters for times in the site's zone."""

from __future__ import annotations

import gettext
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def local_time(moment: datetime | None, zone: str, pattern: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return "–"
    return moment.astimezone(ZoneInfo(zone)).strftime(pattern)


def duration(seconds: float | None) -> str:
    """42 s, 3 min 5 s, 2 h 10 min."""
    if seconds is None:
        return "–"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(gettext.NullTranslations(), newstyle=True)
    env.filters["duration"] = duration
    env.globals["local_time"] = local_time
    return env


def render_string(env: Environment, template: str, context: dict[str, Any]) -> str:
    return env.get_template(template).render(context)
