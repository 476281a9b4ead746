"""The soak's verdict on 5xx answers (benchmarks/soak/figures.py): an answer counts against
the office only when its request, from start to answer, never met a moment the office or
its database was down; a request sent just before PostgreSQL stopped and answered 503
while it was down is the office's right answer (the soak of 7 December counted ten such)."""

from __future__ import annotations

from benchmarks.soak.figures import DOWN_GRACE, server_errors_outside

DOWN = [(100.0, 105.0)]


def row(t: float, ms: float, status: int = 503) -> dict[str, object]:
    return {"t": t, "k": "kiosk-001", "op": "pull", "ms": ms, "status": status}


def test_a_request_sent_before_the_stop_and_answered_during_it_is_not_held_against_it() -> None:
    assert server_errors_outside([row(99.2, 900.0)], DOWN) == []


def test_requests_during_the_outage_and_its_grace_are_not_held_against_it() -> None:
    assert server_errors_outside([row(102.0, 5.0), row(105.0 + DOWN_GRACE, 5.0)], DOWN) == []


def test_a_5xx_clear_of_every_outage_is_counted_and_other_statuses_are_not() -> None:
    clear = [row(50.0, 10.0), row(99.0, 500.0), row(105.0 + DOWN_GRACE + 1, 5.0, 500)]
    fine = [row(50.0, 10.0, 200), row(60.0, 10.0, 429)]
    assert [r["t"] for r in server_errors_outside(clear + fine, DOWN)] == [
        50.0,
        99.0,
        105.0 + DOWN_GRACE + 1,
    ]
