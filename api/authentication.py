"""Who is calling: a knox token (stored as a SHA-512 digest) or a staff member's admin session.

knox's own TokenAuthentication is hardened here: a header that is not a well-formed token
answers 401 before any query (knox would raise a 500 on non-UTF-8 bytes, and PostgreSQL
rejects NUL characters in a query parameter), and only the presented token's own expiry is
checked (knox also loads every other token of the user on each request to delete expired
ones — one query per request for housekeeping the admin can do).
"""

from __future__ import annotations

import re
from hmac import compare_digest

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.crypto import hash_token
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)

from api.token_lookup import tokens_for_key
from tickets.actors import remember_actor

_TOKEN = re.compile(r"[0-9a-f]+")


class TokenAuthentication(BaseAuthentication):
    """`Authorization: Token <key>`; request.auth is the knox AuthToken."""

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None  # another scheme, or none: let the next authenticator try
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Authorization 请求头格式应为 “Token <令牌>”。")
            )
        return self.authenticate_credentials(parts[1])

    def authenticate_credentials(self, raw: bytes):
        invalid = exceptions.AuthenticationFailed(_("令牌无效或已过期。"))
        try:
            token = raw.decode("ascii")
        except UnicodeDecodeError:
            raise invalid from None
        prefix = knox_settings.TOKEN_PREFIX
        body = token[len(prefix) :] if token.startswith(prefix) else ""
        if len(body) != knox_settings.AUTH_TOKEN_CHARACTER_LENGTH or not _TOKEN.fullmatch(body):
            raise invalid
        digest = hash_token(token)
        # One query for the token, its user, the user's enterprise (the enterprise account
        # acts for it) and whether the user has department memberships: with the token
        # alone, resolving the actor cost three more round trips per request.
        for auth_token, has_memberships in tokens_for_key(token[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                raise invalid
            user = auth_token.user
            if not user.is_active:
                raise exceptions.AuthenticationFailed(_("该账号已停用。"))
            account = getattr(user, "enterprise_account", None)  # loaded: no query
            remember_actor(
                user,
                enterprise_id=None if account is None else account.enterprise_id,
                has_memberships=has_memberships,
            )
            return user, auth_token
        raise invalid

    def authenticate_header(self, request):
        return self.keyword


class StaffSessionAuthentication(SessionAuthentication):
    """Staff may call the API from their admin session (with CSRF on unsafe methods).
    Sessions of other users are ignored: enterprises use tokens."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None or not result[0].is_staff:
            return None
        return result
