"""The nightly purge finds its rows through indexes of what is still due (issue 21).

On a real SQLite file: the query plans of the purge's statements never scan the tables a
kiosk keeps for years (visits, visitors, signatures, appointments) nor the photos, and the
rows each index holds are the ones not purged yet, so the index stays the size of the
retention window."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from kiosk.app import Kiosk
from kiosk.domain.clock import ManualClock
from kiosk.services.checkin import Collected, VisitorDetails, WalkIn
from kiosk.services.retention import purge

JPEG = b"\xff\xd8\xff\xe0 a jpeg"
PNG = b"\x89PNG\r\n\x1a\n signature"
KEPT_FOR_YEARS = ("visit", "visitor", "agreement_signature", "appointment", "visit_photo")


def _visit(kiosk: Kiosk, host: str, name: str) -> str:
    walk_in = WalkIn(VisitorDetails(name, company="Acme"), host, visitor_type="contractor")
    result = kiosk.engine.check_in_walk_in(
        walk_in, Collected(photo_jpeg=JPEG, agreement_accepted=True, signature_png=PNG)
    )
    assert result.visit_ref
    kiosk.engine.decide_approval(result.visit_ref, True)
    kiosk.engine.check_out(result.visit_ref)
    kiosk.engine.rate_visit(result.visit_ref, 4, "fine")
    return result.visit_ref


def _purge_statements(kiosk: Kiosk) -> list[str]:
    connection: sqlite3.Connection = kiosk.db.connection()
    seen: list[str] = []
    connection.set_trace_callback(seen.append)
    try:
        purge(kiosk.db, kiosk.config.retention, kiosk.clock)
    finally:
        connection.set_trace_callback(None)
    return [s for s in seen if s.lstrip().upper().startswith(("UPDATE", "DELETE", "SELECT"))]


def _index_rows(kiosk: Kiosk, index: str) -> int:
    """The entries the index holds, as its own pages say (SQLite's dbstat)."""
    row = kiosk.db.execute_sql(
        "SELECT COALESCE(SUM(ncell), 0) FROM dbstat WHERE name = ? AND pagetype = 'leaf'", (index,)
    ).fetchone()
    return int(row[0])


def test_the_purge_never_scans_what_a_kiosk_keeps(
    kiosk: Kiosk, hosts: dict[str, str], clock: ManualClock
) -> None:
    for n in range(3):
        _visit(kiosk, hosts["Maria Schmidt"], f"Visitor {n}")
    clock.advance(timedelta(days=4 * 365))
    statements = _purge_statements(kiosk)
    assert any('"visit_photo"' in s for s in statements)
    scans = []
    for statement in statements:
        for row in kiosk.db.execute_sql(f"EXPLAIN QUERY PLAN {statement}").fetchall():
            detail = str(row[-1])
            scans += [detail for table in KEPT_FOR_YEARS if detail in (f"SCAN {table}",)]
            scans += [detail for table in KEPT_FOR_YEARS if detail.startswith(f"SCAN {table} ")]
    assert scans == []


def test_the_indexes_hold_only_what_is_still_due(
    kiosk: Kiosk, hosts: dict[str, str], clock: ManualClock
) -> None:
    for n in range(3):
        _visit(kiosk, hosts["Maria Schmidt"], f"Visitor {n}")
    due = {
        "visitor_not_anonymised": 3,
        "visit_typed_text_updated_at": 3,
        "agreement_signature_kept_signed_at": 3,
        "visit_photo_taken_at": 3,
    }
    assert {index: _index_rows(kiosk, index) for index in due} == due
    clock.advance(timedelta(days=4 * 365))
    report = purge(kiosk.db, kiosk.config.retention, kiosk.clock)
    assert (report.visitors_anonymised, report.photos_deleted, report.signatures_blanked) == (
        3,
        3,
        3,
    )
    assert {index: _index_rows(kiosk, index) for index in due} == dict.fromkeys(due, 0)
    # A visit of today is in them again, and a purge now leaves it alone.
    _visit(kiosk, hosts["Maria Schmidt"], "Visitor today")
    assert purge(kiosk.db, kiosk.config.retention, kiosk.clock).visitors_anonymised == 0
    assert _index_rows(kiosk, "visitor_not_anonymised") == 1
