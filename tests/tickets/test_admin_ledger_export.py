"""The ticket list in the admin exports the 台账 with the current filters."""

import io

from django.urls import reverse
from openpyxl import load_workbook

from tests.tickets.conftest import make_ticket
from tickets.models import Status


def test_select_all_with_a_filter_exports_exactly_the_filtered_tickets(world, client):
    in_progress = [make_ticket(world, Status.IN_PROGRESS) for _ in range(3)]
    make_ticket(world, Status.CLOSED)
    make_ticket(world, Status.ASSIGNED, department=world.other_city)  # not visible to them
    client.force_login(world.handler)
    url = reverse("admin:tickets_ticket_changelist") + "?status__exact=in_progress"
    response = client.post(
        url,
        {
            "action": "export_ledger",
            "select_across": "1",
            "index": "0",
            "_selected_action": [str(in_progress[0].pk)],
        },
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(numbers) == sorted(t.number for t in in_progress)
