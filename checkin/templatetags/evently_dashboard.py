"""`{% organizer_dashboard %}`: the dashboard on the admin's home page (checkin.dashboard)."""

from django import template

from checkin.dashboard import organizer_dashboard as dashboard_for

register = template.Library()


@register.inclusion_tag("admin/checkin/dashboard.html", takes_context=True)
def organizer_dashboard(context):
    request = context["request"]
    return {**dashboard_for(user=request.user), "request": request}
