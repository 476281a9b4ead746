"""The duty staff told of a new case at once (issue 19), through the real notifier and a
real SMTP server (aiosmtpd): number, kind, place, urgency and due time, in the site's
language; never the reporter's phone. With no duty list, reception is told."""

from __future__ import annotations

import pytest
from local_servers import Mailbox, text_of
from notify_support import LINK_BASE

from kiosk.app import Kiosk, build_case_desk, build_notifier
from kiosk.services.cases.form import CaseReport, Place, Reporter


@pytest.fixture
def config_extra(smtp: Mailbox) -> str:
    return f"""
[notifications]
reception = ["{smtp.url("reception@tower.test")}"]
security = []
vip = []
escalation_seconds = 60
language = "en"

[cases]
duty = ["{smtp.url("duty@tower.test")}", "{smtp.url("repairs@tower.test")}"]
"""


def open_urgent_repair(kiosk: Kiosk) -> str:
    opened = build_case_desk(kiosk).open(
        CaseReport(
            submission_key="form-7",
            kind="repair",
            urgency="urgent",
            category="lift",
            description="Lift B stops between floors.",
            place=Place("2", "1", "", "lift lobby"),
            reporter=Reporter("Zhang San", "2-0301", "13912345678"),
        )
    )
    return opened.number


def test_the_duty_list_gets_the_number_kind_place_urgency_and_due_time(
    kiosk: Kiosk, smtp: Mailbox
) -> None:
    number = open_urgent_repair(kiosk)
    report = build_notifier(kiosk, link_base_url=LINK_BASE).tick()
    assert report.planned == 2
    (duty,) = smtp.to("duty@tower.test")
    assert len(smtp.to("repairs@tower.test")) == 1 and smtp.to("reception@tower.test") == []
    body = text_of(duty)
    assert number in duty["Subject"] and "Repair request" in duty["Subject"]
    assert "URGENT" in body and "Category: lift" in body and "2 1 lift lobby" in body
    assert "Please respond by 11:00." in body  # opened 10:00 site time, urgent repair: 1 h
    assert "13912345678" not in body and "Zhang San" not in body
    assert build_notifier(kiosk, link_base_url=LINK_BASE).tick().planned == 0  # told once


def test_the_notice_is_in_the_sites_language(kiosk: Kiosk, smtp: Mailbox) -> None:
    number = open_urgent_repair(kiosk)
    build_notifier(kiosk, link_base_url=LINK_BASE, language="zh_Hans").tick()
    body = text_of(smtp.to("duty@tower.test")[0])
    assert number in body and "报修" in body and "紧急" in body and "11:00" in body
