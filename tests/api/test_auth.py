"""Tokens (hashed, expiring, revocable), staff sessions with CSRF, and per-token throttling."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.api.conftest import NOW, client_for, token_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_no_credentials_answer_401_with_a_token_challenge(world):
    response = APIClient().get("/api/v1/tickets/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "detail": "身份认证信息未提供。",
        "code": "not_authenticated",
        "field": None,
    }


@pytest.mark.parametrize(
    "header",
    [
        "Token " + "g" * 64,  # not hexadecimal
        "Token " + "A" * 64,  # knox issues lower case
        "Token " + "0" * 63,
        "Token " + "0" * 65,
        "Token " + "\u00ff" * 64,  # not UTF-8 on the wire: knox alone would answer 500
        "Token " + "0" * 31 + "\u0000" + "0" * 32,  # PostgreSQL refuses NUL in a parameter
    ],
)
def test_a_malformed_token_answers_401_before_any_query(world, header, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = APIClient().get("/api/v1/tickets/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json() == {
        "detail": "令牌无效或已过期。",
        "code": "authentication_failed",
        "field": None,
    }


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token", "没有提供认证信息（认证令牌HTTP头无效）。"),
        ("Token a b", "认证令牌字符串不应该包含空格（无效的认证令牌HTTP头）。"),
    ],
)
def test_a_malformed_header_answers_401_before_any_query(
    world, header, detail, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = APIClient().get("/api/v1/tickets/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json() == {"detail": detail, "code": "authentication_failed", "field": None}


@pytest.mark.parametrize("header", ["Token " + "0" * 64, "token " + "0" * 64])
def test_an_unknown_token_answers_401(world, header):
    token_for(world.owner)

    response = APIClient().get("/api/v1/tickets/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json() == {
        "detail": "认证令牌无效。",
        "code": "authentication_failed",
        "field": None,
    }


def test_a_token_is_stored_only_as_a_digest(world):
    token = token_for(world.owner)

    row = AuthToken.objects.get()
    assert token not in (row.digest, row.token_key)
    assert row.token_key == token[:15]
    assert len(row.digest) == 128


def test_tokens_expire_after_the_configured_ttl(world):
    token = token_for(world.owner)
    assert AuthToken.objects.get().expiry == NOW + dt.timedelta(days=365)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/tickets/").status_code == 200

    AuthToken.objects.update(expiry=NOW - dt.timedelta(seconds=1))

    assert client.get("/api/v1/tickets/").status_code == 401
    assert not AuthToken.objects.exists()  # knox deletes an expired token when it is used


def test_a_deactivated_account_is_refused(world):
    client = client_for(world.owner)
    get_user_model().objects.filter(pk=world.owner.pk).update(is_active=False)

    response = client.get("/api/v1/tickets/")

    assert response.status_code == 401
    assert response.json()["detail"] == "该账号已停用。"


def test_a_coordinator_revokes_an_enterprise_token_in_the_admin(world):
    token = token_for(world.owner)
    row = AuthToken.objects.get()
    admin = Client()
    admin.force_login(world.coordinator_user)

    page = admin.get("/admin/knox/authtoken/")
    assert page.status_code == 200
    response = admin.post(
        "/admin/knox/authtoken/",
        {"action": "revoke", "_selected_action": [row.pk]},
    )

    assert response.status_code == 302
    assert AuthToken.objects.count() == 0
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/tickets/").status_code == 401


def test_a_coordinator_sees_and_issues_only_enterprise_tokens_in_the_admin(world):
    token_for(world.handler)
    admin = Client()
    admin.force_login(world.coordinator_user)

    listing = admin.get("/admin/knox/authtoken/")
    refused = admin.post("/admin/knox/authtoken/add/", {"user": world.handler.pk})
    issued = admin.post("/admin/knox/authtoken/add/", {"user": world.owner.pk}, follow=True)

    assert "local-handler" not in listing.content.decode()
    assert refused.status_code == 200  # the form again, with an error
    assert AuthToken.objects.filter(user=world.handler).count() == 1
    assert AuthToken.objects.get(user=world.owner).expiry == NOW + dt.timedelta(days=365)
    message = next(str(m) for m in issued.context["messages"])
    assert message.startswith("TOKEN ")
    shown = message.removeprefix("TOKEN ")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {shown}")
    assert api.get("/api/v1/tickets/").status_code == 200


def test_a_handler_cannot_manage_tokens_in_the_admin(world):
    admin = Client()
    admin.force_login(world.handler)

    assert admin.get("/admin/knox/authtoken/").status_code == 403


def test_staff_use_their_admin_session_with_csrf(world):
    from tests.api.conftest import make_ticket

    ticket = make_ticket(world, "assigned")
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(world.handler)

    listed = browser.get("/api/v1/tickets/")
    without_csrf = browser.post(f"/api/v1/tickets/{ticket.pk}/accept/")
    browser.get("/admin/")  # the page's logout form sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    with_csrf = browser.post(f"/api/v1/tickets/{ticket.pk}/accept/", HTTP_X_CSRFTOKEN=csrf)

    assert listed.status_code == 200
    assert without_csrf.status_code == 403
    assert "CSRF" in without_csrf.json()["detail"]
    assert with_csrf.status_code == 200


def test_sessions_of_non_staff_users_are_ignored(world):
    browser = APIClient()
    browser.force_login(world.owner)

    assert browser.get("/api/v1/tickets/").status_code == 401


def test_throttling_answers_429_with_retry_after_past_the_limit(world, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/min", "anon": "2/min"},
    }
    from django.core.cache import cache

    cache.clear()
    client = client_for(world.owner)
    other_token = client_for(world.owner)

    answers = [client.get("/api/v1/tickets/").status_code for _ in range(4)]
    throttled = client.get("/api/v1/tickets/")

    assert answers == [200, 200, 200, 429]
    assert throttled.status_code == 429
    assert throttled["Retry-After"] == "60"
    assert throttled.json()["code"] == "throttled"
    # The quota is per token: another token of the same account still has its own.
    assert other_token.get("/api/v1/tickets/").status_code == 200
    anonymous = [APIClient().get("/api/v1/tickets/").status_code for _ in range(3)]
    assert anonymous == [401, 401, 429]


def test_an_unreachable_throttle_cache_lets_requests_through(world, settings, monkeypatch):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "1/min", "anon": "1/min"},
    }
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", broken)

    client = client_for(world.owner)

    assert [client.get("/api/v1/tickets/").status_code for _ in range(3)] == [200, 200, 200]


def test_users_without_a_role_see_nothing(world):
    nobody = UserFactory(username="nobody")

    response = client_for(nobody).get("/api/v1/tickets/")

    assert response.status_code == 200
    assert response.json()["count"] == 0
