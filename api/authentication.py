"""Who is calling: a knox token (stored as a SHA-512 digest) or a staff member's admin session.

knox's TokenAuthentication is used as it is, with one hardening: a header that is not a
well-formed token answers 401 before any query. knox itself would answer 500 for non-UTF-8
bytes, and PostgreSQL refuses a NUL character in a query parameter.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from knox import auth
from knox.settings import knox_settings
from rest_framework import exceptions
from rest_framework.authentication import CSRFCheck, SessionAuthentication

from weihai.csrf import message as csrf_message

_HEX = re.compile(rb"[0-9a-f]+")


class TokenAuthentication(auth.TokenAuthentication):
    """`Authorization: Token <key>`; request.auth is the knox AuthToken."""

    def authenticate_credentials(self, token: bytes):
        prefix = knox_settings.TOKEN_PREFIX.encode()
        body = token[len(prefix) :]
        if (
            not token.startswith(prefix)
            or len(body) != knox_settings.AUTH_TOKEN_CHARACTER_LENGTH
            or not _HEX.fullmatch(body)
        ):
            raise exceptions.AuthenticationFailed(_("令牌无效或已过期。"))
        return super().authenticate_credentials(token)

    def validate_user(self, auth_token):
        if not auth_token.user.is_active:
            raise exceptions.AuthenticationFailed(_("该账号已停用。"))
        return super().validate_user(auth_token)


class StaffSessionAuthentication(SessionAuthentication):
    """Staff may call the API from their admin session (with CSRF on unsafe methods).
    Sessions of other users are ignored: enterprises use tokens."""

    def enforce_csrf(self, request):
        # DRF's own message is untranslated English ("CSRF Failed: CSRF token missing.").
        check = CSRFCheck(lambda request: None)  # its _reject returns the reason
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(csrf_message(reason))

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None or not result[0].is_staff:
            return None
        return result
