"""How bench/viewers.py decides when a viewer saw a marker hold (pure functions, synthetic observations)."""

import pytest

from bench.viewers import MarkerHold, MarkerPlan, count_deliveries, delivery_report, seat_deliveries

QUIET, BUSY = 9, 1
PLAN = MarkerPlan(quiet_section=QUIET, busy_sections=[BUSY], cycles=[[100, 200]], section_of={100: QUIET, 200: BUSY},
                  quiet_available=50, excluded=frozenset())


def test_a_seat_stream_delivery_is_the_first_held_change_after_the_hold_started():
    holds = [MarkerHold(100, QUIET, 0, 1, started=10.0), MarkerHold(200, BUSY, 0, None, started=10.3),
             MarkerHold(100, QUIET, 1, 1, started=20.0)]
    viewer = {"kind": "event", "arrivals": [[100, "held", 9.0], [100, "held", 10.25], [200, "available", 10.4],
                                            [100, "held", 20.1]]}

    latencies = seat_deliveries(viewer, holds)

    assert latencies == [pytest.approx(0.25), None, pytest.approx(0.1)]


def test_a_section_viewer_expects_only_the_markers_of_its_section():
    holds = [MarkerHold(100, QUIET, 0, 1, started=10.0), MarkerHold(200, BUSY, 0, None, started=10.3)]
    viewer = {"kind": "section", "section": BUSY, "arrivals": [[200, "held", 10.5]]}

    assert seat_deliveries(viewer, holds) == [pytest.approx(0.2)]


def test_an_overview_delivery_needs_a_count_that_reflects_the_hold_after_a_reset():
    holds = [MarkerHold(100, QUIET, 0, 1, started=10.0), MarkerHold(101, QUIET, 0, 2, started=10.6),
             MarkerHold(100, QUIET, 1, 1, started=14.0)]
    releases = [12.5, 15.0]
    viewer = {"counts": [[10.2, 49], [10.9, 48], [12.8, 50], [14.3, 49]]}

    assert count_deliveries(viewer, holds, releases, PLAN, window_start=9.0) == [
        pytest.approx(0.2), pytest.approx(0.3), pytest.approx(0.3)]


def test_a_stale_count_after_a_release_is_not_taken_for_the_next_hold():
    holds = [MarkerHold(100, QUIET, 0, 1, started=10.0), MarkerHold(100, QUIET, 1, 1, started=14.0)]
    viewer = {"counts": [[10.2, 49], [14.3, 49]]}  # never saw the release: 49 is still the old hold

    assert count_deliveries(viewer, holds, [12.5, 15.0], PLAN, window_start=9.0) == [pytest.approx(0.2), None]


def test_missed_deliveries_count_the_late_and_the_never_delivered():
    report = delivery_report([0.1, 0.2, 6.0, None])

    assert report["expected"] == 4 and report["not_within_5s"] == 2 and report["never"] == 1
    assert report["count"] == 3
