"""Every error the API answers, as JSON: {"detail", "code", "field"} (+ "errors" per field).

Domain errors from tickets.workflow map to HTTP as tickets/errors.py documents:
IllegalTransition 409, NotPermitted 403, InvalidInput 400, IdempotencyConflict 422,
CalendarUnavailable 503. Messages are gettext'd at raise time, so they follow the request's
language (Chinese by default, English with Accept-Language: en).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler

from api.parsers import RequestTooLarge
from tickets.errors import (
    IllegalTransition,
    WorkflowError,
)
from weihai import database_errors

logger = logging.getLogger(__name__)

# Seconds a client should wait before retrying after a 503 (missing working calendar).
CALENDAR_RETRY_AFTER = 3600


class DomainError(exceptions.APIException):
    """A tickets.errors.WorkflowError carried through DRF with its HTTP status."""

    def __init__(self, error: WorkflowError, status_code: int, field: str | None = None):
        super().__init__(error.message, error.code)
        self.status_code = status_code
        self.field = field
        self.extra: dict = {}
        if isinstance(error, IllegalTransition):
            self.extra = {"status": error.status, "action": error.action}


class DatabaseUnavailable(exceptions.APIException):
    """A transient database error (weihai.database_errors): 503 with Retry-After."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "database_unavailable"

    def __init__(self):
        super().__init__(database_errors.message(), self.default_code)


def _to_api_exception(exc):
    if database_errors.is_transient(exc):
        return DatabaseUnavailable()
    if isinstance(exc, WorkflowError):
        return DomainError(exc, exc.http_status, getattr(exc, "field", None))
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, Http404):
        return exceptions.NotFound(_("未找到。"))
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def _first(errors, path=()):
    """The first (field path, message) in DRF's nested error structure."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            found = _first(value, (*path, str(key)))
            if found:
                return found
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            nested = path if not isinstance(value, dict | list) else (*path, str(index))
            found = _first(value, nested)
            if found:
                return found
    elif errors is not None:
        return path, errors
    return None


def exception_handler(exc, context):
    if database_errors.is_transient(exc):
        database_errors.log(exc, context["request"])
        database_errors.drop_lost_connections()
    exc = _to_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500
    if isinstance(exc, exceptions.ValidationError):
        found = _first(exc.detail) or ((), _("输入无效。"))
        path, message = found
        field = ".".join(p for p in path if p != "non_field_errors") or None
        body = {
            "detail": _("%(field)s：%(message)s") % {"field": field, "message": message}
            if field
            else str(message),
            "code": getattr(message, "code", None) or "invalid",
            "field": field,
            "errors": response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data},
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
        body = {
            "detail": str(detail),
            "code": getattr(detail, "code", None) or getattr(exc, "default_code", "error"),
            "field": getattr(exc, "field", None),
        }
        body.update(getattr(exc, "extra", {}))
    if isinstance(exc, DomainError) and exc.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response["Retry-After"] = str(CALENDAR_RETRY_AFTER)
    if isinstance(exc, DatabaseUnavailable):
        response["Retry-After"] = str(database_errors.RETRY_AFTER)
    response.data = body
    return response


# --- documentation ------------------------------------------------------------------------


class ApiErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(
        help_text=gettext_lazy("出错原因（中文；Accept-Language: en 时为英文）。")
    )
    code = serializers.CharField(
        help_text=gettext_lazy("错误代码，如 invalid、not_found、illegal_transition。")
    )
    field = serializers.CharField(
        allow_null=True, help_text=gettext_lazy("出错的字段；与具体字段无关时为 null。")
    )


class ApiValidationErrorSerializer(ApiErrorSerializer):
    errors = serializers.DictField(
        required=False,
        help_text=gettext_lazy("输入校验错误时，按字段列出全部错误（DRF 格式）。"),
    )


class ApiConflictSerializer(ApiErrorSerializer):
    status = serializers.CharField(required=False, help_text=gettext_lazy("诉求当前状态。"))
    action = serializers.CharField(required=False, help_text=gettext_lazy("被拒绝的操作。"))
