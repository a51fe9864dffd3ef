"""A local e-mail backend: each message becomes one `.eml` file that any mail program opens.

`make run` uses it (EMAIL_BACKEND defaults to it when EVENTLY_LOCAL is set), writing to
EMAIL_FILE_PATH (var/mail): double-click the newest file to read the tickets e-mail, PDF included.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

_lock = threading.Lock()
_counter = 0


class EmlFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        global _counter
        directory = Path(settings.EMAIL_FILE_PATH)
        directory.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            with _lock:
                _counter += 1
                number = _counter
            subject = re.sub(r"[^A-Za-z0-9]+", "-", message.subject).strip("-")[:60] or "message"
            name = f"{timezone.now():%Y%m%d-%H%M%S-%f}-{number}-{subject}.eml"
            (directory / name).write_bytes(message.message().as_bytes(linesep="\r\n"))
        return len(email_messages)
