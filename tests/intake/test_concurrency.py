"""Two staff at once, against PostgreSQL in threads: one batch is confirmed once, and two
crossed merges of the same pair leave exactly one merged ticket."""

import pytest

from intake import services
from intake.models import ImportBatch
from tests.api.test_concurrency import race
from tests.intake.conftest import NOW
from tests.tickets.conftest import make_ticket
from tickets import workflow
from tickets.errors import WorkflowError
from tickets.models import Status, Ticket, TicketEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def outcome(call):
    def run():
        try:
            call()
        except WorkflowError as error:
            return type(error).__name__
        return "ok"

    return run


def test_two_confirms_of_one_batch_create_its_tickets_once(intake_world):
    coordinator = intake_world.world.coordinator_user
    batch = services.preview(intake_world.content, file_name="list.xlsx", user=coordinator, now=NOW)
    second = services.preview(  # the same file previewed twice, both confirmed at once
        intake_world.content, file_name="list (1).xlsx", user=coordinator, now=NOW
    )

    results = race(
        [
            outcome(lambda: services.confirm(batch, user=coordinator, now=NOW)),
            outcome(lambda: services.confirm(batch, user=coordinator, now=NOW)),
            outcome(lambda: services.confirm(second, user=coordinator, now=NOW)),
        ]
    )

    assert sorted(results) == ["ImportRefused", "ImportRefused", "ok"]
    assert ImportBatch.objects.filter(status="confirmed").count() == 1
    assert Ticket.objects.filter(import_batch__isnull=False).count() == 30


def test_crossed_merges_leave_one_survivor(world):
    a = make_ticket(world, Status.IN_PROGRESS)
    b = make_ticket(world, Status.ASSIGNED)
    actor = world.coordinator_user

    results = race(
        [
            outcome(lambda: workflow.merge_ticket(ticket_id=a.pk, into=b.pk, actor=actor, now=NOW)),
            outcome(lambda: workflow.merge_ticket(ticket_id=b.pk, into=a.pk, actor=actor, now=NOW)),
        ]
    )

    assert sorted(results) == ["IllegalTransition", "ok"]
    statuses = sorted(Ticket.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True))
    assert statuses in (["assigned", "merged"], ["in_progress", "merged"])
    assert TicketEvent.objects.filter(action="merge").count() == 1
    assert TicketEvent.objects.filter(action="absorb").count() == 1
