"""The scoping matrix, generated from the OpenAPI schema.

For every operation in /api/schema/ and every caller — enterprise A, enterprise B, staff of
department X, staff of department Y, a coordinator, anonymous — another party's ticket
answers 404 (anonymous 401), a visible one never does, and lists hold no foreign rows.
An operation without a rule here fails the test: a new endpoint must say who may see what.
"""

import pytest
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator

from tests.api.conftest import client_for, make_ticket
from tickets.models import Status, Ticket, TicketNumberCounter

pytestmark = pytest.mark.django_db

# Operations on one ticket → a body that would be acceptable to a permitted caller.
ID_RULES = {
    "get /api/v1/tickets/{id}/": None,
    "post /api/v1/tickets/{id}/accept/": {},
    "post /api/v1/tickets/{id}/resolve/": {"outcome": "solved", "reply": "已解决"},
    "post /api/v1/tickets/{id}/return/": {"reason": "非本单位职责"},
    "post /api/v1/tickets/{id}/hold/": {"reason": "等待材料"},
    "post /api/v1/tickets/{id}/resume/": {},
    "post /api/v1/tickets/{id}/extend/": {"days": 2, "reason": "需要勘查"},
    "post /api/v1/tickets/{id}/approve-extension/": {},
    "post /api/v1/tickets/{id}/deny-extension/": {},
    "post /api/v1/tickets/{id}/approve-explanation/": {},
    "post /api/v1/tickets/{id}/reject-explanation/": {"note": "请再协调"},
    "post /api/v1/tickets/{id}/confirm/": {},
    "post /api/v1/tickets/{id}/reopen/": {"reason": "未解决"},
    "post /api/v1/tickets/{id}/withdraw/": {},
    "post /api/v1/tickets/{id}/rate/": {"score": 5},
    "post /api/v1/tickets/{id}/dispatch/": {"department": 1},
    "post /api/v1/tickets/{id}/merge/": {"into": "WH-2026-000001"},
}
# Operations without an id → what each caller gets (checked by _check_collection).
COLLECTION_RULES = {
    "get /api/v1/tickets/",
    "post /api/v1/tickets/",
    "get /api/v1/enterprises/me/",
    "get /api/v1/departments/",
    "get /api/v1/categories/",
    "get /api/v1/stats/resolution/",
}
PARTIES = ["enterprise_a", "enterprise_b", "staff_x", "staff_y", "coordinator", "anonymous"]


def schema_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method, path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    ]


@pytest.fixture
def matrix(world, parties):
    """Ticket A (enterprise A, department X) and ticket B (enterprise B, department Y)."""
    # make_ticket numbers tickets itself; keep the submission counter clear of them.
    TicketNumberCounter.objects.create(year=2026, last=100)
    a = make_ticket(world, Status.ASSIGNED)
    b = make_ticket(
        world, Status.ASSIGNED, enterprise=parties.other_enterprise, department=world.other_city
    )
    visible = {
        "enterprise_a": {a.pk},
        "enterprise_b": {b.pk},
        "staff_x": {a.pk},
        "staff_y": {b.pk},
        "coordinator": {a.pk, b.pk},
        "anonymous": set(),
    }
    clients = {
        name: client_for(None if name == "anonymous" else getattr(parties, name))
        for name in PARTIES
    }
    return a, b, visible, clients


def _call(client, method: str, url: str, body):
    # Each call is rolled back so that one caller's action cannot change what the next sees.
    with transaction.atomic():
        call = getattr(client, method)
        response = call(url) if body is None else call(url, body)
        transaction.set_rollback(True)
    return response


def test_every_schema_operation_has_a_rule():
    operations = {f"{method} {path}" for method, path in schema_operations()}

    assert operations == set(ID_RULES) | COLLECTION_RULES


@pytest.mark.parametrize("party", PARTIES)
def test_ticket_operations_answer_404_for_foreign_tickets(matrix, party):
    a, b, visible, clients = matrix
    client = clients[party]
    failures = []
    for method, path in schema_operations():
        key = f"{method} {path}"
        if "{id}" not in path:
            continue
        assert key in ID_RULES, f"no scoping rule for {key}"
        for ticket_id in (a.pk, b.pk, 10**9):
            response = _call(client, method, path.replace("{id}", str(ticket_id)), ID_RULES[key])
            if party == "anonymous":
                expected_ok = response.status_code == 401
            elif ticket_id in visible[party]:
                expected_ok = response.status_code in {200, 400, 403, 409}
            else:
                expected_ok = response.status_code == 404 and response.json()["code"] == "not_found"
            if not expected_ok:
                failures.append((key, ticket_id, response.status_code, response.content[:200]))
    assert failures == []


@pytest.mark.parametrize("party", PARTIES)
def test_collections_hold_no_foreign_rows(matrix, party, world):
    a, b, visible, clients = matrix
    client = clients[party]
    for method, path in schema_operations():
        key = f"{method} {path}"
        if "{id}" in path:
            continue
        assert key in COLLECTION_RULES, f"no scoping rule for {key}"
        _check_collection(key, party, client, visible[party], world)


def _check_collection(key, party, client, visible, world):
    anonymous = party == "anonymous"
    enterprise = party.startswith("enterprise")
    if key == "get /api/v1/tickets/":
        response = client.get("/api/v1/tickets/?page_size=100")
        if anonymous:
            assert response.status_code == 401
        else:
            assert {row["id"] for row in response.json()["results"]} == visible
            assert response.json()["count"] == len(visible)
    elif key == "post /api/v1/tickets/":
        with transaction.atomic():
            response = client.post(
                "/api/v1/tickets/",
                {"kind": "difficulty", "title": "t", "description": "d", "enterprise": 1},
            )
            created = Ticket.objects.filter(title="t").first()
            transaction.set_rollback(True)
        expected = 401 if anonymous else 201 if enterprise else 403
        assert response.status_code == expected
        if enterprise:
            owner = world.enterprise.pk if party == "enterprise_a" else created.enterprise_id
            assert created.enterprise_id == owner
            assert response.json()["enterprise"]["id"] == created.enterprise_id
            assert {created.enterprise_id} == {
                Ticket.objects.get(pk=pk).enterprise_id for pk in visible
            }
    elif key == "get /api/v1/enterprises/me/":
        response = client.get("/api/v1/enterprises/me/")
        expected = 401 if anonymous else 200 if enterprise else 404
        assert response.status_code == expected
        if enterprise:
            ticket_enterprises = {Ticket.objects.get(pk=pk).enterprise_id for pk in visible}
            assert {response.json()["id"]} == ticket_enterprises
    elif key in {"get /api/v1/departments/", "get /api/v1/categories/"}:
        response = client.get(key.split(" ", 1)[1])
        assert response.status_code == (401 if anonymous else 200)
    elif key == "get /api/v1/stats/resolution/":
        response = client.get("/api/v1/stats/resolution/")
        assert response.status_code == (401 if anonymous else 403 if enterprise else 200)
        if party in {"staff_x", "staff_y"}:
            assert response.json()["overall"]["taken_in"] == len(visible)
    else:
        raise AssertionError(f"no scoping rule for {key}")
