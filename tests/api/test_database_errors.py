"""The database connection lost mid-request: 503 JSON with Retry-After, never an HTML 500, and
a client's retry with its Idempotency-Key creates exactly one ticket.

The connection is really lost: another connection terminates this one's PostgreSQL backend
(pg_terminate_backend) at a chosen point of the request.
"""

import psycopg
import pytest
from django.db import connection

from api import views
from tests.api.conftest import client_for
from tests.factories import staff_user
from tickets import workflow
from tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NEED = {
    "kind": "difficulty",
    "title": "用电增容审批",
    "description": "新厂房需要增容至 2000 kVA。",
    "category": "energy",
}


def lose_the_connection():
    """Terminate this process's database connection from the server side."""
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def once_after(monkeypatch, module, name):
    """Lose the connection the first time `module.name` is called, then call it."""
    original = getattr(module, name)
    calls = []

    def wrapper(*args, **kwargs):
        if not calls:
            calls.append(1)
            lose_the_connection()
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def assert_unavailable(response):
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "10"
    assert response.json() == {
        "detail": "数据库暂时不可用，请稍后重试。",
        "code": "database_unavailable",
        "field": None,
    }


def test_connection_lost_before_commit_answers_503_and_the_retry_creates_one_ticket(
    world, monkeypatch
):
    client = client_for(world.owner)
    calls = once_after(monkeypatch, workflow, "_next_numbers")  # inside the insert's transaction

    first = client.post("/api/v1/tickets/", NEED, format="json", HTTP_IDEMPOTENCY_KEY="crm-1")

    assert calls == [1]
    assert_unavailable(first)
    assert Ticket.objects.count() == 0  # rolled back with the connection: nothing half-saved
    retry = client.post("/api/v1/tickets/", NEED, format="json", HTTP_IDEMPOTENCY_KEY="crm-1")
    assert retry.status_code == 201
    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.count() == 1
    assert retry.json()["number"] == "WH-2026-000001"


def test_connection_lost_after_commit_answers_503_and_the_retry_returns_that_ticket(
    world, monkeypatch
):
    client = client_for(world.owner)
    once_after(monkeypatch, views, "prefetch_related_objects")  # presenting the saved ticket

    first = client.post("/api/v1/tickets/", NEED, format="json", HTTP_IDEMPOTENCY_KEY="crm-2")

    assert_unavailable(first)
    (ticket,) = Ticket.objects.all()  # it was committed before the connection went
    retry = client.post("/api/v1/tickets/", NEED, format="json", HTTP_IDEMPOTENCY_KEY="crm-2")
    assert retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == ticket.pk
    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.count() == 1


def test_connection_lost_on_a_read_answers_503_then_the_next_request_reconnects(world):
    client = client_for(world.owner)
    assert client.get("/api/v1/tickets/").status_code == 200
    lose_the_connection()

    assert_unavailable(client.get("/api/v1/tickets/"))
    assert client.get("/api/v1/tickets/").status_code == 200


def test_connection_lost_in_the_admin_answers_503_with_retry_after(world, client):
    staff = staff_user(world.city, role="coordinator", username="coordinator-admin")
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    lose_the_connection()

    response = client.get("/admin/")

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "数据库暂时不可用，请稍后重试。" in response.content.decode()
    assert client.get("/admin/").status_code == 200
