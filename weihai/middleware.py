"""Project middleware."""

from __future__ import annotations

import re

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ApiRequiresHttpsMiddleware:
    """With SECURE_SSL_REDIRECT on, a plain-HTTP API request that carries data or a token is
    refused (403 JSON) instead of redirected: a client following the 301 would send its token
    in clear a second time, and most turn a redirected POST into a GET that drops the body.
    Placed before Django's SecurityMiddleware, which redirects everything else."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.exempt = [re.compile(pattern) for pattern in settings.SECURE_REDIRECT_EXEMPT]

    def __call__(self, request):
        if (
            settings.SECURE_SSL_REDIRECT
            and not request.is_secure()
            and request.path.startswith("/api/")
            and (request.method not in SAFE_METHODS or "HTTP_AUTHORIZATION" in request.META)
            and not any(pattern.search(request.path.lstrip("/")) for pattern in self.exempt)
        ):
            # LocaleMiddleware has not run yet: pick the language the same way it would.
            with translation.override(translation.get_language_from_request(request)):
                return self._refuse()
        return self.get_response(request)

    def _refuse(self):
        return JsonResponse(
            {
                "detail": _(
                    "接口只接受 HTTPS 请求，请改用 https:// 地址重发。"
                    "经明文 HTTP 发送过的令牌应视为已泄露，请撤销后重新签发。"
                ),
                "code": "https_required",
                "field": None,
            },
            status=403,
            json_dumps_params={"ensure_ascii": False},
        )


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """The Content-Security-Policy (settings.SECURITY_POLICY) on the staff faces: the admin,
    the dashboard under it, and the API with its Swagger UI (CSP_PATH_PREFIXES). Other pages
    are left to their own app until they are written for it.

    django-csp on Django 5.2. Django 6 builds the same in: there, SECURE_CSP takes the same
    directive dict and django.middleware.csp.ContentSecurityPolicyMiddleware replaces
    CSPMiddleware as the base class here."""

    def process_response(self, request, response):
        if not request.path.startswith(tuple(settings.CSP_PATH_PREFIXES)):
            response._csp_exempt = True
        return super().process_response(request, response)


def client_address(request) -> str | None:
    """The client's address as the API's throttles see it (DRF's get_ident with NUM_PROXIES),
    for the login lockout too (AXES_CLIENT_IP_CALLABLE): REMOTE_ADDR when no proxy is trusted,
    else the address the nearest trusted proxy appended to X-Forwarded-For — never one the
    client wrote itself."""
    proxies = settings.API_NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR")
