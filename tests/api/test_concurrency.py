"""Concurrent requests against PostgreSQL, through the full HTTP stack in threads."""

import threading

import pytest
from django.db import connection

from tests.api.conftest import client_for, make_ticket, token_for
from tests.tickets.conftest import new_events
from tickets.models import Status, Ticket, TicketEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def race(requests) -> list:
    """Run the callables at the same instant, one thread each; return their responses."""
    barrier = threading.Barrier(len(requests))
    responses = [None] * len(requests)
    errors = []

    def run(index, request):
        try:
            barrier.wait()
            responses[index] = request()
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, request))
        for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return responses


def test_concurrent_submissions_with_one_idempotency_key_create_one_ticket(world):
    assert connection.vendor == "postgresql"
    token = token_for(world.owner)
    body = {"kind": "difficulty", "title": "用电增容", "description": "需要增容。"}

    def submit():
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client.post("/api/v1/tickets/", body, HTTP_IDEMPOTENCY_KEY="order-2026-0001")

    responses = race([submit] * THREADS)

    ticket = Ticket.objects.get()
    assert sorted(r.status_code for r in responses) == [200] * (THREADS - 1) + [201]
    assert {r.json()["id"] for r in responses} == {ticket.pk}
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1


def test_concurrent_resolves_of_one_ticket_let_exactly_one_win(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    clients = [client_for(world.handler) for _ in range(THREADS)]

    def resolver(client):
        return lambda: client.post(
            f"/api/v1/tickets/{ticket.pk}/resolve/", {"outcome": "solved", "reply": "已解决"}
        )

    responses = race([resolver(client) for client in clients])

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * (THREADS - 1)
    losers = [r.json() for r in responses if r.status_code == 409]
    assert {body["code"] for body in losers} == {"illegal_transition"}
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert list(new_events(ticket).values_list("action", flat=True)) == ["resolve"]
