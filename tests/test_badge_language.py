"""The engine gives the badge the visitor's language, or the one the site forces."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from kiosk.app import Kiosk
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn


def _visit(kiosk: Kiosk, hosts: dict[str, str]) -> str:
    photo = io.BytesIO()
    Image.new("RGB", (64, 64), "grey").save(photo, "JPEG")
    walk_in = WalkIn(VisitorDetails("张伟", company="Acme"), hosts["Maria Schmidt"])
    done = kiosk.engine.check_in_walk_in(walk_in, Collected(photo_jpeg=photo.getvalue()))
    return str(done.visit_ref)


def test_the_badge_follows_the_visitor(kiosk: Kiosk, hosts: dict[str, str]) -> None:
    visit = _visit(kiosk, hosts)
    assert kiosk.engine.badge_content(visit, "zh_Hant").language == "zh_Hant"
    assert kiosk.engine.badge_content(visit, "en").language == "en"
    default = kiosk.config.site.default_language
    assert kiosk.engine.badge_content(visit).language == default


@pytest.mark.parametrize("config_extra", ['badge_language = "en"\n'])
def test_the_site_can_force_one_language(kiosk: Kiosk, hosts: dict[str, str]) -> None:
    visit = _visit(kiosk, hosts)
    assert kiosk.engine.badge_content(visit, "zh_Hans").language == "en"
