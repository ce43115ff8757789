"""Email backends for fault tests that run in a worker process."""

import os
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend as FileBackend


class HangWhileFlaggedBackend(FileBackend):
    """The file backend, except that while the file TEST_MAIL_HANG_FLAG exists a send writes
    "<flag>.reached" and hangs (the worker is then killed between claim and send)."""

    def send_messages(self, email_messages):
        flag = os.environ.get("TEST_MAIL_HANG_FLAG")
        if flag and Path(flag).exists():
            Path(f"{flag}.reached").write_text("sending")
            time.sleep(600)
        return super().send_messages(email_messages)
