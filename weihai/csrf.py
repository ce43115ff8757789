"""CSRF failures in the reader's language (CSRF_FAILURE_VIEW, and the API's session check).

Django's CsrfViewMiddleware gives its reasons as untranslated English constants; these are
mapped to messages in Chinese (English with Accept-Language: en). Under /api/ the answer is
the API's JSON error; elsewhere a small HTML page.
"""

from __future__ import annotations

from django.http import HttpResponseForbidden, JsonResponse
from django.middleware import csrf
from django.template.loader import render_to_string
from django.utils.translation import gettext as _


def reason_text(reason: str) -> str:
    """Django's English reason, said for a reader: what went wrong and what to do."""
    if reason in (csrf.REASON_NO_CSRF_COOKIE, csrf.REASON_CSRF_TOKEN_MISSING):
        return _("缺少 CSRF 令牌：请刷新页面后重新提交；接口请求须带 X-CSRFToken 请求头。")
    if reason.startswith(("CSRF token from", "CSRF token incorrect")) or reason == getattr(
        csrf, "REASON_CSRF_TOKEN_INCORRECT", None
    ):
        return _("CSRF 令牌不正确或已过期：请刷新页面后重新提交。")
    if reason.startswith("Origin checking failed"):
        return _("请求来源与本站不符（Origin 校验失败）。")
    if reason in (csrf.REASON_NO_REFERER, csrf.REASON_MALFORMED_REFERER) or reason.startswith(
        ("Referer checking failed", "Referer")
    ):
        return _("HTTPS 请求缺少或带有不符的 Referer 请求头。")
    return _("CSRF 校验失败。")


def message(reason: str) -> str:
    return _("CSRF 校验失败，请求已中止：%(reason)s") % {"reason": reason_text(reason)}


def csrf_failure(request, reason=""):
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": message(reason), "code": "csrf_failed", "field": None},
            status=403,
            json_dumps_params={"ensure_ascii": False},
        )
    html = render_to_string("csrf_failure.html", {"message": message(reason)}, request=request)
    return HttpResponseForbidden(html)
