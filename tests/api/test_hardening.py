"""Findings of the black-box tests (issue 14: schemathesis, a generated client, hand-made
input): each bad input answers a 4xx JSON error that says what is wrong, never a 500, a
raw placeholder or a silently different request."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from tests.api.conftest import client_for, make_ticket
from tests.api.test_submission import NEED
from tests.tickets.conftest import new_events
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db


# --- lone surrogates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        '{"kind": "\\ud800", "title": "t", "description": "d"}',
        '{"kind": "difficulty", "title": "\\ud83d", "description": "d"}',
        '{"kind": "difficulty", "title": "t", "description": "d", "category\\udfff": "x"}',
        '{"kind": "difficulty", "title": "t", "description": ["ok", {"deep": "\\udc00"}]}',
    ],
)
def test_a_lone_surrogate_in_a_submission_answers_400_json(world, raw):
    response = client_for(world.owner).post(
        "/api/v1/tickets/", raw, content_type="application/json"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "JSON 字符串含有无效的 Unicode 字符（单独的代理项，如 \\ud800）。",
        "code": "parse_error",
        "field": None,
    }
    assert Ticket.objects.count() == 0


def test_a_lone_surrogate_in_a_resolve_outcome_answers_400_and_changes_nothing(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)

    response = client_for(world.handler).post(
        f"/api/v1/tickets/{ticket.pk}/resolve/",
        '{"outcome": "\\ud83d", "reply": "已办"}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert not new_events(ticket).exists()


def test_a_surrogate_pair_is_one_character_and_is_kept(world):
    raw = '{"kind": "difficulty", "title": "\\ud83d\\ude00 增容", "description": "d"}'

    response = client_for(world.owner).post(
        "/api/v1/tickets/", raw, content_type="application/json"
    )

    assert response.status_code == 201
    assert Ticket.objects.get().title == "😀 增容"


# --- pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        ("-1", "页码小于 1"),
        ("0", "页码小于 1"),
        ("abc", "页码不是整数"),
        ("51", "本页结果为空"),
    ],
)
def test_an_invalid_page_says_which_page_and_why(world, page, reason):
    make_ticket(world, Status.ASSIGNED)

    response = client_for(world.handler).get(f"/api/v1/tickets/?page={page}")

    assert response.status_code == 404
    detail = response.json()["detail"]
    assert detail.startswith(f"页码无效：{page}（")
    assert reason in detail
    assert "%(" not in detail and "{" not in detail


@pytest.mark.parametrize("size", ["abc", "0", "-5", "1.5"])
def test_an_invalid_page_size_answers_400(world, size):
    response = client_for(world.handler).get(f"/api/v1/tickets/?page_size={size}")

    assert response.status_code == 400
    assert response.json()["field"] == "page_size"


# --- filters and ordering ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("overdue=ture", "overdue"),
        ("supervised=yes", "supervised"),
        ("overdue=1", "overdue"),
        ("ordering=bogus", "ordering"),
        ("ordering=-created_at,title", "ordering"),
        ("kind=", "kind"),
        ("status=assigned&status=", "status"),
    ],
)
def test_invalid_filters_and_orderings_answer_400_not_the_unfiltered_list(world, query, field):
    make_ticket(world, Status.ASSIGNED)

    response = client_for(world.handler).get(f"/api/v1/tickets/?{query}")

    assert response.status_code == 400, response.json()
    assert response.json()["field"] == field


def test_valid_booleans_and_orderings_still_filter(world):
    older = make_ticket(world, Status.ASSIGNED, number="WH-2026-000009")
    newer = make_ticket(world, Status.ASSIGNED, number="WH-2026-000010", supervised=True)
    client = client_for(world.handler)

    by_number = client.get("/api/v1/tickets/?ordering=number").json()["results"]
    supervised = client.get("/api/v1/tickets/?supervised=true").json()["results"]

    assert [t["id"] for t in by_number] == [older.pk, newer.pk]
    assert [t["id"] for t in supervised] == [newer.pk]


# --- idempotency -------------------------------------------------------------------------------


def test_an_explicit_chain_equal_to_the_default_is_the_same_submission(world):
    world.enterprise.chains.add(world.chain)
    client = client_for(world.owner)
    need = {**NEED, "kind": "supply_chain", "category": ""}

    first = client.post("/api/v1/tickets/", need, HTTP_IDEMPOTENCY_KEY="erp-1")
    retry = client.post(
        "/api/v1/tickets/", {**need, "chain": world.chain.pk}, HTTP_IDEMPOTENCY_KEY="erp-1"
    )

    assert (first.status_code, retry.status_code) == (201, 200)
    assert first.json()["chain"] == {"id": world.chain.pk, "name": world.chain.name}
    assert retry.json()["id"] == first.json()["id"]
    assert Ticket.objects.count() == 1


# --- charsets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("charset", ["latin-1", "ISO-8859-1", "gbk", "utf-16"])
def test_json_in_another_charset_answers_415(world, charset):
    body = '{"kind": "difficulty", "title": "Ã¤", "description": "d"}'.encode()

    response = client_for(world.owner).post(
        "/api/v1/tickets/", body, content_type=f"application/json; charset={charset}"
    )

    assert response.status_code == 415
    assert response.json() == {
        "detail": f"JSON 请求体须为 UTF-8 编码，不支持 charset={charset}。",
        "code": "unsupported_media_type",
        "field": None,
    }
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", '"utf-8"', "utf8"])
def test_json_declared_utf8_is_read(world, charset):
    response = client_for(world.owner).post(
        "/api/v1/tickets/",
        '{"kind": "difficulty", "title": "增容", "description": "d"}'.encode(),
        content_type=f"application/json; charset={charset}",
    )

    assert response.status_code == 201
    assert Ticket.objects.get().title == "增容"


# --- deactivated departments ----------------------------------------------------------------


def test_staff_of_a_deactivated_department_lose_its_tickets_and_actions(world, client):
    ticket = make_ticket(world, Status.ASSIGNED)
    api = client_for(world.handler)
    assert api.get(f"/api/v1/tickets/{ticket.pk}/").status_code == 200
    world.local.is_active = False
    world.local.save(update_fields=["is_active"])

    listed = client_for(world.handler).get("/api/v1/tickets/")
    detail = client_for(world.handler).get(f"/api/v1/tickets/{ticket.pk}/")
    accept = client_for(world.handler).post(f"/api/v1/tickets/{ticket.pk}/accept/", {})
    client.force_login(world.handler)
    admin_change = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    admin_act = client.post(
        reverse("admin:tickets_ticket_act", args=[ticket.pk]), {"action": "accept"}
    )

    assert listed.json()["count"] == 0
    assert (detail.status_code, accept.status_code) == (404, 404)
    assert admin_change.status_code in (302, 403, 404)
    assert admin_act.status_code in (302, 403, 404)
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED
    assert not new_events(ticket).exists()


def test_a_coordinator_of_a_deactivated_office_is_no_coordinator(world):
    world.coordinator.is_active = False
    world.coordinator.save(update_fields=["is_active"])
    make_ticket(world, Status.ASSIGNED)

    response = client_for(world.coordinator_user).get("/api/v1/tickets/")

    assert response.json()["count"] == 0


# --- throttling -------------------------------------------------------------------------------


def _rates(settings, **rates):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "1000/min", "anon": "1000/min", **rates},
    }
    cache.clear()


def test_requests_with_refused_tokens_are_throttled_per_client_address(world, settings):
    _rates(settings, auth_failure="3/min")
    guesses = [f"Token {n:064x}" for n in range(5)]

    answers = [client_for().get("/api/v1/tickets/", HTTP_AUTHORIZATION=guess) for guess in guesses]

    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
    assert answers[3]["Retry-After"] == "60"
    assert answers[3].json()["code"] == "throttled"
    # A valid token from the same address is not held back by someone else's guessing.
    assert client_for(world.owner).get("/api/v1/tickets/").status_code == 200
    # Another address has its own quota.
    other = client_for().get(
        "/api/v1/tickets/", HTTP_AUTHORIZATION=guesses[0], REMOTE_ADDR="10.0.0.7"
    )
    assert other.status_code == 401


def test_rotating_x_forwarded_for_does_not_reset_the_anonymous_quota(world, settings):
    _rates(settings, anon="2/min")

    answers = [
        client_for().get("/api/v1/tickets/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(4)
    ]

    assert answers == [401, 401, 429, 429]


def test_behind_one_proxy_the_address_it_saw_is_the_key(world, settings):
    _rates(settings, anon="1/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    def call(forwarded):
        return client_for().get("/api/v1/tickets/", HTTP_X_FORWARDED_FOR=forwarded).status_code

    # The proxy appends the address it saw; anything before it is the client's to choose.
    assert call("1.1.1.1, 198.51.100.1") == 401
    assert call("2.2.2.2, 198.51.100.1") == 429
    assert call("198.51.100.2") == 401


# --- production -------------------------------------------------------------------------------


def test_authenticated_json_is_never_stored(world):
    ticket = make_ticket(world, Status.ASSIGNED)
    client = client_for(world.handler)

    for response in (
        client.get("/api/v1/tickets/"),
        client.get(f"/api/v1/tickets/{ticket.pk}/"),
        client.post(f"/api/v1/tickets/{ticket.pk}/accept/", {}),
        client_for(world.owner).get("/api/v1/enterprises/me/"),
    ):
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]


def test_plain_http_api_post_is_refused_not_redirected(world, settings):
    settings.SECURE_SSL_REDIRECT = True
    ticket = make_ticket(world, Status.ASSIGNED)

    post = client_for(world.handler).post(f"/api/v1/tickets/{ticket.pk}/accept/", {})
    read = client_for(world.handler).get("/api/v1/tickets/")
    docs = client_for().get("/api/docs/")
    secure = client_for(world.handler).post(f"/api/v1/tickets/{ticket.pk}/accept/", {}, secure=True)

    assert post.status_code == 403
    assert post.json()["code"] == "https_required"
    assert post.json()["detail"].startswith("接口只接受 HTTPS 请求")
    assert read.status_code == 403  # the token went out in clear: say so, do not redirect
    assert docs.status_code == 301  # a browser opening the docs is redirected as before
    assert secure.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_a_session_post_without_csrf_token_is_refused_in_chinese(world):
    ticket = make_ticket(world, Status.ASSIGNED)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.handler)

    response = client.post(f"/api/v1/tickets/{ticket.pk}/accept/", {})

    assert response.status_code == 403
    assert response.json()["detail"] == (
        "CSRF 校验失败，请求已中止：缺少 CSRF 令牌：请刷新页面后重新提交；"
        "接口请求须带 X-CSRFToken 请求头。"
    )


def test_the_csrf_failure_page_is_in_chinese(world):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.handler)

    page = browser.post(reverse("admin:logout"))

    assert page.status_code == 403
    text = page.content.decode()
    assert "禁止访问（403）" in text
    assert "CSRF 校验失败，请求已中止：缺少 CSRF 令牌" in text


def test_null_characters_are_refused_in_correct_chinese(world):
    response = client_for(world.owner).post("/api/v1/tickets/", {**NEED, "title": "a\x00b"})

    assert response.status_code == 400
    assert response.json()["detail"] == "title：不允许包含空字符（NUL，\\x00）。"
