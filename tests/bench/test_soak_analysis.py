"""How bench/soak.py reads what wrk wrote and judges the run (pure functions, synthetic observations).

The soak itself runs for minutes (`make soak`); these pieces decide whether it passed, so they are
checked here on made-up logs.
"""

from bench.soak import (
    booking_answer_mismatches,
    booking_answers,
    door_report,
    exit_status,
    lapsed_holds_report,
    memory_report,
    minutes_report,
    operations_report,
    parse_buyers,
    parse_door,
    requests_report,
    viewers_summary,
)

BUYERS_OUT = """# duration_us=60000000 requests=9 timeouts=0 connect_errors=0 read_errors=0 write_errors=0
0,session,200,1500,100,,
0,hold,200,12000,200,,reheld2
0,confirm_ok,201,30000,300,,41
0,cancel,200,90000,400,,41
1,hold_hot,409,9000,150,seats_unavailable,
1,confirm_ok,201,25000,350,,42
1,confirm_declined,402,20000,360,payment_declined,
1,cancel_part,0,15000000,999,no_response,43
1,confirm_ok,201,25000,370,,43
0,cancel,0,0,0,cut_off,44
flow,0,cancel,cancelled
flow,1,ok,paid
flow,1,ok,hold_conflict
flow,1,declined,paid_after_decline
"""

DOOR_OUT = """# duration_us=60000000 requests=6 timeouts=0 connect_errors=0 read_errors=0 write_errors=0
0,new_valid,admit,200,admit,,15000
0,repeat,already_admitted,200,already_admitted,,9000
1,forged,invalid,200,invalid,forged,8000
1,new_cancelled,invalid,200,invalid,refunded,8000
1,new_valid,admit,200,already_admitted,,8000
0,new_valid,admit,0,,no_response,15000000
"""


def test_the_buyers_log_is_read_into_requests_and_flows():
    log = parse_buyers(BUYERS_OUT)

    assert log.summary["duration_us"] == 60_000_000
    assert [r.endpoint for r in log.requests][:4] == ["session", "hold", "confirm_ok", "cancel"]
    assert log.requests[2].ref == "41" and log.requests[2].latency == 0.03
    assert operations_report(log) == {"cancel": {"cancelled": 1}, "declined": {"paid_after_decline": 1},
                                      "ok": {"hold_conflict": 1, "paid": 1}}


def test_holds_of_seats_whose_hold_lapsed_are_counted_by_seat():
    log = parse_buyers(BUYERS_OUT)

    assert lapsed_holds_report(log) == {"holds": 1, "seats": 2, "answered_200": 1, "refused": {}}


def test_requests_are_counted_by_status_with_no_answer_and_5xx_apart():
    report = requests_report({"hold": [(200, 0.01, ""), (409, 0.02, "seats_unavailable"), (0, 15.0, "")],
                              "confirm": [(201, 0.03, ""), (503, 0.5, "unavailable"), (0, 0, "cut_off")]},
                             seconds=10)

    assert report["requests"] == 6 and report["answered"] == 4 and report["per_second"] == 0.4
    assert report["by_status"] == {"0": 2, "200": 1, "201": 1, "409": 1, "503": 1}
    assert report["server_errors_5xx"] == 1 and report["no_response"] == 1 and report["cut_off_at_stop"] == 1
    assert report["endpoints"]["hold"]["errors"] == {"seats_unavailable": 1}
    assert report["endpoints"]["hold"]["latency_ms"]["count"] == 2  # the unanswered one has no latency


def test_a_booking_answered_201_must_be_paid_or_cancelled_as_the_buyer_was_told():
    paid, cancelled, unknown = booking_answers(parse_buyers(BUYERS_OUT))
    # 43's cancel got no answer, 44's was in flight when wrk stopped: either state is right for them
    assert (paid, cancelled, unknown) == ({41, 42, 43}, {41}, {43, 44})

    assert booking_answer_mismatches(paid, cancelled, unknown, {41: "cancelled", 42: "paid", 43: "cancelled"}) == {}
    # a paid booking gone missing, one cancelled behind the buyer's back, one whose cancel did not happen
    assert booking_answer_mismatches(paid, cancelled, unknown, {41: "paid", 43: "paid"}) == {41: "paid", 42: "missing"}
    assert booking_answer_mismatches({42}, set(), set(), {42: "cancelled"}) == {42: "cancelled"}


def test_door_answers_are_checked_against_what_each_scan_expected():
    summary, scans = parse_door(DOOR_OUT)
    report = door_report(scans)

    assert summary["requests"] == 6 and report["scans"] == 6 and report["answered"] == 5
    assert report["by_kind"]["forged"] == {"invalid:forged": 1}
    assert report["by_kind"]["new_cancelled"] == {"invalid:refunded": 1}
    # a new valid ticket that was already admitted: someone else used it first — a wrong verdict
    assert report["unexpected"] == {"new_valid → already_admitted": 1}
    assert report["admitted"] == 1


def test_a_forged_ticket_refused_for_another_reason_is_unexpected():
    _, scans = parse_door("# duration_us=1\n0,forged,invalid,200,invalid,unknown_ticket,1000\n")

    assert door_report(scans)["unexpected"] == {"forged → invalid:unknown_ticket": 1}


def _samples(series: list[tuple[float, int, int]], processes=lambda i: 2) -> list[dict]:
    return [{"t": t, "groups": {"web": {"rss_kb": rss * 1024, "anon_kb": anon * 1024, "processes": processes(i)}}}
            for i, (t, rss, anon) in enumerate(series)]


def test_memory_that_levels_off_after_start_up_is_flat():
    samples = _samples([(0, 200, 100), (30, 260, 150)] + [(60 + 10 * i, 265, 152 + i % 3) for i in range(20)])

    web = memory_report(samples)["web"]

    assert web["rss_mb"] == {"start": 200.0, "end": 265.0, "max": 265.0}
    assert web["flat"] is True


def test_memory_that_keeps_growing_is_not_flat():
    samples = _samples([(60 + 10 * i, 300 + 5 * i, 150 + 5 * i) for i in range(40)])

    web = memory_report(samples)["web"]

    assert web["flat"] is False and web["settled_anon_growth_mb"] > web["allowed_growth_mb"]


def test_shared_pages_filling_up_do_not_count_as_growth():
    # Postgres' RSS grows as shared buffers fill; its private memory does not
    samples = _samples([(60 + 10 * i, 300 + 20 * i, 80) for i in range(40)])

    assert memory_report(samples)["web"]["flat"] is True


def test_viewers_summary_counts_connected_refused_and_closed():
    results = [{"viewers": [
        {"kind": "section", "connected": True, "error": "", "closed": "", "messages": 10, "bytes": 100},
        {"kind": "overview", "connected": True, "error": "", "closed": "1011", "messages": 4, "bytes": 40},
        {"kind": "event", "connected": False, "error": "http_403", "closed": "", "messages": 0, "bytes": 0},
    ]}]

    summary = viewers_summary(results, wanted=3)

    assert summary["connected"] == 2 and summary["failed"] == 1 and summary["errors"] == {"http_403": 1}
    assert summary["closed_by_server"] == {"1011": 1}
    assert summary["messages_per_viewer"] == {"min": 4, "median": 10, "max": 10}


def test_the_exit_status_says_whether_the_audit_failed_or_memory_grew():
    passed, grew = {"passed": True}, {"web": {"flat": False}}

    assert exit_status({"audit": {"passed": False}, "memory": {}}, minutes=10) == 2
    assert exit_status({"audit": passed, "memory": grew}, minutes=10) == 3
    assert exit_status({"audit": passed, "memory": grew}, minutes=1) == 0  # too short to tell
    assert exit_status({"audit": passed, "memory": {"web": {"flat": True}}}, minutes=10) == 0


def test_a_group_that_opens_more_processes_of_the_same_size_is_flat():
    # Postgres starts a backend per new connection: 10 → 30 backends of 4 MB each
    samples = _samples([(60 + 10 * i, 100 + 4 * i, 40 + 4 * i) for i in range(21)], processes=lambda i: 10 + i)

    assert memory_report(samples)["web"]["flat"] is True


def test_answers_are_counted_per_minute_of_the_run():
    log = parse_buyers("# duration_us=1\n0,hold,200,10000,5000000,,\n0,confirm_ok,201,30000,65000000,,7\n"
                       "0,confirm_ok,201,20000,70000000,,8\n0,hold,0,0,0,cut_off,\n")

    minutes = minutes_report(log, started=2.0)

    assert [(m["minute"], m["answered"], m["bookings"]) for m in minutes] == [(1, 1, 0), (2, 2, 2)]
    assert minutes[1]["p99_ms"] == 30.0
