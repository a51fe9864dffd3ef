"""Row labels and section names stay readable and on screen when the buyer zooms and pans (issue 17).

Chromium via Playwright against the served ASGI app, desktop 1280 × 900.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.buyer_ui.conftest import artifact_path
from tests.buyer_ui.test_browser import DOCS_IMG, open_event, orchestra_front_row, seat

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

READABLE_PX = 10

# Row labels (the SVG ones beyond each row's ends, and those pinned to the map's edge) and the section
# name (the SVG label under a section, or the chip pinned to the top of the map) that are fully inside
# the map's box, with the size they have on screen.
LABELS_IN_VIEW = """() => {
  const svg = document.getElementById("seatmap");
  const box = svg.getBoundingClientRect();
  const scale = svg.getScreenCTM().a;
  const inBox = (node) => {
    const r = node.getBoundingClientRect();
    return r.width > 0 && r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
  };
  const size = (node) => parseFloat(getComputedStyle(node).fontSize) * (node instanceof SVGElement ? scale : 1);
  const shown = (selector) => [...document.querySelectorAll(selector)]
    .filter((node) => !node.hidden && inBox(node)).map((node) => ({ text: node.textContent, px: size(node) }));
  return { rows: shown(".row-label, .map-pin-row"), sections: shown(".section-label, #map-pin-section") };
}"""


def readable(labels: list[dict]) -> list[str]:
    return [label["text"] for label in labels if label["px"] >= READABLE_PX]


def wait_for_readable_labels(page, section: str) -> dict:
    """Wait a frame or two for the labels to follow the view, then return what is readable on screen."""
    page.wait_for_function(
        f"(() => {{ const seen = ({LABELS_IN_VIEW})();"
        f" return seen.rows.some((r) => r.px >= {READABLE_PX})"
        f" && seen.sections.some((s) => s.px >= {READABLE_PX} && s.text.includes({section!r})); }})()",
        timeout=3000,
    )
    seen = page.evaluate(LABELS_IN_VIEW)
    return {"rows": readable(seen["rows"]), "sections": readable(seen["sections"])}


def test_theater_row_labels_and_section_name_stay_readable_when_zoomed_and_panned(asgi_server, browser,
                                                                                     theater_event):
    # given the theater map, zoomed in with the wheel on the middle of the orchestra's second row
    context, page = open_event(browser, asgi_server, theater_event)
    middle = seat(page, orchestra_front_row(theater_event)[5])
    box = middle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + 12)
    for _ in range(3):
        page.mouse.wheel(0, -500)
    page.wait_for_function("document.getElementById('seatmap').getScreenCTM().a > 4")
    # then a row label of the rows in view and the section name are on screen, at a readable size
    seen = wait_for_readable_labels(page, "Orchestra")
    assert set(seen["rows"]) & {"A", "B", "C", "D"}, seen
    assert any("Orchestra" in text for text in seen["sections"]), seen
    # and both ends of the front row are off screen: the row label shown is pinned to the map's edge
    expect(page.locator(".map-pin-row:not([hidden])").first).to_be_visible()
    expect(page.locator("#map-pin-section")).to_contain_text("Orchestra · rows")
    page.screenshot(path=str(artifact_path("map-labels-zoomed.png")))
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS"):
        page.locator(".seatmap-frame").screenshot(path=str(DOCS_IMG / "zoomed-labels.png"))

    # when the buyer drags the map sideways and down (towards the seat ends and the back rows)
    before = page.get_attribute("#seatmap", "viewBox")
    page.mouse.down()
    page.mouse.move(box["x"] + 300, box["y"] - 150, steps=8)
    page.mouse.up()
    assert page.get_attribute("#seatmap", "viewBox") != before
    # then row labels and the section name are still on screen and readable
    seen = wait_for_readable_labels(page, "")
    assert seen["rows"], seen
    assert seen["sections"], seen

    # when the whole map is shown again, the pins go (the map's own labels show) and no label is interactive
    page.click("#zoom-fit")
    expect(page.locator("#map-pin-section")).to_be_hidden()
    assert page.locator(".map-pins").get_attribute("aria-hidden") == "true"
    hidden = "[...document.querySelectorAll('.row-label')].every((t) => t.getAttribute('aria-hidden') === 'true')"
    assert page.evaluate(hidden)
    context.close()


def test_a_zoomed_stadium_section_shows_its_row_labels_and_name(asgi_server, browser, stadium_event):
    # given the stadium overview, when the buyer opens section 101
    context, page = open_event(browser, asgi_server, stadium_event)
    page.locator('.area[data-name="101"]').click()
    expect(page.locator("#seat-layer .seat")).to_have_count(500)
    # then its rows carry labels at both ends, and a row label and "101" are readable on screen
    expect(page.locator("#seat-layer .row-label")).to_have_count(40)
    seen = wait_for_readable_labels(page, "101")
    assert seen["rows"], seen
    assert any(text.startswith("101 · row") for text in seen["sections"]), seen
    # when the buyer goes back to all sections, the section's pins go with its seats
    page.click("#back-overview")
    expect(page.locator("#seat-layer .seat")).to_have_count(0)
    expect(page.locator("#map-pin-section")).to_be_hidden()
    expect(page.locator(".map-pin-row:not([hidden])")).to_have_count(0)
    context.close()
