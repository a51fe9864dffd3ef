"""Vouchers in the admin (issue 18): an organizer creates discount codes for their own events (in a
list of their own and on the event's page), in the venue's time, for that event's categories only,
and sees each code's use on the report and on the bookings; another organizer's are out of reach."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from events.models import SeatCategory
from tests.conftest import Buyer, make_event
from tests.organizer.conftest import login
from tests.sales.conftest import buy
from ticketing.models import EventSeat, Voucher, VoucherKind

ADD_URL = reverse("admin:ticketing_voucher_add")


@pytest.fixture
def show(organizer):
    event = make_event(organizer, title="Org Show")
    event.venue.timezone = "Europe/Berlin"
    event.venue.save()
    return event


def voucher_form(event, **fields) -> dict:
    return {"event": event.pk, "code": "summer-24", "kind": VoucherKind.PERCENT, "value": "20",
            "quota": "", "valid_from_0": "", "valid_from_1": "", "valid_until_0": "2030-12-01",
            "valid_until_1": "20:00", "is_active": "on", "note": "Newsletter", **fields}


@pytest.mark.django_db
def test_organizer_creates_a_voucher_in_venue_time_with_one_spelling_of_its_code(organizer, show):
    standard = show.categories.get()

    answer = login(organizer).post(ADD_URL, voucher_form(show, categories=[standard.pk]))

    assert answer.status_code == 302, answer.context["adminform"].form.errors if answer.context else answer
    created = Voucher.objects.get(event=show)
    assert created.code == "SUMMER-24"
    assert created.valid_until == datetime(2030, 12, 1, 19, 0, tzinfo=UTC)  # 20:00 in Berlin, winter
    assert list(created.categories.all()) == [standard]


@pytest.mark.django_db
def test_the_form_refuses_what_the_sale_could_not_honour(organizer, show):
    other_event = make_event(organizer, title="Other")
    Voucher.objects.create(event=show, code="TAKEN", value=Decimal("10"))
    client = login(organizer)

    cases = {
        "categories": voucher_form(show, categories=[other_event.categories.get().pk]),
        "value": voucher_form(show, value="150"),
        "code": voucher_form(show, code="TAKEN"),
        "valid_until": voucher_form(show, valid_from_0="2030-12-02", valid_from_1="10:00"),
    }
    for field, data in cases.items():
        answer = client.post(ADD_URL, data)
        assert answer.status_code == 200, field
        assert field in answer.context["adminform"].form.errors, field
    bad_code = client.post(ADD_URL, voucher_form(show, code="no spaces!"))
    assert "code" in bad_code.context["adminform"].form.errors
    assert Voucher.objects.filter(event=show).count() == 1


@pytest.mark.django_db
def test_a_quota_cannot_drop_below_the_uses_already_made(organizer, show):
    voucher = Voucher.objects.create(event=show, code="USED", value=Decimal("10"), quota=5)
    Voucher.objects.filter(pk=voucher.pk).update(used=3)

    answer = login(organizer).post(reverse("admin:ticketing_voucher_change", args=[voucher.pk]),
                                   {**voucher_form(show, code="USED", quota="2"), "event": show.pk})

    assert "quota" in answer.context["adminform"].form.errors
    voucher.refresh_from_db()
    assert voucher.quota == 5


@pytest.mark.django_db
def test_another_organizers_vouchers_and_events_are_out_of_reach(organizer, rival, show):
    rivals_event = make_event(rival, title="Rival Show")
    rivals_voucher = Voucher.objects.create(event=rivals_event, code="RIVAL", value=Decimal("10"))
    Voucher.objects.create(event=show, code="MINE", value=Decimal("10"))
    client = login(organizer)

    listing = client.get(reverse("admin:ticketing_voucher_changelist"))
    change = client.get(reverse("admin:ticketing_voucher_change", args=[rivals_voucher.pk]))
    post_for_rival = client.post(ADD_URL, voucher_form(rivals_event, code="SNEAKY"))

    assert "MINE" in listing.content.decode() and "RIVAL" not in listing.content.decode()
    assert change.status_code in (302, 404)
    assert post_for_rival.status_code == 200 and "event" in post_for_rival.context["adminform"].form.errors
    assert not Voucher.objects.filter(code="SNEAKY").exists()


@pytest.mark.django_db
def test_the_events_page_lists_its_vouchers_with_their_use(organizer, show):
    Voucher.objects.create(event=show, code="PAGE", value=Decimal("10"), quota=100)
    SeatCategory.objects.create(event=show, name="VIP", price=Decimal("90"))

    page = login(organizer).get(reverse("admin:events_event_change", args=[show.pk]))

    html = page.content.decode()
    assert "Vouchers (discount codes)" in html and 'value="PAGE"' in html and "0 of 100" in html
    formset = next(f for f in page.context["inline_admin_formsets"] if f.opts.model is Voucher)
    assert set(formset.formset.form.base_fields["categories"].queryset) == set(show.categories.all())


@pytest.mark.django_db
def test_the_booking_and_the_report_show_the_voucher(organizer, show):
    Voucher.objects.create(event=show, code="SAVE10", kind=VoucherKind.AMOUNT, value=Decimal("10"))
    seat_ids = list(EventSeat.objects.filter(event=show).order_by("id").values_list("id", flat=True))
    booking = buy(Buyer(), show, seat_ids[:2], voucher="SAVE10")
    client = login(organizer)

    booking_page = client.get(reverse("admin:ticketing_booking_change", args=[booking["booking_id"]])).content.decode()
    report = client.get(reverse("admin:events_event_report", args=[show.pk])).content.decode()
    receipt = client.get(reverse("admin:ticketing_booking_receipt", args=[booking["booking_id"]])).content.decode()

    assert "SAVE10" in booking_page and "20.00" in booking_page
    assert "Voucher SAVE10" in receipt and "−20.00" in receipt
    assert 'id="report-vouchers"' in report and "SAVE10" in report and "€20.00" in report and "€60.00" in report
