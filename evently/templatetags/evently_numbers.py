"""Numbers as organizers read them: "12,345" and "12,345.50" (issue 18), without switching on
thousand separators for every number on every page (ids and years must stay as they are)."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def thousands(value) -> str:
    """12345 → "12,345"."""
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
