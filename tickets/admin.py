"""The admin: staff follow and act on tickets here. Every change of state goes through
tickets.workflow (the action form on a ticket's page, the bulk actions); the fields the
workflow owns are read-only, and the history cannot be edited or deleted."""

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from enterprises.admin_access import MemberViewsCoordinatorEdits, is_coordinator, is_member
from tickets import calendar_notice, calendar_store, effects, selectors, sla, workflow
from tickets.admin_forms import (
    CalendarYearForm,
    HolidayRangeFormSet,
    SubmitOnBehalfForm,
    TicketActionForm,
    schedule_from_forms,
)
from tickets.errors import WorkflowError
from tickets.models import (
    CalendarDay,
    CalendarYear,
    NotificationLog,
    RoutingRule,
    SlaPolicy,
    Ticket,
    TicketEvent,
)

RECOMPUTE_TASK = "tickets.recompute_deadlines"


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TicketEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TicketEvent
    verbose_name_plural = _("办理时间线")
    extra = 0
    can_delete = False
    ordering = ["created_at", "id"]
    fields = [
        "created_at",
        "action",
        "from_status",
        "to_status",
        "from_department",
        "to_department",
        "level",
        "actor",
        "note",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("actor", "from_department", "to_department")
        )

    def has_view_permission(self, request, obj=None):
        return is_member(request) or super().has_view_permission(request, obj)


class OverdueFilter(admin.SimpleListFilter):
    title = _("超期")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("已超期")), ("no", _("未超期"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue(timezone.now())
        if self.value() == "no":
            return queryset.not_overdue(timezone.now())
        return queryset


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "title",
        "enterprise",
        "kind",
        "status",
        "level",
        "department",
        "created_at",
        "resolve_due_at",
        "provisional_flag",
        "overdue_flag",
        "supervised",
    ]
    list_filter = [
        "kind",
        "status",
        "level",
        OverdueFilter,
        "supervised",
        "deadlines_provisional",
        ("enterprise__district", admin.RelatedOnlyFieldListFilter),
        ("department", admin.RelatedOnlyFieldListFilter),
        "outcome",
    ]
    list_select_related = ["enterprise", "department"]
    search_fields = ["=number", "title", "enterprise__name", "=enterprise__uscc"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    inlines = [TicketEventInline]
    actions = ["accept_selected", "recompute_selected"]
    # At city scale a COUNT(*) of the filtered table per page is the slowest query.
    show_full_result_count = False
    list_per_page = 50
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "enterprise",
                    "kind",
                    "category",
                    "title",
                    "description",
                    "amount",
                    "chain",
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
                    "supervised",
                    "supervised_at",
                ]
            },
        ),
        (
            _("时限"),
            {
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
                ]
            },
        ),
        (
            _("统计"),
            {
                "fields": [
                    "return_count",
                    "reopen_count",
                    "escalation_count",
                    "satisfaction",
                    "satisfaction_note",
                    "rated_at",
                    "submitted_by",
                ]
            },
        ),
    ]
    # Every field on a ticket's page is the workflow's: read-only (the action form changes them).
    readonly_fields = [name for _title, options in fieldsets for name in options["fields"]]

    # --- scoping and permissions -----------------------------------------------------
    def get_queryset(self, request):
        return selectors.visible_tickets(request.user, super().get_queryset(request))

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

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

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

    # --- acting on one ticket --------------------------------------------------------------
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
            extra_context["action_form"] = TicketActionForm(ticket=ticket, user=request.user)
            extra_context["act_url"] = reverse("admin:tickets_ticket_act", args=[ticket.pk])
        return super().change_view(request, object_id, form_url, extra_context)

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

    # --- list columns and bulk actions ------------------------------------------------------
    @admin.display(description=_("超期"), boolean=True)
    def overdue_flag(self, ticket):
        return ticket.is_overdue()

    @admin.display(description=_("时限暂定"), ordering="deadlines_provisional")
    def provisional_flag(self, ticket):
        if not ticket.deadlines_provisional:
            return ""
        return format_html(
            '<span class="provisional" title="{}">{}</span>',
            _("时限落在工作日历尚未确认的年份，暂按法定节假日计算，确认后自动重算。"),
            _("暂定"),
        )

    @admin.action(description=_("签收所选诉求"))
    def accept_selected(self, request, queryset):
        done, failed = 0, []
        for ticket in queryset.only("pk", "number"):
            try:
                workflow.accept_ticket(ticket_id=ticket.pk, actor=request.user)
                done += 1
            except WorkflowError as error:
                failed.append(f"{ticket.number}：{error.message}")
        if done:
            self.message_user(request, _("已签收 %(n)s 件。") % {"n": done}, messages.SUCCESS)
        for message in failed[:20]:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description=_("按当前日历和时限规则重算所选诉求的时限"))
    def recompute_selected(self, request, queryset):
        changed = sla.recompute_deadlines(queryset=queryset)
        self.message_user(request, _("已重算，%(n)s 件诉求的时限有变化。") % {"n": changed})


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

    def get_queryset(self, request):
        visible = selectors.visible_tickets(request.user)
        return super().get_queryset(request).filter(ticket__in=visible.values("pk"))

    def has_view_permission(self, request, obj=None):
        return is_member(request) or super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return is_member(request) or super().has_module_permission(request)


def _recompute_after_commit():
    effects.publish_on_commit(RECOMPUTE_TASK)


@admin.register(CalendarYear)
class CalendarYearAdmin(MemberViewsCoordinatorEdits, admin.ModelAdmin):
    """The years of the working calendar, and the page to enter one from the State Council's
    notice (preview as a 12-month calendar, then confirm). Members look; coordinators and
    superusers confirm. Rows are written only by confirming (tickets.calendar_store)."""

    list_display = ["year", "source", "confirmed_at", "confirmed_by", "enter_link"]
    list_select_related = ["confirmed_by"]
    ordering = ["-year"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

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
    autocomplete_fields = ["department"]


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
