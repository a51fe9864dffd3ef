"""Seat-map speed on the demo venues: first paint and interaction latency, written to bench/results/seatmap.json.

Opt-in (it builds a 50,000-seat stadium): EVENTLY_PERF=1 make test PYTEST_ARGS="tests/buyer_ui/test_performance.py -s"
Numbers go into docs/performance.md ("Seat map").
"""

from __future__ import annotations

import json
import os
import statistics
import time
import urllib.request
from pathlib import Path

import pytest

from checkin.management.commands.seed_demo import VENUES
from tests.buyer_ui.conftest import artifact_path, make_venue_event

pytestmark = [
    pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("EVENTLY_PERF"), reason="set EVENTLY_PERF=1 to measure the seat map"),
]

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "seatmap.json"
PROFILES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}, "cpu_slowdown": 1},
    "phone (375 px, CPU ×4 slower)": {"viewport": {"width": 375, "height": 740}, "cpu_slowdown": 4},
}

# Times one click until the seat's class changes (hold or release round trip included) and a frame is painted.
CLICK_TO_PAINT_JS = """async (selector) => {
  const node = document.querySelector(selector);
  const before = node.getAttribute('class');
  const start = performance.now();
  node.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  await new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (node.getAttribute('class') === before || node.classList.contains('is-pending')) return;
      observer.disconnect();
      resolve();
    });
    observer.observe(node, {attributes: true, attributeFilter: ['class']});
  });
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
  return performance.now() - start;
}"""

KEY_TO_PAINT_JS = """async () => {
  const start = performance.now();
  document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
  return performance.now() - start;
}"""

OPEN_SECTION_JS = """async (name) => {
  const area = document.querySelector(`.area[data-name="${name}"]`);
  const start = performance.now();
  area.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  while (document.querySelectorAll('#seat-layer .seat').length === 0) await new Promise((r) => setTimeout(r, 5));
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
  return performance.now() - start;
}"""

# What drawing every stadium seat would cost: 50,000 seat groups (circle + mark), as the full map draws them.
ALL_SEATS_JS = """async (count) => {
  const ns = 'http://www.w3.org/2000/svg';
  const layer = document.createElementNS(ns, 'g');
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const g = document.createElementNS(ns, 'g');
    g.setAttribute('class', 'seat is-available'); g.setAttribute('role', 'button'); g.setAttribute('tabindex', '-1');
    g.setAttribute('transform', `translate(${(i % 300) * 10} ${Math.floor(i / 300) * 10})`);
    g.setAttribute('aria-label', `Section 1, row A, seat ${i}, €65, available`);
    const c = document.createElementNS(ns, 'circle'); c.setAttribute('r', '4.5'); c.setAttribute('fill', '#7c3aed');
    g.append(c, document.createElementNS(ns, 'path'));
    layer.append(g);
  }
  document.getElementById('seatmap').append(layer);
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
  return performance.now() - start;
}"""


def demo_events(organizer):
    specs = {spec["template"]: spec for spec in VENUES}
    theater = make_venue_event(
        organizer, template="theater", params=specs["theater"]["params"], title="Hamlet (demo size)",
        categories=[("Orchestra", "#2563eb", "69.00", ["Orchestra"]), ("Mezzanine", "#16a34a", "49.00", ["Mezzanine"]),
                    ("Balcony", "#d97706", "29.00", None)],
    )
    stadium = make_venue_event(organizer, template="stadium", params=specs["stadium"]["params"],
                               title="Final (demo size)", categories=[("All", "#7c3aed", "65.00", None)])
    return theater, stadium


def measure_page(browser, url, profile, *, interactions):
    context = browser.new_context(viewport=profile["viewport"])
    page = context.new_page()
    if profile["cpu_slowdown"] > 1:
        context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": profile["cpu_slowdown"]})
    page.goto(url)
    page.wait_for_selector('#seatmap[data-ready="true"]')
    timing = page.evaluate("""() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
      domContentLoaded: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
      ready: performance.getEntriesByName('seatmap-ready')[0].startTime,
      htmlBytes: performance.getEntriesByType('navigation')[0].transferSize,
      nodes: document.getElementsByTagName('*').length,
    })""")
    page.screenshot(path=str(artifact_path(f"perf-{url.rstrip('/').split('/')[-1]}-{profile['viewport']['width']}.png")))
    timing.update(interactions(page))
    context.close()
    return {key: round(value, 1) if isinstance(value, float) else value for key, value in timing.items()}


def median_of(page, script, arg=None, runs=6):
    return statistics.median(page.evaluate(script, arg) for _ in range(runs))


def test_measure_seat_map_speed(asgi_server, browser, organizer):
    theater, stadium = demo_events(organizer)
    results = {"theater_seats": theater.venue.capacity, "stadium_seats": stadium.venue.capacity, "profiles": {}}
    server_times = {}
    section = stadium.venue.sections.order_by("position").first()
    for name, path in (("theater page", f"/events/{theater.pk}/"), ("stadium page", f"/events/{stadium.pk}/"),
                       ("stadium section layout (1,250 seats)",
                        f"/api/events/{stadium.pk}/sections/{section.pk}/layout"),
                       ("stadium sections summary", f"/api/events/{stadium.pk}/sections"),
                       ("stadium full layout JSON (50,000 seats)", f"/api/events/{stadium.pk}/layout")):
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            with urllib.request.urlopen(asgi_server.url + path) as response:
                size = len(response.read())
            samples.append((time.perf_counter() - start) * 1000)
        server_times[name] = {"ms_median": round(statistics.median(samples), 1), "bytes": size}
    results["server"] = server_times

    def theater_interactions(page):
        selector = '#seatmap .seat.is-available'
        first = page.evaluate(f"document.querySelector('{selector}').dataset.id")
        seat_selector = f'#seatmap .seat[data-id="{first}"]'
        page.focus(seat_selector)
        return {"seat_click_to_paint_ms": median_of(page, CLICK_TO_PAINT_JS, seat_selector),
                "arrow_key_to_paint_ms": median_of(page, KEY_TO_PAINT_JS)}

    def stadium_interactions(page):
        open_ms = page.evaluate(OPEN_SECTION_JS, "101")
        first = page.evaluate("document.querySelector('#seat-layer .seat.is-available').dataset.id")
        seat_selector = f'#seatmap .seat[data-id="{first}"]'
        page.focus(seat_selector)
        return {"section_open_to_paint_ms": open_ms,
                "seat_click_to_paint_ms": median_of(page, CLICK_TO_PAINT_JS, seat_selector),
                "arrow_key_to_paint_ms": median_of(page, KEY_TO_PAINT_JS),
                "draw_all_50000_seats_ms": page.evaluate(ALL_SEATS_JS, 50000)}

    for profile_name, profile in PROFILES.items():
        results["profiles"][profile_name] = {
            "theater": measure_page(browser, f"{asgi_server.url}/events/{theater.pk}/", profile,
                                    interactions=theater_interactions),
            "stadium": measure_page(browser, f"{asgi_server.url}/events/{stadium.pk}/", profile,
                                    interactions=stadium_interactions),
        }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    assert results["profiles"]["desktop"]["stadium"]["nodes"] < 2000
