"""A database that is gone for a moment (connection lost, server restarting, failover, a
serialization failure) is the server's trouble, not a bug and not the client's: answer
503 with Retry-After, as JSON under /api/ (api.errors does it for DRF views, this module for
the rest), instead of an HTML 500.

Retrying is safe: a failed request either rolled back (nothing saved) or committed before the
failure, and a submission retried with its Idempotency-Key then returns the ticket it made.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# OperationalError: the connection was lost or refused, the server is shutting down, a
# statement was cancelled, a serialization failure or deadlock. InterfaceError: the
# connection was already closed. Not IntegrityError, DataError or ProgrammingError: those are
# bad input or a bug, and retrying would not help.
TRANSIENT = (OperationalError, InterfaceError)
# Seconds a client should wait: a lost connection is re-opened by the next request; a
# restarting server or a failover takes seconds to tens of seconds.
RETRY_AFTER = 10


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT)


def message() -> str:
    return _("数据库暂时不可用，请稍后重试。")


def drop_lost_connections() -> None:
    """Close connections the failure broke (outside a transaction), so the next request opens
    a fresh one rather than failing on the dead socket."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.in_atomic_block and not conn.is_usable():
            conn.close()


def log(exc: BaseException, request) -> None:
    logger.error(
        "database unavailable during %s %s: %s",
        request.method,
        request.path,
        exc,
        exc_info=exc,
    )


class DatabaseUnavailableMiddleware:
    """503 + Retry-After for a transient database error raised by a view outside DRF (the
    admin, the dashboard); JSON for /api/ paths."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_transient(exception):
            return None
        log(exception, request)
        drop_lost_connections()
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {"detail": message(), "code": "database_unavailable", "field": None},
                status=503,
            )
        else:
            title = _("服务暂时不可用")
            response = HttpResponse(
                f'<!doctype html><html lang="zh-hans"><meta charset="utf-8"><title>{title}'
                f"</title><h1>{title}</h1><p>{message()}</p></html>",
                status=503,
                content_type="text/html; charset=utf-8",
            )
        response["Retry-After"] = str(RETRY_AFTER)
        return response
