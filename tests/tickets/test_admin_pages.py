"""Every admin page for every role: each registered model's list, change and add page, every
bulk action the role is offered, the start page and the ticket pages in each status. None may
answer 500 (the test client re-raises a view's exception, so a 500 fails loudly here)."""

import datetime as dt

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from knox.models import AuthToken

from reports.models import ReportSnapshot, StatsConfig
from reports.reporting import run_report
from tests.factories import EnterpriseFactory
from tests.tickets.conftest import T0, make_ticket
from tickets.models import NotificationLog, Status, Ticket

ROLES = ["superuser", "coordinator", "handler", "leader"]
ALLOWED = {200, 302, 403}


@pytest.fixture
def clock():
    with time_machine.travel(T0 + dt.timedelta(days=5), tick=False):
        yield


@pytest.fixture
def populated(world, clock):
    """At least one row of every registered model, and a ticket in every status."""
    for status in Status.values:
        make_ticket(world, status)
    make_ticket(world, Status.ASSIGNED, supervised=True)  # overdue by now, under 督办
    EnterpriseFactory(name="第二家企业", district=world.district)
    StatsConfig.load()
    run_report(period_kind="week", now=T0, email=False)
    NotificationLog.objects.create(key="test-key", subject="测试", recipients="a@example.com")
    AuthToken.objects.create(user=world.owner)
    every = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.create(name="sweep", task="tickets.escalate", interval=every)
    get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    return world


def user_for(world, role):
    if role == "superuser":
        return get_user_model().objects.get(username="root")
    return {
        "coordinator": world.coordinator_user,
        "handler": world.handler,
        "leader": world.leader_user,
    }[role]


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("role", ROLES)
def test_no_admin_page_answers_500_for_any_role(populated, client, role):
    user = user_for(populated, role)
    client.force_login(user)
    request = RequestFactory().get("/admin/")
    request.user = user
    seen = []
    for url in ("/admin/", reverse("dashboard"), "/admin/tickets/", "/admin/enterprises/"):
        assert client.get(url).status_code in ALLOWED, url
    for model, model_admin in admin.site._registry.items():
        changelist = _url(model, "changelist")
        response = client.get(changelist)
        assert response.status_code in ALLOWED, changelist
        if role == "superuser":
            assert response.status_code in (200, 302), changelist
        assert client.get(_url(model, "add")).status_code in ALLOWED, model
        objects = list(model._default_manager.order_by("pk")[:1])
        if model is Ticket:
            objects = list(Ticket.objects.order_by("pk"))  # every status
        for obj in objects:
            change = _url(model, "change", obj.pk)
            assert client.get(change).status_code in ALLOWED, change
        if response.status_code != 200 or not objects:
            continue
        for name in model_admin.get_actions(request):
            response = client.post(
                changelist,
                {"action": name, "_selected_action": [objects[0].pk], "index": 0},
            )
            assert response.status_code in (200, 302), (model, name)
            seen.append(name)
    if role == "superuser":
        assert {"accept_selected", "dispatch_selected", "recompute_selected"} <= set(seen)


@pytest.mark.parametrize("role", ROLES)
def test_custom_admin_views_answer_for_every_role(populated, client, role):
    client.force_login(user_for(populated, role))
    ticket = Ticket.objects.filter(status=Status.IN_PROGRESS).first()
    snapshot = ReportSnapshot.objects.first()
    urls = [
        reverse("admin:tickets_ticket_act", args=[ticket.pk]),
        reverse("admin:tickets_calendaryear_enter"),
        reverse("admin:reports_reportsnapshot_generate"),
        reverse("admin:reports_reportsnapshot_download", args=[snapshot.pk, "csv"]),
        reverse("dashboard") + f"?department={populated.local.pk}",
        reverse("dashboard") + "?department=abc",
    ]
    for url in urls:
        assert client.get(url).status_code in {*ALLOWED, 404}, url
    # Bad input to the action form and the report form: a message or a form error, never 500.
    act = reverse("admin:tickets_ticket_act", args=[ticket.pk])
    for data in ({}, {"action": "nonsense"}, {"action": "extend", "days": "x"}):
        assert client.post(act, data).status_code in {302, 404}
    generate = reverse("admin:reports_reportsnapshot_generate")
    for data in ({}, {"period": "custom"}, {"period": "custom", "since": "2026-02-01"}):
        assert client.post(generate, data).status_code in {200, 403}


def test_the_list_filters_answer_with_bad_values(populated, client):
    client.force_login(user_for(populated, "coordinator"))
    url = reverse("admin:tickets_ticket_changelist")
    for query in ("?department=x", "?department=999999", "?overdue=soon", "?queue=mine"):
        assert client.get(url + query).status_code == 200, query


def test_every_foreign_key_widget_is_an_autocomplete_or_raw_id(populated):
    """A city has 100,000 enterprises: no admin form lists a related table in a <select>.
    Celery beat's own pages (superusers only, a handful of schedules) are left as they are."""
    request = RequestFactory().get("/admin/")
    request.user = user_for(populated, "superuser")
    offenders = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label == "django_celery_beat":
            continue
        for obj in (None, model._default_manager.order_by("pk").first()):
            editable = (
                model_admin.has_add_permission(request)
                if obj is None
                else model_admin.has_change_permission(request, obj)
            )
            if not editable:
                continue  # a view-only page shows values, not widgets
            forms = [(model_admin.get_form(request, obj), model_admin, model, None)]
            for inline in model_admin.get_inline_instances(request, obj):
                formset = inline.get_formset(request, obj)
                # The inline's link to its parent is a hidden field, not a widget.
                forms.append((formset.form, inline, inline.model, formset.fk.name))
            for form, owner, form_model, parent in forms:
                offenders += _select_widgets(form, owner, form_model, request, obj, parent)
    assert not offenders, offenders


def _select_widgets(form, owner, model, request, obj, parent) -> list[str]:
    offenders = []
    readonly = {*owner.get_readonly_fields(request, obj), parent}
    for name, field in form.base_fields.items():
        if not hasattr(field, "queryset") or name in readonly:
            continue
        widget = getattr(field.widget, "widget", field.widget)
        kind = type(widget).__name__
        if kind not in {
            "AutocompleteSelect",
            "AutocompleteSelectMultiple",
            "ForeignKeyRawIdWidget",
            "ManyToManyRawIdWidget",
            "FilteredSelectMultiple",  # auth's groups and permissions
        }:
            offenders.append(f"{model.__name__}.{name}: {kind}")
    return offenders
