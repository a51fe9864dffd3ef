"""The last steps of the guided event setup (issue 18): door staff, then review and open sale.

Event → seats & categories (ticketing) → **door staff** → **review** → publish / open sale. They
live in the top layer because the review reads every app: the venue booking, the seats and prices,
the cancellation policy and the door staff. Both pages fetch the event through the organizer's
scope, so another organizer's event is a 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, User
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from checkin.models import DoorAssignment
from checkin.selectors import DOOR_STAFF_GROUP
from evently.admin import organizer_scoped
from evently.errors import DomainError
from events.models import Event, EventStatus
from events.services import event_open_sale, event_publish
from ticketing.models import EventSeat
from ticketing.services.cancellation import cancellation_policy_text
from ticketing.services.pricing import categories_current_price
from venues.localtime import venue_time_label
from venues.models import VenueBooking


class DoorStaffForm(forms.Form):
    staff = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False,
                                           widget=forms.CheckboxSelectMultiple, label="Door staff for this event")
    new_username = forms.CharField(max_length=150, required=False, label="Or create a door login: user name")
    new_password = forms.CharField(max_length=128, required=False, widget=forms.PasswordInput,
                                   label="Its password", help_text="At least 10 characters. A door login sees "
                                   "only the check-in page of the events it is assigned to.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = User.objects.filter(groups__name=DOOR_STAFF_GROUP, is_active=True) \
            .order_by("username")

    def clean(self):
        cleaned = super().clean()
        username, password = cleaned.get("new_username", "").strip(), cleaned.get("new_password", "")
        if username or password:
            if not (username and password):
                raise forms.ValidationError("A new door login needs both a user name and a password.")
            try:
                UnicodeUsernameValidator()(username)
            except ValidationError as error:
                self.add_error("new_username", error)
            if len(password) < 10:
                self.add_error("new_password", "Use at least 10 characters.")
            else:
                try:  # the project's password rules, as for any other account
                    password_validation.validate_password(password, User(username=username))
                except ValidationError as error:
                    self.add_error("new_password", error)
            if User.objects.filter(username__iexact=username).exists():
                self.add_error("new_username", "That user name is taken.")
        cleaned["new_username"] = username
        return cleaned


def setup_event(request, event_id: int, *, change_permission: str | None) -> Event:
    """The organizer's own event (404 otherwise); PermissionDenied without `change_permission`, if given."""
    event = organizer_scoped(request, Event.objects.select_related("venue"), "organizer").filter(pk=event_id).first()
    if event is None:
        raise Http404("No such event.")
    if change_permission and not request.user.has_perm(change_permission):
        raise PermissionDenied
    return event


def door_staff_view(model_admin, request, event_id: int):
    """Step 4: who scans tickets at the door (assign existing door logins, or create one)."""
    event = setup_event(request, event_id, change_permission="checkin.add_doorassignment"
                        if request.method == "POST" else None)
    assigned = set(DoorAssignment.objects.filter(event=event).values_list("user_id", flat=True))
    venue_wide = list(DoorAssignment.objects.filter(venue=event.venue).select_related("user"))
    form = DoorStaffForm(request.POST or None, initial={"staff": list(assigned)})
    if request.method == "POST" and form.is_valid():
        chosen = {user.pk for user in form.cleaned_data["staff"]}
        with transaction.atomic():
            if form.cleaned_data["new_username"]:
                user = User.objects.create_user(form.cleaned_data["new_username"],
                                                password=form.cleaned_data["new_password"])
                user.groups.add(Group.objects.get_or_create(name=DOOR_STAFF_GROUP)[0])
                chosen.add(user.pk)
            DoorAssignment.objects.filter(event=event).exclude(user_id__in=chosen).delete()
            for user_id in sorted(chosen - assigned):
                DoorAssignment.objects.create(user_id=user_id, event=event)
        messages.success(request, f"{len(chosen)} door login(s) assigned to {event.title}.")
        return redirect("admin:checkin_event_review", event.pk)
    return TemplateResponse(request, "admin/checkin/setup_door_staff.html", {
        **model_admin.admin_site.each_context(request), "opts": Event._meta, "event": event, "original": event,
        "title": f"Door staff for {event.title}", "form": form, "venue_wide": venue_wide, "step": 4,
    })


def review_view(model_admin, request, event_id: int):
    """Step 5: everything about the event on one page, then publish or open the sale."""
    event = setup_event(request, event_id, change_permission="events.change_event"
                        if request.method == "POST" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "publish":
                event_publish(event_id=event.pk)
                messages.success(request, f"{event.title} is published.")
            elif action == "open_sale":
                event_open_sale(event_id=event.pk)
                messages.success(request, f"{event.title} is on sale now.")
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("admin:checkin_event_review", event.pk)
    categories = list(event.categories.order_by("position", "id"))
    prices = categories_current_price(categories)
    seats = EventSeat.objects.filter(event=event).aggregate(total=Count("id"), blocked=Count("id", filter=Q(
        status="blocked")))
    booking = VenueBooking.objects.filter(event=event).exclude(status__in=["cancelled", "expired"]).first()
    door = (DoorAssignment.objects.filter(event=event).count()
            + DoorAssignment.objects.filter(venue=event.venue).count())
    booked = (f"{venue_time_label(booking.blocked_from, event.venue)} → "
              f"{venue_time_label(booking.blocked_until, event.venue)} ({booking.get_status_display().lower()})"
              if booking else "No venue booking for this event.")
    checks = [
        ("Venue booked", booking is not None, booked),
        ("Seats created", bool(seats["total"]), f"{seats['total']:,} seats, {seats['blocked']:,} blocked"),
        ("Prices", bool(categories), ", ".join(
            f"{c.name} {prices[c.pk]['price']}" + (f" ({prices[c.pk]['tier']['name']})" if prices[c.pk]["tier"] else "")
            for c in categories) or "No categories."),
        ("Door staff", door > 0, f"{door} door login(s)" if door else "Nobody can scan tickets yet."),
    ]
    return TemplateResponse(request, "admin/checkin/setup_review.html", {
        **model_admin.admin_site.each_context(request), "opts": Event._meta, "event": event, "original": event,
        "title": f"Review: {event.title}", "checks": checks, "policy": cancellation_policy_text(event),
        "starts_at": venue_time_label(event.starts_at, event.venue, "%a %d %b %Y, %H:%M"),
        "ends_at": venue_time_label(event.ends_at, event.venue, "%a %d %b %Y, %H:%M"),
        "sales_open": venue_time_label(event.sales_open_at, event.venue, empty="when the sale is opened"),
        "is_draft": event.status == EventStatus.DRAFT,
        "can_open": event.status in (EventStatus.DRAFT, EventStatus.PUBLISHED) and bool(seats["total"]),
        "step": 5,
    })
