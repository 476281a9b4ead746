"""The evacuation roll call prints every row the kiosk's database holds, however odd: an
on-site visit mirrored without its arrival time (as a pulled row was, before sync checked
them), no host, no visitor row, an unreadable stored time, control characters and
runaway names. A missing field is printed as "–"; nothing stops the list."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PIL import Image
from tests_support import MONDAY_10AM, SHANGHAI

from kiosk.app import Kiosk, KioskServices
from kiosk.devices.commands import fonts_for
from kiosk.devices.printers import FakePrinter
from kiosk.devices.render import _roll_call_text, _roll_call_time, render_roll_call
from kiosk.domain.text import MISSING
from kiosk.domain.values import OnSiteEntry, VisitState
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.storage.models import Visit, Visitor, database

PHOTO = Collected(photo_jpeg=b"\xff\xd8\xff\xe0 a jpeg")


def mirror_without_arrival(name: str = "Nora Nulltime", ref: str = "0123456789abcdef") -> str:
    """An on-site visit of another kiosk as a pull wrote it before sync checked changes:
    no arrival time, no host."""
    visitor = Visitor.create(name=name, created_at=MONDAY_10AM)
    Visit.create(
        ref=ref,
        visitor=visitor,
        host=None,
        state=VisitState.CHECKED_IN.value,
        arrived_at=None,
        kiosk_id="kiosk-elsewhere",
        created_at=MONDAY_10AM,
        updated_at=MONDAY_10AM,
    )
    return ref


def entry(name: object = "Ann Lee", arrived: object = MONDAY_10AM, **fields: object) -> OnSiteEntry:
    values: dict[str, object] = {
        "visit_ref": "f" * 16,
        "visitor_name": name,
        "company": "Acme",
        "host_name": "Maria Schmidt",
        "arrived_at": arrived,
        "badge_expires_at": None,
        "state": VisitState.CHECKED_IN,
        "synced": True,
    }
    values.update(fields)
    return OnSiteEntry(**values)  # type: ignore[arg-type]


def test_on_site_lists_a_mirrored_visit_without_its_arrival(kiosk: Kiosk, hosts) -> None:
    ref = mirror_without_arrival()
    [listed] = kiosk.engine.on_site()
    assert (listed.visit_ref, listed.visitor_name, listed.host_name, listed.arrived_at) == (
        ref,
        "Nora Nulltime",
        "",
        None,
    )


def test_the_roll_call_renders_a_row_without_arrival_with_a_dash(
    kiosk: Kiosk, hosts, tmp_path: Path
) -> None:
    kiosk.engine.check_in_walk_in(
        WalkIn(VisitorDetails("Carol White", company="Widgets"), hosts["Maria Schmidt"]), PHOTO
    )
    mirror_without_arrival()
    entries = kiosk.engine.on_site()
    assert len(entries) == 2
    image = render_roll_call(
        entries, "Test Tower", MONDAY_10AM.astimezone(SHANGHAI), 576, fonts_for(None)
    )
    assert image.width == 576 and image.height > 200
    image.save(tmp_path / "roll-call.png")
    assert Image.open(tmp_path / "roll-call.png").size == image.size


def test_the_printed_roll_call_succeeds_with_a_row_without_arrival(kiosk: Kiosk, hosts) -> None:
    mirror_without_arrival()
    printer = FakePrinter()
    services = KioskServices(kiosk, printer=printer)
    try:
        assert services.print_roll_call()
    finally:
        services.close()
    [paper] = printer.papers
    assert paper.width == printer.dot_width


def test_a_visit_whose_visitor_row_is_gone_is_still_on_the_roll_call(kiosk: Kiosk) -> None:
    ref = mirror_without_arrival()
    Visit.update(visitor=None).where(Visit.ref == ref).execute()
    [listed] = kiosk.engine.on_site()
    assert (listed.visit_ref, listed.visitor_name) == (ref, "")


def test_an_unreadable_stored_time_reads_as_unknown(kiosk: Kiosk) -> None:
    ref = mirror_without_arrival()
    # SQLite keeps whatever is written, whatever the column's type.
    database.execute_sql("UPDATE visit SET arrived_at = 'not a time' WHERE ref = ?", (ref,))
    [listed] = kiosk.engine.on_site()
    assert listed.arrived_at is None
    database.execute_sql(
        "UPDATE visit SET arrived_at = ? WHERE ref = ?", (2**62, ref)
    )  # far past year 9999
    assert kiosk.engine.on_site()[0].arrived_at is None


def test_render_roll_call_takes_any_row() -> None:
    odd = [
        entry(arrived=None),
        entry(arrived=datetime(2026, 11, 23, 2, 0)),  # naive: taken as UTC
        entry(name="", company="", host_name=""),
        entry(name=None, company=None, host_name=None),
        entry(name="\x00\x1b[2J\r"),
        entry(name="Eve\x1b]0;owned\x07 \u009b31m Red\ud800"),
        entry(name="Wolfeschlegelsteinhausenbergerdorff " * 20, company="C" * 500),
        entry(arrived="2026-11-23T10:00:00+08:00"),  # the wrong type altogether
    ]
    image = render_roll_call(odd, "Test Tower", MONDAY_10AM, 384, fonts_for(None))
    assert image.width == 384


def test_each_field_of_a_roll_call_row_on_paper() -> None:
    assert _roll_call_text(None) == MISSING == "–"
    assert _roll_call_text("  ") == MISSING
    assert _roll_call_text("\x00\x1b\r") == MISSING
    assert _roll_call_text("Eve\x1b[2J\rX") == "Eve[2JX"
    assert _roll_call_text("A\ud800B") == "A\ufffdB"
    assert _roll_call_time(None, SHANGHAI) == MISSING
    assert _roll_call_time("10:00", SHANGHAI) == MISSING
    assert _roll_call_time(datetime(2026, 11, 23, 2, 0), SHANGHAI) == "10:00"
    assert _roll_call_time(MONDAY_10AM, SHANGHAI) == "10:00"
