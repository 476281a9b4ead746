"""The soak's visitors (benchmarks/soak/fleet.py `Arrivals`): a Poisson process per kiosk
at the asked rate, each kiosk from a moment of its own, so that 200 simulated kiosks do not
push in step (which they did when a shared clock paced them)."""

from __future__ import annotations

import random
import statistics

import pytest

from benchmarks.soak.fleet import Arrivals

RATE = 5.0  # events a kiosk a minute, the soak's default


def _gaps(arrivals: Arrivals, count: int, events_per_action: int) -> list[float]:
    gaps: list[float] = []
    made = 0
    for _ in range(count):
        made += events_per_action
        before = arrivals.next_at
        arrivals.acted(before, made=made)
        gaps.append(arrivals.next_at - before)
    return gaps


def test_actions_come_at_the_rate_that_makes_the_asked_events_a_minute() -> None:
    arrivals = Arrivals(random.Random(1), RATE, started=0.0)
    gaps = _gaps(arrivals, 20_000, events_per_action=4)
    # 4 events an action at 5 events a minute: an action every 48 s on average.
    assert statistics.fmean(gaps) == pytest.approx(48.0, rel=0.03)
    # Exponential gaps: the spread equals the mean (a clock's ticks would have none).
    assert statistics.pstdev(gaps) / statistics.fmean(gaps) == pytest.approx(1.0, rel=0.03)


def test_the_mean_gap_follows_what_this_kiosks_actions_really_make() -> None:
    arrivals = Arrivals(random.Random(2), RATE, started=0.0)
    assert arrivals.events_per_action == Arrivals.FIRST_GUESS_EVENTS_PER_ACTION
    gaps = _gaps(arrivals, 20_000, events_per_action=2)
    assert arrivals.events_per_action == 2.0
    assert statistics.fmean(gaps[1:]) == pytest.approx(24.0, rel=0.03)


def test_kiosks_started_together_act_at_moments_of_their_own() -> None:
    firsts = [Arrivals(random.Random(seed), RATE, started=0.0).next_at for seed in range(200)]
    # In step, all 200 would share one second; spread as a Poisson process, the busiest
    # second holds a handful.
    busiest = max(sum(1 for t in firsts if int(t) == second) for second in range(200))
    assert busiest <= 10
    assert len({round(t, 3) for t in firsts}) == 200


def test_a_kiosk_held_up_goes_on_from_when_it_acted_without_rushing() -> None:
    arrivals = Arrivals(random.Random(3), RATE, started=0.0)
    planned = arrivals.next_at
    arrivals.acted(planned + 600, made=3)  # the action ran ten minutes late
    assert arrivals.next_at > planned + 600
