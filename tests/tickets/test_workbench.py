"""The workbench behind the admin pages: bulk actions with a per-ticket summary, each role's
start page, the list's queue and columns, the ticket page, the site's app list, reports."""

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from reports.models import ReportSnapshot
from tests.tickets.conftest import T0, at, make_ticket, new_events
from tickets import workbench
from tickets.calendar_store import load_calendar
from tickets.models import Status, Ticket

LIST = "/admin/tickets/ticket/"
# Monday 8 June 2026, 10:00: a ticket assigned at T0 (Wednesday 09:00) missed its 签收
# deadline (Thursday 09:00) by two working days and an hour.
NOW = at(2026, 6, 8, 10)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw")


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _bulk(client, action, tickets, **extra):
    return client.post(
        LIST + "?queue=",
        {"action": action, "_selected_action": [t.pk for t in tickets], "index": 0, **extra},
        follow=True,
    )


def test_bulk_accept_reports_each_ticket_and_never_500s(world, client, clock):
    mine = [make_ticket(world, Status.ASSIGNED, now=NOW) for _ in range(2)]
    started = make_ticket(world, Status.IN_PROGRESS, now=NOW)
    client.force_login(world.handler)
    response = _bulk(client, "accept_selected", [*mine, started])
    assert response.status_code == 200
    messages = _messages(response)
    assert messages[0] == f"已签收 2 件：{mine[0].number}、{mine[1].number}。"
    assert len(messages) == 2 and messages[1].startswith(f"{started.number}：")
    assert [t.status for t in Ticket.objects.filter(pk__in=[t.pk for t in mine])] == [
        Status.IN_PROGRESS
    ] * 2
    assert list(new_events(started)) == []


def test_bulk_accept_with_the_list_s_select_related_does_not_fail(world, client, clock):
    """The bug: .only("pk", "number") on the changelist's select_related queryset raised
    FieldError (deferred and traversed) — with "select all" across the filter too."""
    tickets = [make_ticket(world, Status.ASSIGNED, now=NOW) for _ in range(3)]
    client.force_login(world.handler)
    response = client.post(
        LIST + "?queue=mine",
        {
            "action": "accept_selected",
            "select_across": "1",
            "index": 0,
            "_selected_action": [tickets[0].pk],
        },
        follow=True,
    )
    assert response.status_code == 200
    assert _messages(response)[0].startswith("已签收 3 件")


def test_a_bulk_action_over_the_limit_does_nothing_and_says_so(world, client, clock, monkeypatch):
    tickets = [make_ticket(world, Status.ASSIGNED, now=NOW) for _ in range(3)]
    client.force_login(world.handler)
    monkeypatch.setattr("tickets.admin.BULK_LIMIT", 2)
    response = _bulk(client, "accept_selected", tickets)
    assert _messages(response) == [
        "一次最多处理 2 件诉求，请缩小筛选范围后再试；本次未做任何处理。"
    ]
    assert set(Ticket.objects.values_list("status", flat=True)) == {Status.ASSIGNED}


def test_bulk_dispatch_is_for_coordinators_and_needs_a_department(world, client, clock):
    returned = [make_ticket(world, Status.RETURNED, now=NOW) for _ in range(2)]
    client.force_login(world.handler)
    page = client.get(LIST + "?queue=").content.decode()
    assert 'value="accept_selected"' in page and 'value="dispatch_selected"' not in page

    client.force_login(world.coordinator_user)
    response = _bulk(client, "dispatch_selected", returned)
    assert _messages(response) == ["请先选择要分派至的单位。"]
    response = _bulk(client, "dispatch_selected", returned, department=world.other_city.pk)
    assert _messages(response) == [
        f"已分派 2 件至市科学技术局：{returned[0].number}、{returned[1].number}。"
    ]
    assert set(Ticket.objects.values_list("status", "department")) == {
        (Status.ASSIGNED, world.other_city.pk)
    }


def test_bulk_recompute_answers_with_the_changed_count(world, client, clock):
    ticket = make_ticket(world, Status.IN_PROGRESS, now=T0)
    client.force_login(world.coordinator_user)
    response = _bulk(client, "recompute_selected", [ticket])
    assert _messages(response) == ["已重算，0 件诉求的时限有变化。"]


def test_handlers_land_on_their_queue_most_urgent_first(world, client, clock):
    later = make_ticket(world, Status.IN_PROGRESS, now=NOW)
    overdue = make_ticket(world, Status.ASSIGNED, now=T0)
    make_ticket(world, Status.CLOSED, now=T0)  # not in the queue
    make_ticket(world, Status.ASSIGNED, department=world.other_city)  # not theirs
    client.force_login(world.handler)
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"] == LIST + "?queue=mine"
    page = client.get(LIST + "?queue=mine")
    numbers = [t.number for t in page.context["cl"].result_list]
    assert numbers == [overdue.number, later.number]
    html = page.content.decode()
    assert "签收 06-04 09:00" in html and 'class="overdue-days"' in html
    # Coordinators see the city, newest first; no redirect.
    client.force_login(world.coordinator_user)
    assert client.get(LIST).status_code == 200


def test_how_late_counts_started_working_days(world, clock):
    ticket = make_ticket(world, Status.ASSIGNED, now=T0)
    late = workbench.how_late(ticket, NOW, load_calendar())
    assert (late.step, late.working_days, late.days) == ("签收", 3, 5)
    assert workbench.how_late(ticket, T0, load_calendar()) is None


def test_the_department_filter_is_one_select_and_filters(world, client, clock):
    mine = make_ticket(world, Status.ASSIGNED, now=NOW)
    theirs = make_ticket(world, Status.ASSIGNED, now=NOW, department=world.other_city)
    client.force_login(world.coordinator_user)
    page = client.get(LIST).content.decode()
    assert 'id="filter-department"' in page
    listed = client.get(LIST + f"?department={world.other_city.pk}").context["cl"].result_list
    assert [t.pk for t in listed] == [theirs.pk] and mine.pk != theirs.pk


def test_search_by_number_uscc_or_words(world, client, clock):
    one = make_ticket(world, Status.ASSIGNED, now=NOW, title="用电增容")
    make_ticket(world, Status.ASSIGNED, now=NOW, title="环评审批")
    client.force_login(world.coordinator_user)

    def found(term):
        return [t.pk for t in client.get(LIST, {"q": term}).context["cl"].result_list]

    assert found(one.number.lower()) == [one.pk]
    assert len(found(world.enterprise.uscc)) == 2
    assert found("增容") == [one.pk]
    assert len(found(world.enterprise.name[:4])) == 2


def test_the_handler_start_page_counts_and_links(world, client, clock):
    make_ticket(world, Status.ASSIGNED, now=T0)  # overdue
    make_ticket(world, Status.ASSIGNED, now=NOW)  # due tomorrow 10:00: due soon
    make_ticket(world, Status.IN_PROGRESS, now=NOW)
    client.force_login(world.handler)
    page = client.get("/admin/")
    counts = {c.key: c.count for c in page.context["start"]["sections"][0]["counts"]}
    assert counts == {
        "assigned": 2,
        "in_progress": 1,
        "due_soon": 1,
        "overdue": 1,
        "returned": 0,
    }
    html = page.content.decode()
    assert "?queue=mine&amp;overdue=yes" in html and "?queue=mine&amp;overdue=soon" in html


def test_the_coordinator_start_page_shows_returned_and_city_overdue(world, client, clock):
    make_ticket(world, Status.RETURNED, now=NOW)
    make_ticket(world, Status.ASSIGNED, now=T0, department=world.other_city)  # overdue
    client.force_login(world.coordinator_user)
    sections = client.get("/admin/").context["start"]["sections"]
    assert [s["title"] for s in sections] == ["全市统筹"]
    counts = {c.key: c.count for c in sections[0]["counts"]}
    assert counts["returned"] == 1 and counts["overdue"] == 1


def test_a_leader_starts_on_the_dashboard(world, client):
    client.force_login(world.leader_user)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")


def test_the_app_list_puts_tickets_first_and_hides_celery(world, client, superuser):
    client.force_login(world.coordinator_user)
    apps = client.get("/admin/").context["app_list"]
    assert apps[0]["app_label"] == "tickets"
    assert not {"django_celery_beat", "axes"} & {a["app_label"] for a in apps}
    tokens = next(a for a in apps if a["app_label"] == "knox")
    assert tokens["name"] == "接口令牌" and tokens["models"][0]["name"] == "接口令牌"
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 403

    client.force_login(superuser)
    apps = client.get("/admin/").context["app_list"]
    beat = next(a for a in apps if a["app_label"] == "django_celery_beat")
    assert beat["name"] == "定时任务（系统）" and apps[-1] is beat
    assert apps[-2]["name"] == "登录保护（系统）"
    assert client.get("/admin/").context["site_url"] == reverse("dashboard")


def test_the_ticket_page_for_someone_at_work(world, client, clock):
    world.enterprise.contact_name = "王经理"
    world.enterprise.save(update_fields=["contact_name"])
    ticket = make_ticket(world, Status.ASSIGNED, now=T0, category="finance_policy")
    other = make_ticket(world, Status.IN_PROGRESS, now=NOW, title="另一件")
    make_ticket(world, Status.CLOSED, now=NOW, title="已关闭的那件")
    client.force_login(world.handler)
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert "已超期：签收时限 2026-06-04 09:00 已过 3 个工作日。" in page
    assert "尚未列入督办。" in page
    assert "政策兑现与财政补助" in page and "finance_policy" not in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert "王经理" in page and other.number in page and "已关闭的那件" not in page
    # The action form is its own <form>, before the admin's, never inside it.
    assert page.index('id="ticket-action-form"') < page.index('id="ticket_form"')
    assert page.index("</form>", page.index('id="ticket-action-form"')) < page.index(
        'id="ticket_form"'
    )


def test_accept_keeps_its_note_and_the_timeline_shows_it(world, client, clock):
    ticket = make_ticket(world, Status.ASSIGNED, now=NOW)
    client.force_login(world.handler)
    act = reverse("admin:tickets_ticket_act", args=[ticket.pk])
    response = client.post(act, {"action": "accept", "note": "明日现场勘查"}, follow=True)
    assert "签收 已完成" in response.content.decode()
    assert "明日现场勘查" in response.content.decode()
    assert list(new_events(ticket).values_list("action", "note")) == [("accept", "明日现场勘查")]


def test_a_coordinator_generates_a_report_now(world, client, clock):
    make_ticket(world, Status.CLOSED, now=T0)
    world.leader.email = "leader@example.com"
    world.leader.save(update_fields=["email"])
    client.force_login(world.coordinator_user)
    page = client.get(reverse("admin:reports_reportsnapshot_changelist")).content.decode()
    assert 'id="generate-report"' in page
    url = reverse("admin:reports_reportsnapshot_generate")
    response = client.post(url, {"period": "custom", "since": "2026-06-10", "until": "2026-06-01"})
    assert response.status_code == 200 and "截止日期不能早于起始日期" in response.content.decode()
    response = client.post(url, {"period": "week", "email": "on"}, follow=True)
    snapshot = ReportSnapshot.objects.get()
    assert (snapshot.period_kind, str(snapshot.period_start)) == ("week", "2026-06-01")
    assert len(mail.outbox) == 1
    html = response.content.decode()
    assert "已生成" in html and "已发送邮件" in html and "<li>leader@example.com</li>" in html
    # The same week again: not built or sent twice.
    response = client.post(url, {"period": "week", "email": "on"}, follow=True)
    assert "此前已生成" in response.content.decode() and len(mail.outbox) == 1
    response = client.post(
        url, {"period": "custom", "since": "2026-06-01", "until": "2026-06-07"}, follow=True
    )
    assert ReportSnapshot.objects.filter(period_kind="custom").count() == 1


def test_handlers_and_leaders_cannot_generate_reports(world, client):
    url = reverse("admin:reports_reportsnapshot_generate")
    for user in (world.handler, world.leader_user):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"period": "week"}).status_code == 403
    assert not ReportSnapshot.objects.exists()


def test_the_department_page_links_its_tickets_and_statistics(world, client, clock):
    make_ticket(world, Status.ASSIGNED, now=NOW, department=world.other_city)
    client.force_login(world.coordinator_user)
    page = client.get(
        reverse("admin:enterprises_department_change", args=[world.other_city.pk])
    ).content.decode()
    tickets = f"{LIST}?department={world.other_city.pk}"
    stats = f"{reverse('dashboard')}?department={world.other_city.pk}"
    assert tickets in page and stats in page
    dashboard = client.get(stats)
    assert dashboard.status_code == 200 and dashboard.context["scope"] == "市科学技术局"


def test_the_language_switch_turns_the_admin_english(world, client, clock):
    client.force_login(world.handler)
    page = client.get("/admin/").content.decode()
    assert 'id="language-switch"' in page and 'action="/i18n/setlang/"' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    page = client.get("/admin/").content.decode()
    assert "To accept" in page and "Overdue in" not in page and "本单位待办" not in page
