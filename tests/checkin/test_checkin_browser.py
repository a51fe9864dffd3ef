"""The door page in Chromium: camera scanning, automatic offline mode, sync and conflicts."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from checkin.models import Admission, DoorAssignment, Scan
from tests.checkin.conftest import buy_tickets, doors_open, make_door_staff
from tests.conftest import CHROMIUM, make_event

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed")]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


@pytest.fixture
def door_event(organizer):
    event = make_event(organizer, title="Door Test Night")
    doors_open(event)
    make_door_staff("door-browser", event=event)  # password "pw-door"
    return event


@pytest.fixture
def door_token(door_event):
    seat_ids = list(door_event.seats.order_by("id").values_list("id", flat=True)[:1])
    return buy_tickets(door_event, seat_ids)["tickets"][0]["token"]


def write_qr_video(path: Path, text: str, *, fps=10, qr_frames=10, blank_frames=20, size=(480, 360)) -> Path:
    """A looping Y4M clip for Chromium's fake camera: the QR for `qr_frames`, then a blank view."""
    import qrcode
    from PIL import Image

    width, height = size
    code = qrcode.make(text, box_size=5, border=4).get_image().convert("L")
    frame = Image.new("L", size, 255)
    frame.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    chroma = bytes([128]) * (width // 2 * height // 2 * 2)
    qr_frame = b"FRAME\n" + frame.tobytes() + chroma
    blank = b"FRAME\n" + bytes([235]) * (width * height) + chroma
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(qr_frames):
            out.write(qr_frame)
        for _ in range(blank_frames):
            out.write(blank)
    return path


def log_in(context, base_url, username="door-browser", password="pw-door"):
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/?next=/checkin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/checkin/")
    page.wait_for_selector("body[data-ready='1']", timeout=15000)
    return page


def wait_verdict(page, result, timeout=15000):
    page.wait_for_selector(f"#verdict[data-result='{result}']:not([hidden])", state="attached", timeout=timeout)
    return page.inner_text("#verdict")


def enter_code(page, token):
    page.fill("#code", token)
    page.click("#manual button[type=submit]")


def test_camera_scan_admits_then_shows_already_admitted(asgi_server, browser, door_event, door_token, tmp_path):
    video = write_qr_video(tmp_path / "ticket.y4m", door_token)
    # a second Chromium from the same Playwright session, with a fake camera filming the ticket's QR
    camera_browser = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        page = log_in(camera_browser.new_context(**PHONE), asgi_server.url)
        # when the camera sees the ticket's QR
        page.click("#camera-toggle")
        # then the screen says ADMIT with the holder, and when it is shown again, ALREADY ADMITTED
        admitted = wait_verdict(page, "admit")
        assert "ADMIT" in admitted and "Ada Lovelace" in admitted
        again = wait_verdict(page, "already_admitted")
        assert "ALREADY ADMITTED" in again and "First scanned at" in again
        assert page.inner_text("[data-testid=admitted]") == "1"
    finally:
        camera_browser.close()
    assert Admission.objects.count() == 1
    assert list(Scan.objects.order_by("id").values_list("result", flat=True))[:2] == ["admit", "already_admitted"]


def test_offline_scan_is_queued_then_synced(asgi_server, browser, door_event, door_token):
    context = browser.new_context(**PHONE)
    try:
        page = log_in(context, asgi_server.url)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        # when the network drops and a ticket is scanned
        context.set_offline(True)
        enter_code(page, door_token)
        # then it is admitted offline, and waits in the queue
        assert "ADMIT (offline)" in wait_verdict(page, "admit")
        assert page.inner_text("[data-testid=network]") == "OFFLINE"
        assert page.inner_text("[data-testid=queue]") == "1"
        assert Admission.objects.count() == 0
        # and the app shell still opens with no network (service worker + IndexedDB)
        page.reload()
        page.wait_for_selector("body[data-ready='1']", timeout=15000)
        assert page.inner_text("[data-testid=queue]") == "1"
        # when the network is back, then the queue syncs by itself
        context.set_offline(False)
        page.wait_for_function("document.querySelector('[data-testid=queue]').textContent === '0'", timeout=20000)
        assert page.inner_text("[data-testid=network]") == "ONLINE"
    finally:
        context.close()
    admission = Admission.objects.get()
    assert admission.is_offline is True
    scan = Scan.objects.get()
    assert (scan.result, scan.is_offline, scan.local_result, scan.is_conflict) == ("admit", True, "admit", False)


def test_two_offline_devices_admitting_one_ticket_show_a_conflict(asgi_server, browser, door_event, door_token):
    first_device, second_device = browser.new_context(**PHONE), browser.new_context(**PHONE)
    try:
        first, second = log_in(first_device, asgi_server.url), log_in(second_device, asgi_server.url)
        # given both devices offline, each admitting the same ticket
        for context, page in ((first_device, first), (second_device, second)):
            context.set_offline(True)
            enter_code(page, door_token)
            wait_verdict(page, "admit")
        # when both come back online, one after the other
        first_device.set_offline(False)
        first.wait_for_function("document.querySelector('[data-testid=queue]').textContent === '0'", timeout=20000)
        second_device.set_offline(False)
        second.wait_for_function("document.querySelector('[data-testid=queue]').textContent === '0'",
                                 timeout=20000)
        # then the second device shows the conflict
        second.wait_for_selector("#conflicts:not([hidden])", timeout=10000)
        assert second.inner_text("[data-testid=conflict-count]") == "1"
    finally:
        first_device.close()
        second_device.close()
    assert Admission.objects.count() == 1
    assert Scan.objects.filter(is_conflict=True).count() == 1


def test_offline_device_refuses_forged_and_already_admitted_tickets_locally(asgi_server, browser, door_event,
                                                                             door_token):
    from ticketing.tokens import keypair_generate, token_claims_unverified, token_sign

    forged = token_sign(token_claims_unverified(door_token), keypair_generate()[0])
    context = browser.new_context(**PHONE)
    try:
        page = log_in(context, asgi_server.url)
        enter_code(page, door_token)
        wait_verdict(page, "admit")
        page.wait_for_selector("#verdict.compact", state="attached")  # off the full screen (issue 18)
        # when the network drops
        context.set_offline(True)
        # then the signature is checked on the device (WebCrypto Ed25519 against the manifest's key)
        enter_code(page, forged)
        assert "The signature is not this event's" in wait_verdict(page, "invalid")
        page.wait_for_selector("#verdict.compact", state="attached")  # off the full screen (issue 18)
        # and a ticket this device admitted is already admitted, offline too
        enter_code(page, door_token)
        assert "ALREADY ADMITTED (offline)" in wait_verdict(page, "already_admitted")
        assert page.inner_text("[data-testid=queue]") == "2"
        assert page.evaluate("window.eventlyCheckin.state.manifest.publicKeys !== null") is True
    finally:
        context.close()


def test_offline_device_knows_rotated_keys_and_logging_out_wipes_it(asgi_server, browser, door_event, door_token):
    """Issue 12: a ticket signed before a key rotation still verifies offline; logging out syncs the
    queue, then leaves no ticket list, queue or admissions on the device."""
    from ticketing.services import event_signing_key_rotate

    event_signing_key_rotate(event_id=door_event.pk)  # door_token was signed with the old key
    context = browser.new_context(**PHONE)
    try:
        page = log_in(context, asgi_server.url)
        assert page.evaluate("window.eventlyCheckin.state.manifest.publicKeys.length") == 2
        context.set_offline(True)
        enter_code(page, door_token)
        assert "ADMIT (offline)" in wait_verdict(page, "admit")
        context.set_offline(False)
        page.click("[data-testid=logout]")
        page.wait_for_url(f"{asgi_server.url}/")
        names = page.evaluate("async () => (await indexedDB.databases()).map((db) => db.name)")
        assert "evently-checkin" not in names
        assert page.evaluate("localStorage.getItem('evently-event')") is None
        assert Scan.objects.filter(is_offline=True, result="admit").count() == 1  # synced before the wipe
    finally:
        context.close()


# --- issue 18, part 4: a verdict that stays, search that knows who is in, the offline list in words ---

# Records every change of the verdict element: [ms since page load, hidden, class].
WATCH_VERDICT = """() => {
  window.verdictMarks = [];
  const verdict = document.getElementById("verdict");
  new MutationObserver(() => window.verdictMarks.push([performance.now(), verdict.hidden, verdict.className]))
    .observe(verdict, { attributes: true });
}"""


def test_a_typed_code_keeps_the_full_screen_verdict_for_2_5_s_then_a_strip_until_the_next_scan(
        asgi_server, browser, door_event, door_token):
    context = browser.new_context(**PHONE)
    try:
        page = log_in(context, asgi_server.url)
        page.evaluate(WATCH_VERDICT)
        # when a code is typed
        enter_code(page, door_token)
        wait_verdict(page, "admit")
        # then the full-screen verdict shrinks to the strip no sooner than 2.5 s later
        page.wait_for_selector("#verdict.compact", state="attached", timeout=10000)
        marks = page.evaluate("window.verdictMarks")
        shown = next(at for at, hidden, cls in marks if not hidden and "admit" in cls and "compact" not in cls)
        compact = next(at for at, hidden, cls in marks if "compact" in cls)
        assert compact - shown >= 2450
        # and the strip is still there seconds later (nothing hides it but the next scan)
        page.wait_for_timeout(2000)
        assert page.is_visible("#verdict") and "ADMIT" in page.inner_text("#verdict")
        # when the same code is typed again, then the strip is replaced by the new verdict
        enter_code(page, door_token)
        assert "ALREADY ADMITTED" in wait_verdict(page, "already_admitted")
    finally:
        context.close()


def test_search_shows_already_in_and_forgets_results_when_the_event_changes(
        asgi_server, browser, door_event, door_token, organizer):
    other = make_event(organizer, title="Matinee")
    doors_open(other)
    DoorAssignment.objects.create(user=DoorAssignment.objects.get(event=door_event).user, event=other)
    context = browser.new_context(**PHONE)
    try:
        page = log_in(context, asgi_server.url)
        page.select_option("#event", str(door_event.pk))
        page.wait_for_function(f"window.eventlyCheckin.state.eventId === {door_event.pk}")
        # given a guest found by name is checked in from the search
        page.fill("#query", "Ada")
        page.click("#search button[type=submit]")
        page.click("#results button:has-text('Check in')")
        wait_verdict(page, "admit")
        page.wait_for_selector("#verdict.compact", state="attached", timeout=10000)
        # when the same name is searched again, then the row says "Already in" and offers no button
        page.click("#search button[type=submit]")
        row = page.wait_for_selector("#results li:has-text('Ada Lovelace')")
        assert "Already in" in row.inner_text()
        assert page.locator("#results button").count() == 0
        # when the door switches to another event, then the old results and query are gone
        page.select_option("#event", str(other.pk))
        page.wait_for_function(f"window.eventlyCheckin.state.eventId === {other.pk}")
        assert page.locator("#results li").count() == 0
        assert page.input_value("#query") == ""
        assert page.is_hidden("#verdict")
    finally:
        context.close()


def test_offline_list_status_is_in_plain_words(asgi_server, browser, door_event, door_token):
    buy_tickets(door_event, list(door_event.seats.order_by("id").values_list("id", flat=True)[1:3]))
    context = browser.new_context(**PHONE)
    try:
        page = log_in(context, asgi_server.url)
        page.wait_for_selector("[data-testid=manifest-status][data-state=ready]", state="attached", timeout=15000)
        status = page.inner_text("[data-testid=manifest-status]")
        assert re.fullmatch(r"Offline list ready: 3 tickets, updated just now", status), status
    finally:
        context.close()
