"""Over a real HTTP server (live_server), for what Django's test client cannot send: a chunked
request body (Transfer-Encoding: chunked, no Content-Length)."""

import http.client
import json
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import make_ticket, token_for
from tests.tickets.conftest import new_events
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _chunked_post(url: str, path: str, token: str, body: dict) -> tuple[int, dict, dict]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Authorization", f"Token {token}")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        connection.send(f"{len(raw):x}\r\n".encode() + raw + b"\r\n0\r\n\r\n")
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


def test_a_chunked_withdrawal_is_refused_with_411_not_done_without_its_reason(world, live_server):
    ticket = make_ticket(world, Status.ASSIGNED)

    status, headers, body = _chunked_post(
        live_server.url,
        f"/api/v1/tickets/{ticket.pk}/withdraw/",
        token_for(world.owner),
        {"reason": "已自行解决"},
    )

    assert status == 411
    assert headers["Content-Type"] == "application/json"
    assert body == {
        "detail": (
            "请求体须带 Content-Length 请求头；不支持分块传输（Transfer-Encoding: chunked）。"
        ),
        "code": "length_required",
        "field": None,
    }
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED
    assert not new_events(ticket).exists()


def test_a_chunked_submission_is_refused_with_411_not_a_misleading_400(world, live_server):
    status, _headers, body = _chunked_post(
        live_server.url,
        "/api/v1/tickets/",
        token_for(world.owner),
        {"kind": "difficulty", "title": "增容", "description": "新厂房用电增容。"},
    )

    assert (status, body["code"]) == (411, "length_required")
    assert Ticket.objects.count() == 0
