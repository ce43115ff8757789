"""A merged ticket in the portal: its enterprise still opens it (not 404), sees it merged
with a link to the ticket it joined, and reads its words on that ticket's timeline."""

import pytest

from tests.portal.conftest import NOW, make_ticket, signed_in
from tickets import workflow
from tickets.models import Status

pytestmark = pytest.mark.django_db


def test_the_enterprise_sees_its_merged_ticket_with_a_link(world):
    survivor = make_ticket(world, Status.IN_PROGRESS, title="新厂房用电增容")
    duplicate = make_ticket(
        world, Status.ASSIGNED, title="用电增容（再次反映）", description="厂房扩建需增容。"
    )
    workflow.merge_ticket(
        ticket_id=duplicate.pk, into=survivor.number, actor=world.coordinator_user, now=NOW
    )
    client = signed_in(world.owner)

    response = client.get(f"/portal/tickets/{duplicate.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="ticket-status">已合并<' in page
    assert f'<a href="/portal/tickets/{survivor.pk}/">{survivor.number}</a>' in page
    assert 'id="action-withdraw"' not in page  # terminal: nothing left to do on it
    kept = client.get(f"/portal/tickets/{survivor.pk}/").content.decode()
    assert "厂房扩建需增容。" in kept and duplicate.number in kept
    listed = client.get("/portal/").content.decode()
    assert duplicate.number in listed and "已合并" in listed
