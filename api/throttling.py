"""Per-token quotas (DRF throttling), answering 429 with Retry-After.

DRF throttling is a quota, not a defence (non-atomic, per cache): floods are the reverse
proxy's job. Keys are the token (so two integrations of one enterprise have separate
quotas), else the staff session's user, else the client address. Requests whose credentials
fail (a wrong, revoked or expired token) have their own quota per client address, so token
guessing is slowed down as much as anonymous calls are.

The client address is REMOTE_ADDR unless NUM_PROXIES (a setting) says how many reverse
proxies in front append to X-Forwarded-For; then it is the address the nearest of them saw.
With the DRF default (None) a client could rotate X-Forwarded-For to get a fresh quota on
every request. Rates are read on each
request, so tests and settings overrides take effect. If the cache is down the request is
let through and the failure logged: a quota must never turn into an outage.
"""

from __future__ import annotations

import logging

from knox.models import AuthToken
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class _LiveRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.exception("throttle cache unavailable; letting the request through")
            return True


class TokenRateThrottle(_LiveRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return None
        auth = request.auth
        ident = f"t:{auth.token_key}" if isinstance(auth, AuthToken) else f"u:{user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(_LiveRateThrottle):
    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class FailedAuthenticationThrottle(_LiveRateThrottle):
    """Counted only for requests whose credentials were refused (see ApiViewMixin)."""

    scope = "auth_failure"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
