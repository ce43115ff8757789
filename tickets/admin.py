"""The admin: staff follow and act on tickets here. Every change of state goes through
tickets.workflow (the action form on a ticket's page, the bulk actions); the fields the
workflow owns are read-only, and the history cannot be edited or deleted."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.admin_access import MemberViewsCoordinatorEdits, is_member
from tickets import calendar_store, effects, selectors, sla, workflow
from tickets.admin_forms import SubmitOnBehalfForm, TicketActionForm
from tickets.errors import WorkflowError
from tickets.models import (
    CalendarDay,
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
        "overdue_flag",
        "supervised",
    ]
    list_filter = [
        "kind",
        "status",
        "level",
        OverdueFilter,
        "supervised",
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


@admin.register(CalendarDay)
class CalendarDayAdmin(MemberViewsCoordinatorEdits, admin.ModelAdmin):
    list_display = ["date", "weekday", "is_working", "name"]
    list_editable = ["is_working", "name"]
    list_filter = ["is_working"]
    date_hierarchy = "date"
    search_fields = ["name"]
    actions = ["seed_from_holidays"]
    list_per_page = 62

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
    list_display = ["created_at", "key", "subject", "recipients", "sent_at"]
    search_fields = ["key", "subject", "recipients"]
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser
