"""Endpoints for bench/api.py only, routed when settings.API_BENCH_ENDPOINTS is on.

- baseline: one INSERT into a scratch table (bench/api.py creates it), nothing else;
- floor: the least a submission must do in this architecture — look the token up, write the
  number, the ticket and its event, publish the routing task — with no validation, no DRF,
  no presentation. What the real endpoint costs above it is the API's own work.
"""

import json
from hmac import compare_digest

from django.db import connection
from django.http import HttpResponseNotAllowed, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from knox.crypto import hash_token
from knox.settings import CONSTANTS

from api.token_lookup import tokens_for_key
from tickets import effects, inserts
from tickets.models import Status, Ticket, TicketEvent

TABLE = "api_bench_baseline"


@csrf_exempt
def baseline(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (created_at, body) VALUES (now(), %s) RETURNING id",
            [request.body[:1000].decode("utf-8", "replace")],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


@csrf_exempt
def floor(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    token = request.headers.get("Authorization", "").removeprefix("Token ")
    digest = hash_token(token)
    found = [
        t
        for t, _ in tokens_for_key(token[: CONSTANTS.TOKEN_KEY_LENGTH])
        if compare_digest(digest, t.digest)
    ]
    if not found:
        return JsonResponse({"detail": "token"}, status=401)
    user = found[0].user
    body = json.loads(request.body)
    now = timezone.now()
    ticket = Ticket(
        enterprise_id=user.enterprise_account.enterprise_id,
        kind=body["kind"],
        title=body["title"],
        description=body["description"],
        category=body.get("category", ""),
        status=Status.SUBMITTED,
        created_at=now,
        updated_at=now,
        submitted_by=user,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    event = TicketEvent(
        ticket=ticket,
        actor=user,
        action=TicketEvent.Action.SUBMIT,
        to_status=Status.SUBMITTED,
        level=ticket.level,
        created_at=now,
    )
    inserts.insert_new_ticket(ticket, event)
    effects.send_now(effects.ROUTE_TICKET, ticket.pk)
    return JsonResponse({"id": ticket.pk, "number": ticket.number}, status=201)
