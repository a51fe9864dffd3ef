"""Forget cached door windows and staff assignments the moment the admin changes them (this process;
other processes within `selectors.CACHE_SECONDS`)."""

from django.contrib.auth.models import User
from django.db.models.signals import m2m_changed, post_delete, post_save

from checkin.models import DoorAssignment, DoorSchedule
from checkin.selectors import checkin_caches_clear


def _clear(**kwargs):
    checkin_caches_clear()


def signals_connect() -> None:
    for model in (DoorAssignment, DoorSchedule):
        post_save.connect(_clear, sender=model, weak=False, dispatch_uid=f"checkin_clear_{model.__name__}_save")
        post_delete.connect(_clear, sender=model, weak=False, dispatch_uid=f"checkin_clear_{model.__name__}_delete")
    m2m_changed.connect(_clear, sender=User.groups.through, weak=False, dispatch_uid="checkin_clear_groups")
