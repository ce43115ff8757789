"""POST /api/v1/tickets/: the enterprise comes from the token, server fields are the server's,
and an Idempotency-Key turns a retry into the same ticket."""

import pytest

from tests.api.conftest import NOW, client_for
from tickets.models import Ticket, TicketEvent, TicketNumberCounter

pytestmark = pytest.mark.django_db

NEED = {
    "kind": "difficulty",
    "title": "新厂房用电增容",
    "description": "新厂房投产需要增容 2000 千伏安，请协调供电公司。",
    "category": "energy",
}


def test_submission_creates_a_submitted_ticket_of_the_callers_enterprise(world):
    response = client_for(world.owner).post("/api/v1/tickets/", NEED)

    assert response.status_code == 201
    body = response.json()
    ticket = Ticket.objects.get()
    assert body["id"] == ticket.pk
    assert response["Location"] == f"/api/v1/tickets/{ticket.pk}/"
    assert body["number"] == "WH-2026-000001"
    assert body["enterprise"] == {
        "id": world.enterprise.pk,
        "name": world.enterprise.name,
        "uscc": world.enterprise.uscc,
    }
    assert (body["kind"], body["title"], body["category"]) == (
        "difficulty",
        "新厂房用电增容",
        "energy",
    )
    assert (body["status"], body["department"], body["outcome"]) == ("submitted", None, None)
    assert [e["action"] for e in body["events"]] == ["submit"]
    assert body["events"][0]["actor"] == "本企业"
    assert ticket.submitted_by == world.owner


def test_read_only_fields_in_the_body_are_ignored(world, parties, extra_department):
    foreign = {
        "id": 999,
        "number": "WH-1999-999999",
        "status": "closed",
        "level": "leader",
        "department": extra_department.pk,
        "enterprise": parties.other_enterprise.pk,
        "enterprise_id": parties.other_enterprise.pk,
        "outcome": "solved",
        "satisfaction": 5,
        "supervised": True,
        "created_at": "2020-01-01T00:00:00+08:00",
        "accept_due_at": "2099-01-01T00:00:00+08:00",
        "resolve_due_at": "2099-01-01T00:00:00+08:00",
        "escalation_count": 7,
        "reopen_count": 7,
        "return_count": 7,
        "extension_days": 7,
    }

    response = client_for(world.owner).post("/api/v1/tickets/", {**NEED, **foreign})

    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.pk != 999
    assert ticket.number == "WH-2026-000001"
    assert ticket.enterprise_id == world.enterprise.pk
    assert (ticket.status, ticket.level, ticket.department_id) == ("submitted", "district", None)
    assert (ticket.outcome, ticket.satisfaction, ticket.supervised) == ("", None, False)
    assert ticket.created_at == NOW
    assert (ticket.accept_due_at, ticket.resolve_due_at) == (None, None)
    assert (ticket.escalation_count, ticket.reopen_count, ticket.return_count) == (0, 0, 0)
    assert ticket.extension_days == 0


def test_same_idempotency_key_and_body_returns_the_same_ticket(world):
    client = client_for(world.owner)

    first = client.post("/api/v1/tickets/", NEED, HTTP_IDEMPOTENCY_KEY="crm-4711")
    retry = client.post("/api/v1/tickets/", NEED, HTTP_IDEMPOTENCY_KEY="crm-4711")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert retry["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.count() == 1


def test_a_replayed_key_uses_up_no_ticket_number(world):
    # The key is not looked up first: the replay's insert fails on the unique key and is
    # rolled back, counter increment included.
    client = client_for(world.owner)
    first = client.post("/api/v1/tickets/", NEED, HTTP_IDEMPOTENCY_KEY="crm-1")
    client.post("/api/v1/tickets/", NEED, HTTP_IDEMPOTENCY_KEY="crm-1")
    client.post("/api/v1/tickets/", {**NEED, "title": "另一件事"}, HTTP_IDEMPOTENCY_KEY="crm-1")
    second = client.post("/api/v1/tickets/", NEED, HTTP_IDEMPOTENCY_KEY="crm-2")

    assert (first.json()["number"], second.json()["number"]) == ("WH-2026-000001", "WH-2026-000002")


def test_same_idempotency_key_with_another_body_answers_422(world):
    client = client_for(world.owner)
    client.post("/api/v1/tickets/", NEED, HTTP_IDEMPOTENCY_KEY="crm-4711")

    response = client.post(
        "/api/v1/tickets/", {**NEED, "title": "另一件事"}, HTTP_IDEMPOTENCY_KEY="crm-4711"
    )

    assert response.status_code == 422
    assert response.json() == {
        "detail": "该 Idempotency-Key 已用于另一内容不同的诉求（WH-2026-000001），请更换。",
        "code": "idempotency_conflict",
        "field": None,
    }
    assert Ticket.objects.count() == 1


def test_idempotency_keys_are_per_enterprise(world, parties):
    first = client_for(world.owner).post("/api/v1/tickets/", NEED, HTTP_IDEMPOTENCY_KEY="k-1")
    other = client_for(parties.enterprise_b).post(
        "/api/v1/tickets/", NEED, HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert (first.status_code, other.status_code) == (201, 201)
    assert first.json()["id"] != other.json()["id"]


@pytest.mark.parametrize("key", ["a" * 81, "with space", "中文键"])
def test_malformed_idempotency_key_answers_400(world, key):
    response = client_for(world.owner).post(
        "/api/v1/tickets/", NEED, HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1")
    )

    assert response.status_code == 400
    assert response.json()["field"] == "Idempotency-Key"
    assert Ticket.objects.count() == 0


def test_staff_cannot_submit(world):
    response = client_for(world.coordinator_user).post("/api/v1/tickets/", NEED)

    assert response.status_code == 403
    assert response.json() == {
        "detail": "只有企业账号可以执行此操作。",
        "code": "permission_denied",
        "field": None,
    }


def test_funding_amount_is_kept_to_the_cent(world):
    response = client_for(world.owner).post(
        "/api/v1/tickets/",
        {
            "kind": "funding",
            "title": "流动资金贷款",
            "description": "需要 300 万元。",
            "amount": "300.5",
        },
    )

    assert response.status_code == 201
    assert response.json()["amount"] == "300.50"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({**NEED, "kind": "lottery"}, "kind", "invalid_choice"),
        ({**NEED, "title": ""}, "title", "blank"),
        ({**NEED, "title": "   "}, "title", "blank"),
        ({**NEED, "title": "长" * 201}, "title", "max_length"),
        ({**NEED, "description": "长" * 5001}, "description", "max_length"),
        ({**NEED, "title": "a\x00b"}, "title", "null_characters_not_allowed"),
        ({**NEED, "title": 12}, None, None),  # coerced to "12": accepted
        ({**NEED, "category": "banking"}, "category", "invalid_input"),
        ({**NEED, "amount": "5"}, "amount", "invalid_input"),  # amount only for funding
        ({**NEED, "kind": "funding", "amount": "1e400"}, "amount", "invalid"),  # digits only
        ({**NEED, "kind": "funding", "amount": "１２３"}, "amount", "invalid"),  # full-width
        ({**NEED, "kind": "funding", "amount": "١٢٣"}, "amount", "invalid"),  # Arabic-Indic
        ({**NEED, "kind": "funding", "amount": " 5"}, "amount", "invalid"),
        ({**NEED, "kind": "funding", "amount": "-1"}, "amount", "invalid"),
        ({**NEED, "kind": "funding", "amount": "5.123"}, "amount", "invalid"),
        ({**NEED, "kind": "funding", "amount": 10**10}, "amount", "max_whole_digits"),
        ({**NEED, "kind": "funding", "amount": 10**30}, "amount", "max_digits"),
        ({**NEED, "kind": "funding", "amount": -1}, "amount", "min_value"),
        ({**NEED, "kind": "funding", "amount": "abc"}, "amount", "invalid"),
        ({**NEED, "chain": 2**70}, "chain", "max_value"),
        ({**NEED, "chain": "x"}, "chain", "invalid"),
        ({**NEED, "chain": 12345}, "chain", "invalid_input"),
        (["not", "an", "object"], "non_field_errors", "invalid"),
    ],
)
def test_bad_submissions_answer_400_naming_the_field(world, body, field, code):
    response = client_for(world.owner).post("/api/v1/tickets/", body)

    if field is None:
        assert response.status_code == 201
        return
    assert response.status_code == 400, response.json()
    data = response.json()
    assert data["field"] == (None if field == "non_field_errors" else field)
    assert data["code"] == code
    assert data["detail"]


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ('{"kind": "funding", "title": "t", "description": "d", "amount": 1e400}', 400, "invalid"),
        (
            '{"kind": "funding", "title": "t", "description": "d", "amount": NaN}',
            400,
            "parse_error",
        ),
        ('{"kind": "difficulty", "title": "t"', 400, "parse_error"),
        ("[" * 100_000 + "]" * 100_000, 400, "parse_error"),
        (
            '{"kind": "difficulty", "description": "d", "title": "' + "9" * 5000 + '"}',
            400,
            "max_length",
        ),
        (
            '{"kind": "difficulty", "title": "t", "description": "d", "chain": ' + "9" * 5000 + "}",
            400,
            "parse_error",
        ),
        (b'{"title": "\xff\xfe"}', 400, "parse_error"),
        ("", 400, "required"),
    ],
)
def test_malformed_json_answers_400_not_500(world, raw, status, code):
    response = client_for(world.owner).post(
        "/api/v1/tickets/", raw, content_type="application/json"
    )

    assert response.status_code == status, response.content
    assert response.json()["code"] == code


def test_a_body_over_the_limit_answers_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {**NEED, "description": "长" * 2000}

    response = client_for(world.owner).post("/api/v1/tickets/", body)

    assert response.status_code == 413
    assert response.json() == {
        "detail": "请求体过大（上限 1000 字节）。",
        "code": "request_too_large",
        "field": None,
    }
    assert Ticket.objects.count() == 0


def test_a_body_that_is_not_json_answers_415(world):
    response = client_for(world.owner).post(
        "/api/v1/tickets/", "kind=difficulty", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_submission_query_count_is_fixed(world, django_assert_num_queries):
    TicketNumberCounter.objects.create(year=2026, last=41)  # not the year's first ticket
    client = client_for(world.owner)
    # The key is not looked up first: the insert's unique constraint catches a replay.
    with django_assert_num_queries(11) as captured:
        response = client.post("/api/v1/tickets/", NEED, HTTP_IDEMPOTENCY_KEY="q-1")
    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    assert statements == [
        "SELECT",  # the token with its user
        "SELECT",  # the user's other tokens (knox deletes expired ones)
        "SELECT",  # the actor: enterprise account and memberships
        "SELECT",  # the enterprise
        "SAVEPOINT",  # the test's transaction: BEGIN in production
        "SELECT",  # the year's number counter, locked
        "UPDATE",
        "INSERT",  # the ticket
        "INSERT",  # its first event
        "RELEASE",  # COMMIT in production
        "SELECT",  # the timeline for the 201 body
    ]
    assert response.status_code == 201
    assert response.json()["number"] == "WH-2026-000042"
