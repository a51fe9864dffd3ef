"""How bench/viewers.py decides when a viewer saw a marker hold (pure functions, synthetic observations)."""

import pytest

from bench.viewers import (
    MarkerHold,
    MarkerPlan,
    count_deliveries,
    delivery_report,
    seat_deliveries,
    seat_deliveries_after_answer,
)

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


def test_an_overview_delivery_is_the_first_count_that_reflects_the_windows_jth_quiet_hold():
    holds = [MarkerHold(100, QUIET, 0, 1, started=10.0), MarkerHold(101, QUIET, 0, 2, started=10.6),
             MarkerHold(102, QUIET, 1, 3, started=14.0)]
    # a count from before a hold (49 at 10.5) does not count for the second one; 48 at 11.4 does
    viewer = {"counts": [[9.5, 50], [10.2, 49], [10.5, 49], [11.4, 48], [14.3, 47]]}

    assert count_deliveries(viewer, holds, PLAN) == [pytest.approx(0.2), pytest.approx(0.8), pytest.approx(0.3)]


def test_an_overview_viewer_that_never_sees_the_count_fall_far_enough_missed_the_hold():
    holds = [MarkerHold(100, QUIET, 0, 1, started=10.0), MarkerHold(101, QUIET, 1, 2, started=14.0)]
    viewer = {"counts": [[10.2, 49], [14.3, 49]]}  # 49 is still only the first hold

    assert count_deliveries(viewer, holds, PLAN) == [pytest.approx(0.2), None]


def test_the_quiet_markers_are_never_reused_in_a_window_and_alternate_with_busy_ones():
    plan = MarkerPlan(quiet_section=QUIET, busy_sections=[BUSY], cycles=[[200, 201], [202, 203]], section_of={},
                      quiet_available=50, excluded=frozenset(), quiet_pool=[100, 101, 102, 103, 104, 105])

    assert [plan.cycle(i) for i in range(4)] == [[100, 200, 101, 201], [102, 202, 103, 203], [104, 200, 105, 201],
                                                 [202, 203]]


def test_a_seat_delivery_after_the_hold_answer_subtracts_the_answer_time():
    holds = [MarkerHold(100, QUIET, 0, 1, started=10.0, answered=10.2)]
    viewer = {"kind": "event", "arrivals": [[100, "held", 10.25]]}

    assert seat_deliveries_after_answer(viewer, holds) == [pytest.approx(0.05)]


def test_missed_deliveries_count_the_late_and_the_never_delivered():
    report = delivery_report([0.1, 0.2, 6.0, None])

    assert report["expected"] == 4 and report["not_within_5s"] == 2 and report["never"] == 1
    assert report["count"] == 3
