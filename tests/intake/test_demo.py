"""intake.demo.seed_import_batch: a work group's list in the demo data (source split)."""

import pytest

from intake.demo import seed_import_batch
from intake.models import ImportBatch
from tests.intake.conftest import NOW
from tickets.models import Source, Status, Ticket

pytestmark = pytest.mark.django_db


def test_the_demo_batch_is_imported_and_routed(intake_world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        batch = seed_import_batch(now=NOW, rows=12)

    assert batch.status == ImportBatch.Status.CONFIRMED
    # 12 lines + the first one again + the open ticket reported again
    assert (batch.total_rows, batch.new_rows, batch.duplicate_rows, batch.error_rows) == (
        14,
        9,
        2,
        3,
    )
    assert (batch.created_count, batch.merged_count, batch.skipped_count) == (9, 1, 4)
    created = Ticket.objects.filter(import_batch=batch)
    assert created.count() == 9
    assert set(created.values_list("source", flat=True)) == {Source.WORK_GROUP}
    assert set(created.values_list("work_group", flat=True)) == {"环翠区第3工作组"}
    # Routed at once: nothing waits for a worker.
    assert not created.filter(status=Status.SUBMITTED).exists()
    assert set(created.values_list("status", flat=True)) == {Status.ASSIGNED}
