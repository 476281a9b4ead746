"""The demo's people: a small company directory and today's visitors, shared by the kiosk's
demo (kiosk.demo) and the office's (kiosk.office.demo). Plain values: importing them loads
neither the kiosk's storage nor the office's."""

from __future__ import annotations

from kiosk.domain.values import HostAvailability, Purpose, VisitorLevel

HOSTS = [
    # name, e-mail, department, availability, senior, walk-ins need approval, delegate
    ("李娜", "li.na@example.com", "行政部", HostAvailability.IN, False, False, None),
    (
        "王强",
        "wang.qiang@example.com",
        "总经理办公室",
        HostAvailability.IN,
        True,
        True,
        "li.na@example.com",
    ),
    (
        "陳美玲",
        "chen.meiling@example.com",
        "財務部",
        HostAvailability.IN_MEETING,
        False,
        False,
        None,
    ),
    (
        "Maria Schmidt",
        "maria.schmidt@example.com",
        "Engineering",
        HostAvailability.IN,
        False,
        False,
        None,
    ),
    (
        "James O'Connor",
        "james.oconnor@example.com",
        "Sales",
        HostAvailability.OUT,
        False,
        False,
        None,
    ),
    ("张伟", "zhang.wei@example.com", "研发部", HostAvailability.IN, False, False, None),
]

APPOINTMENTS = [
    # visitor, host e-mail, hour offset from now, company, purpose, level, visitor type
    (
        "Zhang Wei",
        "maria.schmidt@example.com",
        0,
        "Acme Robotics",
        Purpose.VISIT_PERSON,
        VisitorLevel.ORDINARY,
        "visitor",
    ),
    (
        "刘洋",
        "li.na@example.com",
        1,
        "华东建设",
        Purpose.REPAIR,
        VisitorLevel.ORDINARY,
        "contractor",
    ),
    (
        "Anna Eriksson",
        "wang.qiang@example.com",
        2,
        "Nordic Partners",
        Purpose.VISIT_PERSON,
        VisitorLevel.VIP,
        "visitor",
    ),
    (
        "黃志明",
        "chen.meiling@example.com",
        -1,
        "",
        Purpose.INTERVIEW,
        VisitorLevel.ORDINARY,
        "interview",
    ),
    (
        "Priya Natarajan",
        "james.oconnor@example.com",
        3,
        "Bluefin Logistics",
        Purpose.DELIVERY,
        VisitorLevel.ORDINARY,
        "delivery",
    ),
]
