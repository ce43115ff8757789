"""The admin: scoped lists, the workflow action form, read-only and undeletable history."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from tests.tickets.conftest import make_ticket, new_events
from tickets.models import Status, Ticket, TicketEvent


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw")


def test_changelist_filters_and_search_render_for_a_superuser(world, client, superuser):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    client.force_login(superuser)
    url = reverse("admin:tickets_ticket_changelist")
    for query in (
        "",
        "?status__exact=in_progress",
        "?kind__exact=difficulty",
        "?overdue=yes",
        f"?q={ticket.number}",
        f"?q={world.enterprise.uscc}",
        "?level__exact=district",
    ):
        response = client.get(url + query)
        assert response.status_code == 200, query
    assert ticket.number in client.get(url + f"?q={ticket.number}").content.decode()
    assert ticket.number not in client.get(url + "?status__exact=closed").content.decode()


def test_department_staff_see_only_their_tickets(world, client):
    mine = make_ticket(world, Status.ASSIGNED)
    theirs = make_ticket(world, Status.ASSIGNED, department=world.other_city)
    client.force_login(world.handler)
    page = client.get(reverse("admin:tickets_ticket_changelist"), follow=True).content.decode()
    assert mine.number in page and theirs.number not in page
    page = client.get(reverse("admin:tickets_ticket_changelist") + "?queue=").content.decode()
    assert mine.number in page and theirs.number not in page
    assert client.get(reverse("admin:tickets_ticket_change", args=[theirs.pk])).status_code == 302


def test_the_action_form_calls_the_workflow(world, client):
    ticket = make_ticket(world, Status.ASSIGNED)
    client.force_login(world.handler)
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert "办理操作" in page and 'value="accept"' in page
    act = reverse("admin:tickets_ticket_act", args=[ticket.pk])
    response = client.post(act, {"action": "accept"}, follow=True)
    assert "签收 已完成" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert list(new_events(ticket).values_list("action", "actor")) == [("accept", world.handler.pk)]


def test_the_action_form_reports_refusals_and_changes_nothing(world, client):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    client.force_login(world.handler)
    act = reverse("admin:tickets_ticket_act", args=[ticket.pk])
    response = client.post(act, {"action": "hold", "reason": ""}, follow=True)
    assert "请填写挂起理由" in response.content.decode()
    response = client.post(act, {"action": "resolve", "note": "已办"}, follow=True)
    assert "办理结果" in response.content.decode()
    # An action the status does not allow is not even offered.
    response = client.post(act, {"action": "confirm"}, follow=True)
    assert "操作" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and not new_events(ticket).exists()


def test_staff_register_a_need_on_an_enterprise_behalf(world, client):
    client.force_login(world.coordinator_user)
    response = client.post(
        reverse("admin:tickets_ticket_add"),
        {
            "enterprise": world.enterprise.pk,
            "kind": "difficulty",
            "category": "permit",
            "title": "施工许可办理",
            "description": "走访中企业反映施工许可办理慢。",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.submitted_by, ticket.number) == (
        Status.SUBMITTED,
        world.coordinator_user,
        f"WH-{timezone.localdate(ticket.created_at).year}-000001",  # the year in Shanghai
    )
    assert list(ticket.events.values_list("action", flat=True)) == ["submit"]


def test_events_cannot_be_added_changed_or_deleted_in_the_admin(world, client, superuser):
    ticket = make_ticket(world, Status.ASSIGNED)
    event = TicketEvent.objects.create(
        ticket=ticket, action="route", to_status="assigned", level="district"
    )
    client.force_login(superuser)
    change = reverse("admin:tickets_ticketevent_change", args=[event.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change, {"note": "改写"}).status_code == 403
    assert (
        client.post(
            reverse("admin:tickets_ticketevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert client.get(reverse("admin:tickets_ticketevent_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:tickets_ticket_delete", args=[ticket.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    event.refresh_from_db()
    assert event.note == ""
    # The inline on the ticket page is read-only too.
    ticket_page = client.get(
        reverse("admin:tickets_ticket_change", args=[ticket.pk])
    ).content.decode()
    assert "办理时间线" in ticket_page and "events-0-note" not in ticket_page
