"""Error messages are Chinese by default and English with Accept-Language: en."""

import pytest

from tests.api.conftest import client_for, make_ticket
from tickets.models import Status

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (None, "诉求当前状态为“办理中”，不能执行“签收”。"),
        ("en", "The ticket is “in progress”; “accept” is not possible now."),
        ("en-GB,en;q=0.9", "The ticket is “in progress”; “accept” is not possible now."),
        ("zh-CN,zh;q=0.9", "诉求当前状态为“办理中”，不能执行“签收”。"),
    ],
)
def test_conflict_message_follows_accept_language(world, language, expected):
    ticket = make_ticket(world, Status.IN_PROGRESS)

    response = client_for(world.handler, language).post(f"/api/v1/tickets/{ticket.pk}/accept/")

    assert response.status_code == 409
    assert response.json()["detail"] == expected


@pytest.mark.parametrize(
    ("call", "english"),
    [
        (
            lambda w, t: client_for(w.owner, "en").post(f"/api/v1/tickets/{t.pk}/accept/"),
            "Only staff of the handling department can do this.",
        ),
        (
            lambda w, t: client_for(w.handler, "en").post(
                f"/api/v1/tickets/{t.pk}/return/", {"reason": "x"}
            ),
            None,  # allowed: 200
        ),
        (
            lambda w, t: client_for(w.owner, "en").get("/api/v1/tickets/999999/"),
            "Ticket not found.",
        ),
        (
            lambda w, t: client_for(w.owner, "en").post(
                "/api/v1/tickets/",
                {"kind": "difficulty", "title": "t", "description": "d", "category": "loan"},
            ),
            "Category “loan” does not belong to this kind; choose one of land、energy、permit、"
            "labour、environment、logistics、market、finance_policy、other.",
        ),
        (
            lambda w, t: client_for(w.owner, "en").post(
                "/api/v1/tickets/", {"kind": "difficulty", "title": "t"}
            ),
            "description: This field is required.",
        ),
        (
            lambda w, t: client_for(None, "en").get("/api/v1/tickets/"),
            "Authentication credentials were not provided.",
        ),
    ],
)
def test_error_messages_in_english(world, call, english):
    ticket = make_ticket(world, Status.ASSIGNED)

    response = call(world, ticket)

    if english is None:
        assert response.status_code == 200
    else:
        assert response.json()["detail"] == english


def test_category_labels_follow_the_language(world):
    chinese = client_for(world.owner).get("/api/v1/categories/").json()
    english = client_for(world.owner, "en").get("/api/v1/categories/").json()

    assert [k["kind"] for k in chinese] == ["difficulty", "technology", "funding", "supply_chain"]
    assert chinese[0]["label"] == "企业困难问题"
    assert english[0]["label"] == "enterprise difficulty"
    assert english[2]["categories"][0] == {"code": "loan", "label": "Working-capital loan"}
