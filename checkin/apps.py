from django.apps import AppConfig


class CheckinConfig(AppConfig):
    name = "checkin"
    verbose_name = "Check-in"

    def ready(self):
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from checkin.selectors import booking_scan_history, event_admission_progress
        from checkin.signals import signals_connect
        from ticketing.reports import checkin_progress_register
        from ticketing.services.orders import booking_history_source_register

        signals_connect()
        # Ticketing's event report shows check-in progress; checkin sits above it, so it tells the report.
        checkin_progress_register(event_admission_progress)
        booking_history_source_register(booking_scan_history)  # the door's scans in a booking's history
