"""The hand-written JSON (api.presenters) is exactly what the documented serializers give."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from api import presenters
from api.serializers import TicketDetailSerializer, TicketSerializer
from api.views import _detail_queryset
from tests.api.conftest import NOW, make_ticket
from tickets.models import Status, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", Status.values)
def test_presenters_match_the_serializers(world, status):
    ticket = make_ticket(
        world,
        status,
        kind="funding",
        amount=Decimal("300.5"),
        chain=world.chain,
        satisfaction=4 if status == Status.CLOSED else None,
        supervised=status == Status.IN_PROGRESS,
        accept_due_at=NOW - dt.timedelta(hours=1) if status == Status.ASSIGNED else None,
    )
    TicketEvent.objects.create(
        ticket=ticket,
        action="submit",
        to_status="submitted",
        level="district",
        actor=world.owner,
        created_at=NOW - dt.timedelta(days=1),
    )
    TicketEvent.objects.create(
        ticket=ticket,
        action="route",
        from_status="submitted",
        to_status="assigned",
        to_department=world.local,
        level="district",
        note="按规则",
        created_at=NOW,
    )
    loaded = _detail_queryset().get(pk=ticket.pk)
    context = {"now": NOW}

    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert (
                presenters.ticket_row(loaded, NOW) == TicketSerializer(loaded, context=context).data
            )
            assert (
                presenters.ticket_detail(loaded, NOW)
                == TicketDetailSerializer(loaded, context=context).data
            )


def test_instants_render_in_beijing_time_like_drf(world):
    assert presenters.instant(dt.datetime(2026, 6, 3, 1, 2, 3, 456, tzinfo=dt.UTC)) == (
        "2026-06-03T09:02:03.000456+08:00"
    )
    assert presenters.instant(None) is None


def test_a_list_row_reads_only_the_selected_columns(world, django_assert_num_queries):
    from tickets.models import Ticket

    make_ticket(world, Status.IN_PROGRESS, amount=None)
    row = (
        Ticket.objects.select_related("department", "enterprise")
        .only(*presenters.ROW_COLUMNS)
        .get()
    )

    with django_assert_num_queries(0):
        presenters.ticket_row(row, NOW)
