"""`{% organizer_dashboard %}`: the dashboard on the admin's home page (checkin.dashboard)."""

from decimal import Decimal

from django import template

from checkin.dashboard import organizer_dashboard as dashboard_for

register = template.Library()


@register.inclusion_tag("admin/checkin/dashboard.html", takes_context=True)
def organizer_dashboard(context):
    request = context["request"]
    return {**dashboard_for(user=request.user), "request": request}


@register.filter
def thousands(value) -> str:
    """12345 → "12,345" (without switching on thousand separators for every number on every page)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value


@register.filter
def money(value) -> str:
    """12345.5 → "12,345.50"."""
    try:
        return f"{Decimal(value):,.2f}"
    except (TypeError, ValueError, ArithmeticError):
        return value
