from django.apps import AppConfig


class CheckinConfig(AppConfig):
    name = "checkin"
    verbose_name = "Check-in"

    def ready(self):
        from django.contrib.auth.models import User
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from checkin.models import DoorAssignment, DoorSchedule
        from checkin.selectors import checkin_caches_clear

        def clear(**kwargs):
            checkin_caches_clear()

        # This process forgets at once; other processes within selectors.CACHE_SECONDS.
        for model in (DoorAssignment, DoorSchedule):
            post_save.connect(clear, sender=model, weak=False, dispatch_uid=f"checkin_clear_{model.__name__}_save")
            post_delete.connect(clear, sender=model, weak=False, dispatch_uid=f"checkin_clear_{model.__name__}_delete")
        m2m_changed.connect(clear, sender=User.groups.through, weak=False, dispatch_uid="checkin_clear_groups")
