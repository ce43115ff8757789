"""One rendering of the 提交诉求 form sent by many threads at the same instant (PostgreSQL):
exactly one ticket, and every request lands on it. Likewise one rating, many clicks."""

import pytest
from django.db import connection
from django.test import Client

from tests.api.test_concurrency import race
from tests.portal.conftest import make_ticket
from tickets.models import Status, Ticket, TicketEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_one_form_sent_at_once_by_many_threads_makes_one_ticket(world):
    assert connection.vendor == "postgresql"
    clients = [_client(world.owner) for _ in range(THREADS)]
    body = {
        "idempotency_key": "portal-race-0001",
        "category": "energy",
        "title": "用电增容",
        "description": "新厂房需要增容 2000 千伏安。",
    }

    responses = race([lambda c=c: c.post("/portal/submit/difficulty/", body) for c in clients])

    ticket = Ticket.objects.get()
    assert [r.status_code for r in responses] == [302] * THREADS
    assert {r["Location"] for r in responses} == {f"/portal/tickets/{ticket.pk}/"}
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1


def test_many_rating_clicks_record_one_rating(world):
    ticket = make_ticket(world, Status.RESOLVED)
    clients = [_client(world.owner) for _ in range(THREADS)]

    path = f"/portal/tickets/{ticket.pk}/rate/"
    scores = [str(1 + i % 5) for i in range(THREADS)]
    pairs = zip(clients, scores, strict=True)
    responses = race([lambda c=c, n=n: c.post(path, {"rate-score": n}) for c, n in pairs])

    codes = sorted(r.status_code for r in responses)
    assert codes == [302] + [409] * (THREADS - 1)
    ticket.refresh_from_db()
    assert ticket.satisfaction in range(1, 6)
    assert ticket.events.filter(action="rate").count() == 1
