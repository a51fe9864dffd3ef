"""The door page, its service worker, the admin report, and the demo door staff."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.management import call_command

from checkin.models import DoorAssignment, DoorSchedule
from tests.checkin.conftest import Door, make_door_staff


def test_checkin_page_asks_anonymous_visitors_to_log_in(client):
    response = client.get("/checkin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/checkin/"


def test_checkin_page_lists_the_door_staffs_events(door, open_event, other_event):
    response = door.get("/checkin/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<option value="{open_event.pk}">' in page
    assert f'<option value="{other_event.pk}">' not in page
    assert "csrftoken" in response.cookies


def test_checkin_page_is_forbidden_to_users_without_events(db):
    response = Door(User.objects.create_user("visitor", password="pw")).get("/checkin/")
    assert response.status_code == 403
    assert "No events to check in" in response.content.decode()


def test_service_worker_is_served_under_checkin_and_caches_the_shell(client):
    response = client.get("/checkin/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript"
    body = response.content.decode()
    assert "'/checkin/'" in body and "checkin/checkin.js" in body and "jsQR-1.4.0.js" in body


def test_admin_report_shows_progress_by_gate_and_conflicts(door, booking, open_event):
    door.scan(booking["tickets"][0]["token"], gate="North")
    door.sync([{"token": booking["tickets"][0]["token"], "nonce": "conflicting-1", "gate": "East",
                "offline": True, "local_result": "admit"}])
    admin = User.objects.create_superuser("root", password="pw")
    client = Door(admin)
    # when
    report = client.get(f"/admin/checkin/scan/report/{open_event.pk}/")
    # then
    assert report.status_code == 200
    page = report.content.decode()
    assert "<strong>1</strong> admitted of <strong>2</strong> expected" in page
    assert "<td>North</td><td>1</td>" in page
    assert "1 conflict" in page
    index = client.get("/admin/checkin/scan/report/")
    assert open_event.title in index.content.decode()
    conflicts = client.get("/admin/checkin/scan/", {"is_conflict__exact": "1"})
    assert conflicts.status_code == 200
    assert conflicts.context["cl"].result_count == 1


def test_admin_report_is_only_for_the_events_organizer(door, open_event):
    stranger = User.objects.create_user("other-org", password="pw", is_staff=True)
    from django.contrib.auth.models import Permission

    stranger.user_permissions.add(Permission.objects.get(codename="view_scan"))
    assert Door(stranger).get(f"/admin/checkin/scan/report/{open_event.pk}/").status_code == 403


def test_seed_demo_makes_door_staff_of_every_demo_event(db, monkeypatch):
    from checkin.management.commands import seed_demo

    # the demo's venues, smaller (the command's own layout is tested elsewhere)
    monkeypatch.setattr(seed_demo, "VENUES", [
        {**venue, "template": "conference", "params": {"rows": 2, "seats_per_block": 2, "blocks": 1}}
        for venue in seed_demo.VENUES])
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # idempotent
    door = User.objects.get(username="door")
    assert DoorAssignment.objects.filter(user=door).count() == len(seed_demo.EVENTS)
    assert DoorSchedule.objects.count() == len(seed_demo.EVENTS)
    assert Door(door).get("/api/checkin/events").json()["results"].__len__() == len(seed_demo.EVENTS)


def test_door_staff_assigned_by_venue_see_its_events(open_event, other_event):
    staff = make_door_staff("venue-door", venue=open_event.venue)
    assert [e["id"] for e in Door(staff).get("/api/checkin/events").json()["results"]] == [open_event.pk]


def test_organizers_see_and_assign_door_staff_only_for_their_own_events(door_user, open_event):
    from django.contrib.auth.models import Permission

    other = User.objects.create_user("other-organizer", password="pw", is_staff=True)
    other.user_permissions.add(*Permission.objects.filter(codename__in=["view_doorassignment", "add_doorassignment"]))
    client = Door(other)
    assert client.get("/admin/checkin/doorassignment/").context["cl"].result_count == 0
    form = client.get("/admin/checkin/doorassignment/add/").context["adminform"].form
    assert list(form.fields["event"].queryset) == []


def test_web_manifest_makes_the_page_installable(client):
    import json

    manifest = json.loads(client.get("/checkin/manifest.webmanifest").content)
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/checkin/", "/checkin/", "standalone")
    assert manifest["icons"][0]["src"] == "/static/checkin/icon.svg"
