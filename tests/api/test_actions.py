"""POST /api/v1/tickets/{id}/<action>/: each endpoint calls its workflow function as the
caller; not permitted answers 403, a wrong status 409, a bad body 400."""

import pytest

from tests.api.conftest import client_for, make_ticket
from tests.tickets.conftest import SETUP_NOTE, new_events
from tickets.models import Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

SURVIVOR = "<survivor>"

# endpoint, starting status, extra ticket fields, who acts, body, status after, event action
CASES = [
    ("accept", "assigned", {}, "handler", {}, "in_progress", "accept"),
    ("return", "assigned", {}, "handler", {"reason": "不属于本单位职责"}, "returned", "return"),
    ("hold", "in_progress", {}, "handler", {"reason": "等待企业补充材料"}, "on_hold", "hold"),
    ("resume", "on_hold", {}, "handler", {}, "in_progress", "resume"),
    (
        "extend",
        "in_progress",
        {},
        "handler",
        {"days": 3, "reason": "需要现场勘查"},
        "in_progress",
        "request_extension",
    ),
    (
        "approve-extension",
        "in_progress",
        {"extension_requested_days": 3},
        "leader_user",
        {"note": "同意"},
        "in_progress",
        "approve_extension",
    ),
    (
        "deny-extension",
        "in_progress",
        {"extension_requested_days": 3},
        "leader_user",
        {},
        "in_progress",
        "deny_extension",
    ),
    (
        "resolve",
        "in_progress",
        {},
        "handler",
        {"outcome": "solved", "reply": "已协调供电公司增容"},
        "resolved",
        "resolve",
    ),
    (
        "resolve",
        "in_progress",
        {},
        "handler",
        {"outcome": "explained", "reply": "政策不允许"},
        "pending_review",
        "resolve",
    ),
    (
        "approve-explanation",
        "pending_review",
        {},
        "leader_user",
        {},
        "resolved",
        "approve_explanation",
    ),
    (
        "reject-explanation",
        "pending_review",
        {},
        "leader_user",
        {"note": "请再协调"},
        "in_progress",
        "reject_explanation",
    ),
    ("confirm", "resolved", {}, "owner", {}, "closed", "confirm"),
    ("reopen", "resolved", {}, "owner", {"reason": "问题仍未解决"}, "in_progress", "reopen"),
    ("withdraw", "assigned", {}, "owner", {}, "withdrawn", "withdraw"),
    ("rate", "closed", {}, "owner", {"score": 5, "note": "满意"}, "closed", "rate"),
    ("dispatch", "returned", {}, "coordinator_user", None, "assigned", "dispatch"),
    # "into" names a second open ticket of the same enterprise, made by the test.
    ("merge", "assigned", {}, "coordinator_user", {"into": SURVIVOR}, "merged", "merge"),
]


def with_survivor(world, body: dict) -> dict:
    if body.get("into") == SURVIVOR:
        body = {**body, "into": make_ticket(world, Status.IN_PROGRESS).number}
    return body


@pytest.mark.parametrize(
    ("endpoint", "start", "fields", "who", "body", "after", "event"),
    CASES,
    ids=[f"{c[0]}-{c[4].get('outcome', '') if c[4] else ''}" for c in CASES],
)
def test_action_endpoint_applies_the_workflow_step(
    world, endpoint, start, fields, who, body, after, event
):
    ticket = make_ticket(world, start, **fields)
    if body is None:
        body = {"department": world.other_city.pk, "note": "改派市科技局"}
    body = with_survivor(world, body)

    response = client_for(getattr(world, who)).post(
        f"/api/v1/tickets/{ticket.pk}/{endpoint}/", body
    )

    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["id"] == ticket.pk
    assert data["status"] == after
    assert data["events"][-1]["action"] == event
    ticket.refresh_from_db()
    assert ticket.status == after
    assert list(new_events(ticket).values_list("action", flat=True)) == [event]


def test_rate_records_the_score(world):
    ticket = make_ticket(world, Status.CLOSED)

    client_for(world.owner).post(f"/api/v1/tickets/{ticket.pk}/rate/", {"score": 4})

    ticket.refresh_from_db()
    assert ticket.satisfaction == 4


def test_an_enterprise_calling_accept_gets_403_with_the_policy_message(world):
    ticket = make_ticket(world, Status.ASSIGNED)

    response = client_for(world.owner).post(f"/api/v1/tickets/{ticket.pk}/accept/")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "只有承办单位的工作人员可以执行此操作。",
        "code": "not_permitted",
        "field": None,
    }
    assert Ticket.objects.get(pk=ticket.pk).status == Status.ASSIGNED


def test_not_permitted_wins_over_a_bad_body_and_a_wrong_status(world):
    ticket = make_ticket(world, Status.CLOSED)

    response = client_for(world.owner).post(
        f"/api/v1/tickets/{ticket.pk}/resolve/", {"outcome": "nonsense"}
    )

    assert response.status_code == 403


def test_a_handler_rating_their_own_ticket_gets_403(world):
    ticket = make_ticket(world, Status.CLOSED)

    response = client_for(world.handler).post(f"/api/v1/tickets/{ticket.pk}/rate/", {"score": 5})

    assert response.status_code == 403
    assert response.json()["detail"] == "回访与重办由企业或统筹协调人员办理，承办单位不能自评。"


def test_an_action_not_allowed_now_answers_409_naming_the_status(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)

    response = client_for(world.handler).post(f"/api/v1/tickets/{ticket.pk}/accept/")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "诉求当前状态为“办理中”，不能执行“签收”。",
        "code": "illegal_transition",
        "field": None,
        "status": "in_progress",
        "action": "accept",
    }
    assert not TicketEvent.objects.exclude(note=SETUP_NOTE).exists()


def test_rating_twice_answers_409(world):
    ticket = make_ticket(world, Status.CLOSED)
    client = client_for(world.owner)
    client.post(f"/api/v1/tickets/{ticket.pk}/rate/", {"score": 4})

    response = client.post(f"/api/v1/tickets/{ticket.pk}/rate/", {"score": 5})

    assert response.status_code == 409
    assert response.json()["detail"] == "该诉求已评价过。"


@pytest.mark.parametrize(
    ("endpoint", "body", "field", "code"),
    [
        ("resolve", {"outcome": "solved"}, "reply", "required"),
        ("resolve", {"outcome": "done", "reply": "x"}, "outcome", "invalid_choice"),
        ("resolve", {"outcome": "solved", "reply": "长" * 5001}, "reply", "max_length"),
        ("hold", {"reason": "   "}, "reason", "blank"),
        ("hold", {"reason": "长" * 2001}, "reason", "max_length"),
        ("extend", {"days": 0, "reason": "x"}, "days", "min_value"),
        ("extend", {"days": 11, "reason": "x"}, "days", "invalid_input"),  # policy maximum 10
        ("extend", {"days": 2**80, "reason": "x"}, "days", "max_value"),
        ("extend", {"days": "3.5", "reason": "x"}, "days", "invalid"),
        ("extend", {"days": True, "reason": "x"}, "days", "invalid"),
    ],
)
def test_bad_action_bodies_answer_400(world, endpoint, body, field, code):
    ticket = make_ticket(world, Status.IN_PROGRESS)

    response = client_for(world.handler).post(f"/api/v1/tickets/{ticket.pk}/{endpoint}/", body)

    assert response.status_code == 400, response.json()
    assert (response.json()["field"], response.json()["code"]) == (field, code)
    assert not TicketEvent.objects.exclude(note=SETUP_NOTE).exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [({"department": 10**6}, "invalid_input"), ({"department": "x"}, "invalid"), ({}, "required")],
)
def test_dispatch_to_a_bad_department_answers_400(world, body, code):
    ticket = make_ticket(world, Status.RETURNED)

    response = client_for(world.coordinator_user).post(
        f"/api/v1/tickets/{ticket.pk}/dispatch/", body
    )

    assert response.status_code == 400
    assert (response.json()["field"], response.json()["code"]) == ("department", code)


def test_a_missing_calendar_year_answers_503_with_retry_after(world):
    from tickets.calendar_store import invalidate
    from tickets.models import CalendarDay

    ticket = make_ticket(world, Status.ASSIGNED)
    CalendarDay.objects.filter(date__year=2026).delete()
    invalidate()

    response = client_for(world.handler).post(f"/api/v1/tickets/{ticket.pk}/accept/")

    assert response.status_code == 503
    assert response["Retry-After"] == "3600"
    assert response.json()["code"] == "calendar_unavailable"


@pytest.mark.parametrize("endpoint", ["approve-extension", "deny-extension"])
def test_the_tier_above_can_review_an_extension_through_the_api(world, endpoint):
    ticket = make_ticket(world, Status.IN_PROGRESS, extension_requested_days=3)

    response = client_for(world.city_handler).post(f"/api/v1/tickets/{ticket.pk}/{endpoint}/")

    assert response.status_code == 200
