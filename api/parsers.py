"""JSON bodies, bounded.

DRF hands its parsers the raw WSGI stream, bypassing DATA_UPLOAD_MAX_MEMORY_SIZE, so the
limit is applied here: a body over the limit answers 413 without being read. Deeply nested
JSON (which makes json.loads recurse until RecursionError) answers 400."""

from __future__ import annotations

import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self, limit: int | None = None):
        super().__init__(
            _("请求体过大（上限 %(limit)s 字节）。") % {"limit": limit}
            if limit is not None
            else _("请求体过大。")
        )


def body_limit() -> int | None:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def check_content_length(request) -> None:
    """Refuse an announced oversized body before reading it (413)."""
    limit = body_limit()
    if limit is None:
        return
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ParseError(_("Content-Length 请求头无效。")) from None
    if length > limit:
        raise RequestTooLarge(limit)


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        if stream is None:
            return {}
        limit = body_limit()
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(limit)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(
                _("请求体不是有效的 %(encoding)s 文本。") % {"encoding": encoding}
            ) from None
        if not text.strip():
            return {}
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except RecursionError:
            raise ParseError(_("JSON 嵌套层数过多。")) from None
        except ValueError as error:
            raise ParseError(_("JSON 格式错误：%(error)s") % {"error": error}) from None


def _reject_constant(name: str):
    raise ValueError(_("不支持 %(name)s。") % {"name": name})
