"""A duplicate merged into another ticket of the enterprise (已合并): the portal shows it with
a link to the surviving ticket, not a 404; the survivor's timeline carries the merged words."""

import pytest

from tests.factories import EnterpriseFactory, enterprise_user
from tests.portal.conftest import make_ticket, signed_in
from tickets import workflow
from tickets.models import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def merged(world):
    survivor = make_ticket(world, Status.IN_PROGRESS, title="用电增容（原诉求）")
    duplicate = make_ticket(world, Status.ASSIGNED, title="再次反映用电增容")
    workflow.merge_ticket(
        ticket_id=duplicate.pk,
        into=survivor.number,
        actor=world.coordinator_user,
        note="内部：与原诉求重复",
    )
    return survivor, duplicate


def test_a_merged_ticket_shows_as_merged_with_a_link_to_the_survivor(world, merged):
    survivor, duplicate = merged
    client = signed_in(world.owner)

    response = client.get(f"/portal/tickets/{duplicate.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="badge badge-merged" id="ticket-status">已合并</span>' in page
    assert 'id="merged-into"' in page
    assert f'href="/portal/tickets/{survivor.pk}/"' in page
    assert f"已合并至 {survivor.number}" in page
    assert "内部：与原诉求重复" not in page and "coordinator" not in page
    assert 'id="action-' not in page  # terminal: nothing left to do

    listed = client.get("/portal/?status=merged").content.decode()
    assert listed.count("data-number=") == 1
    link = f'<a class="merged-into" href="/portal/tickets/{survivor.pk}/">→ {survivor.number}</a>'
    assert link in listed

    kept = client.get(f"/portal/tickets/{survivor.pk}/").content.decode()
    assert "再次反映用电增容" in kept  # the merged request's words, as the enterprise's own
    assert "内部：与原诉求重复" not in kept


def test_another_enterprise_still_gets_404_for_a_merged_ticket(world, merged):
    _survivor, duplicate = merged
    other = enterprise_user(EnterpriseFactory(district=world.district), username="enterprise-b")
    assert signed_in(other).get(f"/portal/tickets/{duplicate.pk}/").status_code == 404
