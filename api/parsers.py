"""JSON bodies, bounded.

DRF hands its parsers the raw WSGI stream, bypassing DATA_UPLOAD_MAX_MEMORY_SIZE, so the
limit is applied here: a body over the limit answers 413 without being read. Deeply nested
JSON (which makes json.loads recurse until RecursionError) answers 400.

A body is UTF-8 JSON (RFC 8259 §8.1): a Content-Type naming another charset answers 415
rather than being decoded into mojibake. A string escape may still name a lone surrogate
(`"\\ud800"`), which is valid JSON syntax but no character: it could be neither stored nor
sent back as UTF-8, so it answers 400.

A chunked body (Transfer-Encoding: chunked, no Content-Length) answers 411: Django reads
CONTENT_LENGTH bytes of the WSGI stream, so behind a server that de-chunks (gunicorn) the
body would read as empty — a withdrawal would lose its reason — and behind one that does
not (runserver) as nothing at all."""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rest_framework import exceptions, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.mediatypes import _MediaType

UTF8_NAMES = {"utf-8", "utf8"}
_SURROGATE = re.compile("[\ud800-\udfff]")


class LengthRequired(exceptions.APIException):
    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_code = "length_required"
    default_detail = _lazy(
        "请求体须带 Content-Length 请求头；不支持分块传输（Transfer-Encoding: chunked）。"
    )


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
    """Refuse a chunked body (411) and an announced oversized one (413) before reading it."""
    if request.META.get("HTTP_TRANSFER_ENCODING", "").strip():
        raise LengthRequired()
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
        charset = _MediaType(media_type or "").params.get("charset")
        if charset is not None and charset.strip("\"' ").lower() not in UTF8_NAMES:
            raise exceptions.UnsupportedMediaType(
                media_type,
                detail=_("JSON 请求体须为 UTF-8 编码，不支持 charset=%(charset)s。")
                % {"charset": charset},
            )
        encoding = "utf-8"
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(
                _("请求体不是有效的 %(encoding)s 文本。") % {"encoding": encoding}
            ) from None
        if not text.strip():
            return {}
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except RecursionError:
            raise ParseError(_("JSON 嵌套层数过多。")) from None
        except ValueError as error:
            raise ParseError(_("JSON 格式错误：%(error)s") % {"error": error}) from None
        if _has_lone_surrogate(data):
            raise ParseError(_("JSON 字符串含有无效的 Unicode 字符（单独的代理项，如 \\ud800）。"))
        return data


def _has_lone_surrogate(data) -> bool:
    """Whether any key or string in the parsed body holds a lone surrogate. Iterative: the
    body may be nested as deep as json.loads allows."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _reject_constant(name: str):
    raise ValueError(_("不支持 %(name)s。") % {"name": name})
