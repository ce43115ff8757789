"""Merging a duplicate into another ticket of the same enterprise (已合并): both timelines show
it, the duplicate is terminal and not taken in, and its enterprise can still read it."""

import datetime as dt

import pytest
import time_machine

from reports.periods import Period
from reports.stats import Options, breakdowns
from tests.api.conftest import client_for
from tests.factories import EnterpriseFactory
from tests.tickets.conftest import T0, make_ticket, new_events
from tickets import actions, workflow
from tickets.errors import IllegalTransition, InvalidInput, NotPermitted
from tickets.models import Status, Ticket, TicketEvent

NOW = T0 + dt.timedelta(hours=2)


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def pair(world):
    survivor = make_ticket(world, Status.IN_PROGRESS, title="新厂房用电增容")
    duplicate = make_ticket(
        world,
        Status.ASSIGNED,
        title="用电增容（工作组走访）",
        description="厂房扩建需增容800千伏安。",
    )
    return survivor, duplicate


def test_merge_closes_the_duplicate_and_records_both_sides(world, pair):
    survivor, duplicate = pair

    result = workflow.merge_ticket(
        ticket_id=duplicate.pk, into=survivor.number, actor=world.coordinator_user, now=NOW
    )

    duplicate.refresh_from_db()
    assert result.status == duplicate.status == Status.MERGED
    assert duplicate.merged_into_id == survivor.pk
    assert duplicate.closed_at == NOW
    assert duplicate.escalate_at is None
    (merge,) = new_events(duplicate)
    assert (merge.action, merge.from_status, merge.to_status) == ("merge", "assigned", "merged")
    assert survivor.number in merge.reply
    (absorb,) = new_events(survivor)
    assert absorb.action == TicketEvent.Action.ABSORB
    assert absorb.from_status == absorb.to_status == Status.IN_PROGRESS
    assert absorb.reply == (
        f"并入诉求 {duplicate.number}：用电增容（工作组走访）\n厂房扩建需增容800千伏安。"
    )
    survivor.refresh_from_db()
    assert survivor.status == Status.IN_PROGRESS
    assert survivor.updated_at == NOW


def test_merge_accepts_the_survivors_id(world, pair):
    survivor, duplicate = pair
    workflow.merge_ticket(
        ticket_id=duplicate.pk, into=str(survivor.pk), actor=world.coordinator_user, now=NOW
    )
    assert Ticket.objects.get(pk=duplicate.pk).merged_into_id == survivor.pk


def test_stats_count_the_merged_request_once(world, pair):
    survivor, duplicate = pair
    options = Options()
    before = breakdowns(Ticket.objects.all(), ["kind"], period=Period(), now=NOW, options=options)
    assert before["kind"].overall.taken_in == 2

    workflow.merge_ticket(
        ticket_id=duplicate.pk, into=survivor.number, actor=world.coordinator_user, now=NOW
    )

    after = breakdowns(Ticket.objects.all(), ["kind"], period=Period(), now=NOW, options=options)
    assert after["kind"].overall.taken_in == 1
    assert not Ticket.objects.get(pk=duplicate.pk).is_open


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("self", InvalidInput, "不能把诉求合并到它自己。"),
        ("other_enterprise", InvalidInput, "只能合并同一企业的诉求。"),
        ("closed_survivor", IllegalTransition, "当前状态为“已关闭”，不能再并入其他诉求。"),
        ("unknown", InvalidInput, "诉求“WH-2026-999999”不存在。"),
        ("handler", NotPermitted, "只有统筹协调单位（市企业服务中心）可以合并诉求。"),
    ],
)
def test_a_refused_merge_changes_nothing(world, pair, case, error, message):
    survivor, duplicate = pair
    actor = world.coordinator_user
    into = survivor.number
    if case == "self":
        into = duplicate.number
    elif case == "other_enterprise":
        other = make_ticket(world, Status.IN_PROGRESS, enterprise=EnterpriseFactory())
        into = other.number
    elif case == "closed_survivor":
        into = make_ticket(world, Status.CLOSED).number
    elif case == "unknown":
        into = "WH-2026-999999"
    elif case == "handler":
        actor = world.handler
    rows_before = list(Ticket.objects.order_by("pk").values())
    events_before = TicketEvent.objects.count()

    with pytest.raises(error) as refused:
        workflow.merge_ticket(ticket_id=duplicate.pk, into=into, actor=actor, now=NOW)

    assert message in refused.value.message
    assert list(Ticket.objects.order_by("pk").values()) == rows_before
    assert TicketEvent.objects.count() == events_before


def test_a_merged_ticket_cannot_be_merged_again_nor_receive_a_merge(world, pair):
    survivor, duplicate = pair
    workflow.merge_ticket(
        ticket_id=duplicate.pk, into=survivor.number, actor=world.coordinator_user, now=NOW
    )
    third = make_ticket(world, Status.ASSIGNED)
    with pytest.raises(IllegalTransition):
        workflow.merge_ticket(
            ticket_id=duplicate.pk, into=third.number, actor=world.coordinator_user, now=NOW
        )
    with pytest.raises(IllegalTransition):
        workflow.merge_ticket(
            ticket_id=third.pk, into=duplicate.number, actor=world.coordinator_user, now=NOW
        )


def test_the_merge_action_is_offered_to_coordinators_only(world, pair):
    _survivor, duplicate = pair
    assert "merge" in {s.name for s in actions.available(world.coordinator_user, duplicate)}
    assert "merge" not in {s.name for s in actions.available(world.handler, duplicate)}
    assert "merge" not in {s.name for s in actions.available(world.owner, duplicate)}


def test_the_enterprise_reads_its_merged_ticket_with_a_link_to_the_survivor(world, pair):
    survivor, duplicate = pair
    coordinator = client_for(world.coordinator_user)
    merged = coordinator.post(
        f"/api/v1/tickets/{duplicate.pk}/merge/", {"into": survivor.number, "note": "重复报送"}
    )
    assert merged.status_code == 200, merged.json()

    response = client_for(world.owner).get(f"/api/v1/tickets/{duplicate.pk}/")

    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "merged"
    assert data["merged_into"] == {
        "id": survivor.pk,
        "number": survivor.number,
        "url": f"/api/v1/tickets/{survivor.pk}/",
    }
    last = data["events"][-1]
    assert last["action"] == "merge"
    assert last["note"] is None  # the coordinator's note stays internal
    assert survivor.number in last["reply"]
    kept = client_for(world.owner).get(data["merged_into"]["url"]).json()
    assert kept["events"][-1]["action"] == "absorb"
    assert duplicate.number in kept["events"][-1]["reply"]
    listed = client_for(world.owner).get("/api/v1/tickets/").json()
    assert {row["id"]: row["status"] for row in listed["results"]}[duplicate.pk] == "merged"


def test_the_admin_action_form_merges(world, pair, client):
    survivor, duplicate = pair
    world.coordinator_user.is_staff = True
    world.coordinator_user.save(update_fields=["is_staff"])
    client.force_login(world.coordinator_user)

    page = client.get(f"/admin/tickets/ticket/{duplicate.pk}/change/")
    assert page.status_code == 200
    assert 'value="merge"' in page.content.decode()

    client.post(
        f"/admin/tickets/ticket/{duplicate.pk}/act/", {"action": "merge", "into": survivor.number}
    )

    duplicate.refresh_from_db()
    assert duplicate.status == Status.MERGED
    assert duplicate.merged_into_id == survivor.pk
