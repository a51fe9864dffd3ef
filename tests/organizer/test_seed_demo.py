"""The demo data books the theater for its event, idempotently."""

from django.core.management import call_command

from venues.models import VenueBooking, VenueBookingStatus


def test_seed_demo_books_the_theater_once(db, monkeypatch):
    # the 50,000-seat stadium is not needed here: keep the test quick
    from checkin.management.commands import seed_demo

    monkeypatch.setattr(seed_demo, "VENUES", [seed_demo.VENUES[0]])
    monkeypatch.setattr(seed_demo, "EVENTS", [seed_demo.EVENTS[0]])
    call_command("seed_demo")
    call_command("seed_demo")
    booking = VenueBooking.objects.get()
    assert (booking.status, booking.organizer.username, booking.add_ons.count()) == (
        VenueBookingStatus.CONFIRMED, "organizer", 2)


def test_the_demo_organizer_lands_on_a_dashboard_with_the_demo_event(db, monkeypatch, client):
    """Issue 18: what `make run` shows the organizer first."""
    from checkin.management.commands import seed_demo

    monkeypatch.setattr(seed_demo, "VENUES", [seed_demo.VENUES[0]])
    monkeypatch.setattr(seed_demo, "EVENTS", [seed_demo.EVENTS[0]])
    call_command("seed_demo")
    assert client.login(username="organizer", password="evently-demo")
    page = client.get("/admin/").content.decode()
    assert "Your upcoming events" in page and seed_demo.EVENTS[0]["title"] in page
    assert "no door staff assigned" not in page  # the demo's door login scans every demo event
