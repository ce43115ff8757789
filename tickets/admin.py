"""The admin: staff follow and act on tickets here. Every change of state goes through
tickets.workflow (the action form on a ticket's page, the bulk actions); the fields the
workflow owns are read-only, and the history cannot be edited or deleted."""

import re
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from enterprises.admin_access import MemberViewsCoordinatorEdits, is_coordinator, is_member
from enterprises.models import Department, Enterprise
from tickets import (
    actions,
    calendar_notice,
    calendar_store,
    effects,
    selectors,
    sla,
    workbench,
    workflow,
)
from tickets.actors import actor_for
from tickets.admin_forms import (
    CalendarYearForm,
    HolidayRangeFormSet,
    SubmitOnBehalfForm,
    TicketActionForm,
    schedule_from_forms,
)
from tickets.categories import label as category_label
from tickets.errors import WorkflowError
from tickets.models import (
    OPEN_STATUSES,
    CalendarDay,
    CalendarYear,
    NotificationLog,
    RoutingRule,
    SlaPolicy,
    Ticket,
    TicketEvent,
)
from weihai.paginator import CappedPaginator

RECOMPUTE_TASK = "tickets.recompute_deadlines"
# WH-2026-000123 (tickets.workflow.next_number).
TICKET_NUMBER = re.compile(r"WH-\d{4}-\d{6}")


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OverdueFilter(admin.SimpleListFilter):
    title = _("超期")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("已超期")), ("soon", _("即将超期")), ("no", _("未超期"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.overdue(now)
        if self.value() == "soon":
            return workbench.due_soon(queryset, now, calendar_store.load_calendar())
        if self.value() == "no":
            return queryset.not_overdue(now)
        return queryset


class QueueFilter(admin.SimpleListFilter):
    """我的待办: open tickets currently assigned to the user's departments. Department staff
    land here (TicketAdmin.changelist_view), most urgent first (TicketAdmin.get_ordering)."""

    title = _("待办")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        if not actor_for(request.user).department_ids:
            return []
        return [("mine", _("本单位待办（最急的在前）"))]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return workbench.queue(request.user, queryset)
        return queryset


class DepartmentFilter(admin.SimpleListFilter):
    """The handling department as one dropdown. A small SimpleListFilter rather than
    django-admin-autocomplete-filter (last released 2021, built on private admin internals):
    a city has about 110 departments, which a <select> holds well; and unlike
    RelatedOnlyFieldListFilter it never runs a DISTINCT over the ticket table."""

    title = _("责任单位")
    parameter_name = "department"
    template = "admin/tickets/filter_select.html"

    def lookups(self, request, model_admin):
        return [
            (str(pk), name)
            for pk, name in Department.objects.filter(is_active=True)
            .order_by("tier", "name")
            .values_list("pk", "name")
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(department_id=int(value))


class TicketActionBar(helpers.ActionForm):
    """The list's action bar, with the department a bulk dispatch sends the tickets to."""

    department = forms.ModelChoiceField(
        label=_("分派至"),
        required=False,
        queryset=Department.objects.filter(is_active=True),
        widget=AutocompleteSelect(Ticket._meta.get_field("department"), admin.site),
    )


# One bulk action handles at most this many tickets: each is its own transaction and event,
# and the page waits for all of them. Larger selections are refused whole (nothing done).
BULK_LIMIT = 200


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "short_title",
        "enterprise",
        "kind_label",
        "status_label",
        "deadline_now",
        "overdue_days",
        "level",
        "department",
    ]
    # One link per row: each costs a resolve() of the preserved filters.
    list_display_links = ["number"]
    list_filter = [
        QueueFilter,
        "status",
        "source",
        OverdueFilter,
        "kind",
        "level",
        DepartmentFilter,
        "supervised",
        "deadlines_provisional",
        "outcome",
    ]
    list_select_related = ["enterprise", "department"]
    search_fields = ["=number", "title", "enterprise__name", "=enterprise__uscc"]
    # No date_hierarchy: its links cost a DISTINCT over the dates of the whole filtered table
    # (1.6 s at 1,000,000 tickets, bench/README.md, Admin).
    ordering = ["-created_at", "-id"]
    actions = ["accept_selected", "dispatch_selected", "recompute_selected"]
    action_form = TicketActionBar
    # At city scale a COUNT(*) of the filtered table per page is the slowest query.
    show_full_result_count = False
    paginator = CappedPaginator
    list_per_page = 50
    change_form_template = "admin/tickets/ticket/change_form.html"
    change_list_template = "admin/tickets/ticket/change_list.html"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "enterprise",
                    "kind",
                    "category_label",
                    "title",
                    "description",
                    "amount",
                    "chain",
                    "source",
                    "work_group",
                    "import_batch",
                ]
            },
        ),
        (
            _("办理"),
            {
                "fields": [
                    "status",
                    "level",
                    "department",
                    "outcome",
                    "outcome_note",
                    "merged_into",
                    "supervised",
                    "supervised_at",
                ]
            },
        ),
        (
            _("时限"),
            {
                "classes": ["collapse"],
                "fields": [
                    "created_at",
                    "assigned_at",
                    "accepted_at",
                    "accept_due_at",
                    "resolve_due_at",
                    "resolved_at",
                    "closed_at",
                    "escalate_at",
                    "sla_stage",
                    "deadlines_provisional",
                    "held_at",
                    "extension_requested_days",
                    "extension_days",
                ],
            },
        ),
        (
            _("统计"),
            {
                "classes": ["collapse"],
                "fields": [
                    "return_count",
                    "reopen_count",
                    "escalation_count",
                    "satisfaction",
                    "satisfaction_note",
                    "rated_at",
                    "submitted_by",
                ],
            },
        ),
    ]
    # Every field on a ticket's page is the workflow's: read-only (the action form changes them).
    readonly_fields = [name for _title, options in fieldsets for name in options["fields"]]

    # --- scoping and permissions -----------------------------------------------------
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.GET.get("queue") == "mine" and actor_for(request.user).department_ids:
            # The queue is what is assigned to the user's departments now: a subset of what
            # they may see by definition (selectors.currently_assigned), found on the
            # (department, status) index without the semi-join on the events.
            return workbench.queue(request.user, queryset)
        return selectors.visible_tickets(request.user, queryset)

    def has_module_permission(self, request):
        return is_member(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_member(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return is_member(request) or super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        # "Change" means acting through the workflow form; the fields themselves are read-only.
        return is_member(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    # --- the list ----------------------------------------------------------------------------
    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and not request.GET and workbench.is_handler_only(request.user):
            # Department staff land on their own queue; "全部" in the filter shows the rest.
            return HttpResponseRedirect(request.path + "?queue=mine")
        # Nine columns and the filters need the width of a 1366-pixel screen: no app sidebar.
        extra_context = {
            "title": _("诉求清单"),
            **(extra_context or {}),
            "is_nav_sidebar_enabled": False,
        }
        return super().changelist_view(request, extra_context)

    def get_ordering(self, request):
        if request.GET.get("queue") == "mine" and actor_for(request.user).department_ids:
            return Ticket.objects.most_overdue_first().query.order_by
        return super().get_ordering(request)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not is_coordinator(request):
            actions.pop("dispatch_selected", None)
            actions.pop("recompute_selected", None)
        if not actor_for(request.user).department_ids and not request.user.is_superuser:
            actions.pop("accept_selected", None)
        return actions

    def get_search_results(self, request, queryset, search_term):
        """A ticket number or a USCC finds by equality on its index; other words search the
        titles and the enterprises' names (the enterprises first, then their tickets)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if TICKET_NUMBER.fullmatch(term.upper()):
            return queryset.filter(number=term.upper()), False
        if len(term) == 18 and term.isalnum():
            return queryset.filter(enterprise__uscc=term.upper()), False
        enterprises = Enterprise.objects.filter(name__icontains=term).values("pk")
        return queryset.filter(Q(title__icontains=term) | Q(enterprise_id__in=enterprises)), False

    @admin.display(description=_("标题"), ordering="title")
    def short_title(self, ticket):
        return Truncator(ticket.title).chars(24)

    @admin.display(description=_("类别"), ordering="kind")
    def kind_label(self, ticket):
        return ticket.get_kind_display()

    @admin.display(description=_("状态"), ordering="status")
    def status_label(self, ticket):
        if ticket.supervised:
            return format_html(
                '{} <span class="supervised-tag" title="{}">{}</span>',
                ticket.get_status_display(),
                _("列入督办"),
                _("督办"),
            )
        return ticket.get_status_display()

    @admin.display(description=_("当前时限"))
    def deadline_now(self, ticket):
        current = workbench.current_deadline(ticket)
        if current is None:
            return "—"
        step, due = current
        text = f"{step} {timezone.localtime(due):%m-%d %H:%M}"
        if ticket.deadlines_provisional:
            return format_html(
                '{} <span class="provisional" title="{}">{}</span>',
                text,
                _("时限落在工作日历尚未确认的年份，暂按法定节假日计算，确认后自动重算。"),
                _("暂定"),
            )
        return text

    @admin.display(description=_("超期（工作日）"))
    def overdue_days(self, ticket):
        late = workbench.how_late(ticket, timezone.now(), calendar_store.load_calendar())
        if late is None:
            return ""
        days = late.working_days if late.working_days is not None else late.days
        return format_html('<strong class="overdue-days" style="color: #ba2121;">{}</strong>', days)

    # --- registering a need (一窗受理) -----------------------------------------------------
    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SubmitOnBehalfForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": SubmitOnBehalfForm.Meta.fields})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    @admin.display(description=_("细类"))
    def category_label(self, ticket):
        return category_label(ticket.kind, ticket.category) or "—"

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing on an existing ticket is edited directly
        data = form.cleaned_data
        ticket, _created = workflow.submit_ticket(
            enterprise=data["enterprise"],
            kind=data["kind"],
            title=data["title"],
            description=data["description"],
            category=data.get("category") or "",
            amount=data.get("amount"),
            chain_id=data["chain"].pk if data.get("chain") else None,
            actor=request.user,
        )
        obj.pk = ticket.pk
        obj.number = ticket.number

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # --- one ticket's page -------------------------------------------------------------------
    def get_urls(self):
        return [
            path(
                "<path:object_id>/act/",
                self.admin_site.admin_view(self.act_view),
                name="tickets_ticket_act",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        ticket = self.get_object(request, object_id)
        if ticket is not None:
            extra_context.update(self._work_context(request, ticket))
        # Every field is the workflow's: no 保存 buttons, the action form does the work.
        extra_context.update(
            title=_("诉求办理"),
            show_save=False,
            show_save_and_continue=False,
            show_save_and_add_another=False,
            show_delete=False,
        )
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        action_form = context.get("action_form")
        if action_form is not None:
            context["media"] = context["media"] + action_form.media
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _work_context(self, request, ticket) -> dict:
        now = timezone.now()
        available = actions.available(request.user, ticket)
        action_form = TicketActionForm(ticket=ticket, user=request.user, specs=available)
        events = ticket.events.select_related("actor", "from_department", "to_department").order_by(
            "created_at", "id"
        )
        enterprise = ticket.enterprise
        others = (
            selectors.visible_tickets(request.user)
            .filter(enterprise_id=enterprise.pk, status__in=OPEN_STATUSES)
            .exclude(pk=ticket.pk)
            .select_related("department")
            .order_by("-created_at", "-id")
        )
        return {
            "action_form": action_form,
            "action_fields": {
                spec.name: [
                    {"name": f.name, "label": str(f.label), "required": f.required}
                    for f in spec.fields
                ]
                for spec in available
            },
            "act_url": reverse("admin:tickets_ticket_act", args=[ticket.pk]),
            "late": workbench.how_late(ticket, now, calendar_store.load_calendar()),
            "timeline": events,
            "enterprise": enterprise,
            "enterprise_url": reverse("admin:enterprises_enterprise_change", args=[enterprise.pk]),
            "other_open": list(others[:OTHER_OPEN_SHOWN]),
            "other_open_more": others.count() > OTHER_OPEN_SHOWN,
            "other_open_url": reverse("admin:tickets_ticket_changelist")
            + "?"
            + urlencode({"q": enterprise.uscc}),
        }

    def act_view(self, request, object_id):
        ticket = get_object_or_404(self.get_queryset(request), pk=object_id)
        back = reverse("admin:tickets_ticket_change", args=[ticket.pk])
        if request.method != "POST":
            return HttpResponseRedirect(back)
        form = TicketActionForm(request.POST, ticket=ticket, user=request.user)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else field
                self.message_user(request, f"{label}：{'；'.join(errors)}", messages.ERROR)
            return HttpResponseRedirect(back)
        try:
            updated = form.call(ticket=ticket, actor=request.user)
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(
                request,
                _("%(number)s：%(action)s 已完成，当前状态“%(status)s”。")
                % {
                    "number": updated.number,
                    "action": TicketEvent.Action(form.cleaned_data["action"]).label,
                    "status": updated.get_status_display(),
                },
                messages.SUCCESS,
            )
        return HttpResponseRedirect(back)

    # --- bulk actions ------------------------------------------------------------------------
    def _bulk(self, request, queryset, spec_name: str, values: dict, done_text, **extra) -> None:
        """Run one registry action on each selected ticket (its own transaction and event) and
        report per ticket: which succeeded, and why each other one did not."""
        spec = actions.ACTIONS[spec_name]
        # Only the two columns: the changelist's select_related must not meet a deferral.
        rows = list(
            queryset.select_related(None)
            .order_by("pk")
            .values_list("pk", "number")[: BULK_LIMIT + 1]
        )
        if len(rows) > BULK_LIMIT:
            self.message_user(
                request,
                _("一次最多处理 %(limit)s 件诉求，请缩小筛选范围后再试；本次未做任何处理。")
                % {"limit": BULK_LIMIT},
                messages.ERROR,
            )
            return
        done, failed = [], []
        for pk, number in rows:
            try:
                actions.perform(spec, ticket_id=pk, actor=request.user, values=values)
            except WorkflowError as error:
                failed.append(f"{number}：{error.message}")
            else:
                done.append(number)
        if done:
            self.message_user(
                request,
                done_text % {**extra, "n": len(done), "numbers": "、".join(done)},
                messages.SUCCESS,
            )
        for message in failed[:FAILURES_SHOWN]:
            self.message_user(request, message, messages.ERROR)
        if len(failed) > FAILURES_SHOWN:
            self.message_user(
                request,
                _("另有 %(n)s 件未能处理。") % {"n": len(failed) - FAILURES_SHOWN},
                messages.ERROR,
            )

    @admin.action(description=_("签收所选诉求"))
    def accept_selected(self, request, queryset):
        self._bulk(request, queryset, "accept", {}, _("已签收 %(n)s 件：%(numbers)s。"))

    @admin.action(description=_("分派所选诉求（先在右侧选择单位）"))
    def dispatch_selected(self, request, queryset):
        # Only the department: the bar's other field (the action) was handled by the admin.
        try:
            department = TicketActionBar.base_fields["department"].clean(
                request.POST.get("department") or None
            )
        except ValidationError:
            department = None
        if department is None:
            self.message_user(request, _("请先选择要分派至的单位。"), messages.ERROR)
            return
        self._bulk(
            request,
            queryset,
            "dispatch",
            {"department": department.pk},
            _("已分派 %(n)s 件至%(department)s：%(numbers)s。"),
            department=department.name,
        )

    @admin.action(description=_("按当前日历和时限规则重算所选诉求的时限"))
    def recompute_selected(self, request, queryset):
        changed = sla.recompute_deadlines(queryset=queryset.select_related(None))
        self.message_user(request, _("已重算，%(n)s 件诉求的时限有变化。") % {"n": changed})


OTHER_OPEN_SHOWN = 10
FAILURES_SHOWN = 20


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "ticket",
        "action",
        "from_status",
        "to_status",
        "to_department",
        "level",
        "actor",
    ]
    list_filter = ["action", "level"]
    list_select_related = ["ticket", "to_department", "actor"]
    # Newest first by primary key: no sort of millions of rows, no extra index to maintain.
    ordering = ["-id"]
    search_fields = ["=ticket__number"]
    show_full_result_count = False
    paginator = CappedPaginator

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if actor_for(request.user).sees_everything:
            return queryset  # no semi-join of 2,000,000 events against every ticket
        visible = selectors.visible_tickets(request.user)
        return queryset.filter(ticket__in=visible.values("pk"))

    def has_view_permission(self, request, obj=None):
        return is_member(request) or super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return is_member(request) or super().has_module_permission(request)


def _recompute_after_commit():
    effects.publish_on_commit(RECOMPUTE_TASK)


@admin.register(CalendarYear)
class CalendarYearAdmin(ReadOnlyAdminMixin, MemberViewsCoordinatorEdits, admin.ModelAdmin):
    """The years of the working calendar, and the page to enter one from the State Council's
    notice (preview as a 12-month calendar, then confirm). Members look; coordinators and
    superusers confirm. Rows are written only by confirming (tickets.calendar_store)."""

    list_display = ["year", "source", "confirmed_at", "confirmed_by", "enter_link"]
    list_select_related = ["confirmed_by"]
    ordering = ["-year"]

    @admin.display(description=_("日历"))
    def enter_link(self, year):
        url = reverse("admin:tickets_calendaryear_enter") + f"?year={year.year}"
        return format_html('<a href="{}">{}</a>', url, _("查看 / 更正"))

    def get_urls(self):
        return [
            path(
                "enter/",
                self.admin_site.admin_view(self.enter_view),
                name="tickets_calendaryear_enter",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "enter_url": reverse("admin:tickets_calendaryear_enter"),
            "unconfirmed": calendar_store.unconfirmed_years(),
        }
        return super().changelist_view(request, extra_context)

    def enter_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        year = _year_param(request)
        can_confirm = is_coordinator(request)
        stored = CalendarYear.objects.filter(year=year).select_related("confirmed_by").first()
        current_days = calendar_store.year_days(year)
        schedule = preview = None
        if request.method == "POST":
            form = CalendarYearForm(request.POST, year=year)
            formset = HolidayRangeFormSet(request.POST, prefix="holidays")
            schedule = schedule_from_forms(form, formset)
            if schedule is not None and request.POST.get("confirm"):
                if not can_confirm:
                    raise PermissionDenied
                confirmation = calendar_store.confirm_year(
                    schedule, source=form.cleaned_data["source"], by=request.user
                )
                self.message_user(request, _confirmed_message(confirmation), messages.SUCCESS)
                return HttpResponseRedirect(request.path + "?" + urlencode({"year": year}))
            if schedule is not None:
                preview = schedule.days()
        else:
            form, formset = _initial_forms(year, stored, current_days)
        days = preview or current_days
        statutory, _workdays = calendar_store.package_holidays(year)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("%(year)s 年工作日历") % {"year": year},
            "year": year,
            "years": _year_choices(year),
            "stored": stored,
            "form": form,
            "formset": formset,
            "schedule": schedule,
            "previewing": preview is not None,
            "months": calendar_notice.month_grid(year, days),
            "counts": schedule.counts() if schedule else _counts(days),
            "changes": _changes(current_days, preview) if preview else [],
            "warnings": schedule.unlisted_statutory(statutory) if schedule else [],
            "provisional_tickets": Ticket.objects.filter(deadlines_provisional=True).count(),
            "can_confirm": can_confirm,
        }
        return TemplateResponse(request, "admin/tickets/calendaryear/enter.html", context)


def _year_param(request) -> int:
    default = calendar_store.unconfirmed_years()
    raw = request.GET.get("year") or request.POST.get("year") or ""
    try:
        year = int(raw)
    except ValueError:
        year = default[0] if default else timezone.localdate().year + 1
    package = calendar_store.package_range()
    return min(max(year, package.start), package.stop - 1)


def _year_choices(year: int) -> list[int]:
    this_year = timezone.localdate().year
    return sorted({*range(this_year - 1, this_year + 3), year})


def _initial_forms(year, stored, current_days):
    """Pre-filled with what was confirmed, or else with the ranges the provisional calendar
    implies (the package's statutory holidays): staff adjust them to the notice."""
    if stored is not None and stored.holidays:
        schedule = calendar_notice.Schedule.from_json(year, stored.holidays, stored.workdays)
    else:
        schedule = calendar_notice.schedule_from_days(year, current_days)
    form = CalendarYearForm(
        year=year,
        initial={
            "source": stored.source
            if stored
            else _("国务院办公厅关于%(year)s年部分节假日安排的通知") % {"year": year},
            "workdays": "、".join(d.isoformat() for d in schedule.workdays),
        },
    )
    formset = HolidayRangeFormSet(
        prefix="holidays",
        initial=[{"name": h.name, "first": h.first, "last": h.last} for h in schedule.holidays],
    )
    return form, formset


def _counts(days) -> dict:
    working = sum(1 for is_working, _name in days.values() if is_working)
    return {
        "working_days": working,
        "rest_days": len(days) - working,
        "workdays": sum(1 for d, (w, _n) in days.items() if w and d.weekday() >= 5),
    }


def _changes(before, after) -> list:
    """The days whose working/rest status the entry changes: [(date, now working?)]."""
    return [(day, after[day][0]) for day in sorted(after) if before[day][0] != after[day][0]]


def _confirmed_message(confirmation) -> str:
    text = _("%(year)s 年工作日历已确认。") % {"year": confirmation.year}
    if confirmation.recomputed:
        text += _("已重算 %(n)s 件暂定时限的诉求。") % {"n": confirmation.recomputed}
    if confirmation.corrected:
        text += _("这是对已确认年份的更正，未办结诉求的时限正在后台重算。")
    return text


@admin.register(CalendarDay)
class CalendarDayAdmin(MemberViewsCoordinatorEdits, admin.ModelAdmin):
    list_display = ["date", "weekday", "is_working", "name"]
    list_editable = ["is_working", "name"]
    list_filter = ["is_working"]
    date_hierarchy = "date"
    search_fields = ["name"]
    actions = ["seed_from_holidays"]
    list_per_page = 62

    def has_add_permission(self, request):
        # A year's days are entered together, from the notice (年度工作日历 → 录入); here
        # single days of a confirmed year are corrected.
        return False

    @admin.display(description=_("星期"))
    def weekday(self, day):
        return "一二三四五六日"[day.date.weekday()]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        calendar_store.invalidate()
        _recompute_after_commit()

    @admin.action(description=_("从 holidays 包补充官方日历（不覆盖已修改的日期）"))
    def seed_from_holidays(self, request, queryset):
        added = calendar_store.seed_from_holidays()
        self.message_user(request, _("已补充：%(added)s") % {"added": added})
        _recompute_after_commit()


@admin.register(SlaPolicy)
class SlaPolicyAdmin(MemberViewsCoordinatorEdits, admin.ModelAdmin):
    list_display = [
        "kind",
        "level",
        "accept_days",
        "resolve_days",
        "return_window_days",
        "max_extension_days",
        "auto_close_days",
    ]
    list_editable = [
        "accept_days",
        "resolve_days",
        "return_window_days",
        "max_extension_days",
        "auto_close_days",
    ]
    list_filter = ["kind", "level"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _recompute_after_commit()


@admin.register(RoutingRule)
class RoutingRuleAdmin(MemberViewsCoordinatorEdits, admin.ModelAdmin):
    list_display = [
        "priority",
        "name",
        "is_active",
        "kind",
        "category",
        "district",
        "chain",
        "min_amount",
        "credit_grades",
        "target",
        "department",
    ]
    list_display_links = ["name"]
    list_editable = ["is_active"]
    list_filter = ["is_active", "kind", "target"]
    list_select_related = ["district", "chain", "department"]
    search_fields = ["name", "category", "department__name"]
    autocomplete_fields = ["district", "chain", "department"]


@admin.register(NotificationLog)
class NotificationLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "key",
        "subject",
        "recipients",
        "claimed_at",
        "attempts",
        "last_error",
        "sent_at",
    ]
    search_fields = ["key", "subject", "recipients"]
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser
