"""django-q2 schedules that data migrations create: every one runs each minute, forever.

Migrations call `every_minute(SCHEDULES)` to get their RunPython operation, so the three apps
that schedule work share one definition of how a schedule row looks.
"""

from django.db import migrations


def every_minute(schedules: list[tuple[str, str]]) -> migrations.RunPython:
    """A RunPython that creates (or updates) the named schedules, and deletes them when reversed."""

    def create(apps, schema_editor):
        Schedule = apps.get_model("django_q", "Schedule")
        for name, func in schedules:
            Schedule.objects.update_or_create(
                name=name, defaults={"func": func, "schedule_type": "I", "minutes": 1, "repeats": -1}
            )

    def delete(apps, schema_editor):
        apps.get_model("django_q", "Schedule").objects.filter(name__in=[name for name, _ in schedules]).delete()

    return migrations.RunPython(create, delete)
