"""The benchmark harness must not rot: a 3-second sale with 2 buyers against the real server, audited.

Speed is never asserted here (docs/performance.md); only that the harness measures, reports and audits.
"""

import json
import shutil

import pytest

from bench import harness, inventory, sale

SMALL_STADIUM = {"sections_per_side": 1, "end_sections": 1, "rows_per_section": 10, "seats_per_row": 25}


def test_seat_slices_are_disjoint_adjacent_pairs_dealt_round_robin():
    slices = sale.seat_slices(list(range(1, 12)), 2)

    assert slices == [[1, 2, 5, 6, 9, 10], [3, 4, 7, 8]]  # the odd seat out is not sold alone


def test_wrk_output_is_parsed_into_records_per_request():
    text = ("# duration_us=3000000 requests=2 timeouts=0 connect_errors=0 read_errors=0 write_errors=0\n"
            "0,session,200,4100,1000000,\n1,hold,409,12000,1500000,seats_unavailable\n")

    summary, records = sale.parse_wrk_output(text)

    assert summary["duration_us"] == 3_000_000
    assert records[1] == sale.Record(1, "hold", 409, 0.012, 1.5, "seats_unavailable")
    assert sale.endpoint_report(records)["hold"]["409"] == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_short_sale_is_measured_reported_and_audited(asgi_server):
    if not shutil.which("wrk"):
        pytest.skip("wrk is not installed (make test installs it with apt-get when run as root)")
    event = inventory.create_bench_event(venue_params=SMALL_STADIUM)
    groups = harness.app_process_groups(port=asgi_server.port)

    report = sale.sale_benchmark(url=asgi_server.url, event_id=event.pk, buyers=2, seconds=3, warmup=0,
                                 groups=groups)

    assert report["audit"]["passed"], report["audit"]
    assert report["bookings"] > 0 and report["bookings_per_s"] > 0
    for endpoint in ("session", "hold", "confirm"):
        stats = report["endpoints"][endpoint]
        assert stats["5xx"] == 0 and stats["requests"] > 0
        assert {"p50", "p90", "p99"} <= set(stats["latency_ms"])
    assert report["endpoints"]["confirm"]["status"].get("201") == report["bookings"]
    cpu = report["cpu"]["groups"]
    assert cpu["web"]["ms_per_booking"] > 0 and cpu["postgres"]["ms_per_booking"] > 0
    assert cpu["loadgen"]["cpu_s"] > 0
    assert report["audit"]["counts"]["sold_seats"] == 2 * report["audit"]["counts"]["paid_bookings"]
    json.dumps(report)  # what write_result stores
    assert "audit: passed" in sale.summary_text(report)
