"""Small server-rendered SVG charts for the organizer reports (no JavaScript, no chart library)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def sales_over_time_svg(days: list[tuple[date, int, Decimal]], *, width: int = 720, height: int = 260) -> str:
    """Tickets sold per day as bars, cumulative revenue as a line (right axis)."""
    if not days:
        return '<p class="help">No sales yet.</p>'
    left, right, top, bottom = 48, 64, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    max_tickets = _nice_max(max(count for _, count, _ in days))
    cumulative, running = [], Decimal("0")
    for _, _, revenue in days:
        running += revenue
        cumulative.append(running)
    max_revenue = _nice_max(float(cumulative[-1]))
    slot = plot_w / len(days)
    bar_w = max(2.0, slot * 0.7)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" '
             f'aria-label="Tickets sold per day and cumulative revenue"><title>Sales over time</title>',
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#f9fafb" stroke="#e5e7eb"/>']
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#2563eb">'
                     f'{max_tickets * fraction:g}</text>'
                     f'<text x="{left + plot_w + 6}" y="{y + 4:.1f}" font-size="11" fill="#b45309">'
                     f'{max_revenue * fraction:,.0f}</text>')
    points = []
    label_every = max(1, len(days) // 8)
    for index, (day, count, _) in enumerate(days):
        x = left + slot * index + (slot - bar_w) / 2
        bar_h = plot_h * count / max_tickets
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" '
                     f'fill="#3b82f6"><title>{day:%d %b}: {count} tickets</title></rect>')
        cx = left + slot * index + slot / 2
        points.append(f"{cx:.1f},{top + plot_h * (1 - float(cumulative[index]) / max_revenue):.1f}")
        if index % label_every == 0:
            parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11" '
                         f'fill="#374151">{day:%d %b}</text>')
    parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#d97706" stroke-width="2"/>')
    parts.append(f'<text x="{left}" y="{height - 6}" font-size="11" fill="#2563eb">■ tickets per day</text>'
                 f'<text x="{left + 140}" y="{height - 6}" font-size="11" fill="#b45309">— cumulative revenue</text>')
    parts.append("</svg>")
    return "".join(parts)


STATUS_COLOURS = {"sold": "#16a34a", "held": "#f59e0b", "blocked": "#374151", "available": "#d1d5db"}


def category_status_svg(rows: list[dict], *, width: int = 720) -> str:
    """One stacked horizontal bar per category: sold / held / blocked / available."""
    if not rows:
        return ""
    label_w, bar_h, gap = 160, 22, 10
    height = len(rows) * (bar_h + gap) + 30
    plot_w = width - label_w - 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" '
             f'aria-label="Seats by status per category"><title>Seats by category</title>']
    for index, row in enumerate(rows):
        y = index * (bar_h + gap)
        total = row["total"] or 1
        x = label_w
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h / 2 + 4}" text-anchor="end" font-size="12">'
                     f'{escape(row["name"])}</text>')
        for status, colour in STATUS_COLOURS.items():
            segment = plot_w * row[status] / total
            if segment:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{segment:.1f}" height="{bar_h}" fill="{colour}">'
                             f'<title>{escape(row["name"])}: {row[status]} {status}</title></rect>')
            x += segment
        parts.append(f'<text x="{label_w + plot_w + 6}" y="{y + bar_h / 2 + 4}" font-size="12">'
                     f'{row["sold"]}/{row["total"]}</text>')
    legend_y = height - 8
    for index, (status, colour) in enumerate(STATUS_COLOURS.items()):
        parts.append(f'<rect x="{label_w + index * 110}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{label_w + index * 110 + 16}" y="{legend_y}" font-size="12">{status}</text>')
    parts.append("</svg>")
    return "".join(parts)
