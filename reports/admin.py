import io

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from enterprises.admin_access import MemberViewsCoordinatorEdits, is_coordinator
from reports.models import ReportSnapshot, StatsConfig
from reports.periods import EARLIEST_DATE, LATEST_DATE, Period
from tickets.actors import actor_for
from tickets.admin import ReadOnlyAdminMixin
from tickets.models import Status


class StatsConfigForm(forms.ModelForm):
    taken_in_excludes = forms.MultipleChoiceField(
        label=_("不计入受理的状态"),
        choices=Status.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("这些状态的诉求不计入受理量，也不计入任何比率（默认：已撤回）。"),
    )

    class Meta:
        model = StatsConfig
        fields = [
            "target",
            "count_basically_solved",
            "taken_in_excludes",
            "satisfied_min_score",
            "ranking_min_taken_in",
        ]


@admin.register(StatsConfig)
class StatsConfigAdmin(MemberViewsCoordinatorEdits, admin.ModelAdmin):
    """One row: the list page goes straight to it. Members see it, coordinators change it."""

    form = StatsConfigForm
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        config = StatsConfig.load()
        return HttpResponseRedirect(reverse("admin:reports_statsconfig_change", args=[config.pk]))


def _sees_city(request) -> bool:
    return actor_for(request.user).sees_everything and request.user.is_staff


class GenerateReportForm(forms.Form):
    """立即生成: the last complete week or month, or a custom range (both dates)."""

    period = forms.ChoiceField(
        label=_("期间"),
        choices=[
            ("week", _("上一个完整周（周一至周日）")),
            ("month", _("上一个完整月")),
            ("custom", _("自定义期间")),
        ],
        initial="week",
        widget=forms.RadioSelect,
    )
    since = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    email = forms.BooleanField(
        label=_("生成后发送邮件给领导"),
        required=False,
        initial=False,
        help_text=_("每期报告只发送一次；已发送过的不会重发。"),
    )

    def clean(self):
        data = super().clean()
        if data.get("period") != "custom":
            return data
        since, until = data.get("since"), data.get("until")
        if not since or not until:
            raise forms.ValidationError(_("自定义期间须填写起始日期和截止日期。"))
        for value in (since, until):
            if not EARLIEST_DATE <= value <= LATEST_DATE:
                raise forms.ValidationError(_("日期应在 2000-01-01 至 2099-12-31 之间。"))
        if since > until:
            raise forms.ValidationError(_("截止日期不能早于起始日期。"))
        return data


@admin.register(ReportSnapshot)
class ReportSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Past reports stay as they were sent: read-only, never deleted from here. They cover
    the whole city, so coordinators, leaders and superusers see them (or a model permission)."""

    list_display = [
        "__str__",
        "headline",
        "created_at",
        "emailed_at",
        "downloads",
    ]
    list_filter = ["period_kind"]
    date_hierarchy = "period_start"
    fields = [
        "period_kind",
        "period_start",
        "period_end",
        "as_of",
        "created_at",
        "headline",
        "summary",
        "recipient_list",
        "emailed_at",
        "downloads",
    ]
    readonly_fields = fields
    change_list_template = "admin/reports/reportsnapshot/change_list.html"

    def get_queryset(self, request):
        # The files are large; the list never needs them.
        return super().get_queryset(request).defer("xlsx", "csv", "figures")

    def has_module_permission(self, request):
        return _sees_city(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return _sees_city(request) or super().has_view_permission(request, obj)

    @admin.display(description=_("三率"))
    def summary(self, obj):
        return ReportSnapshot.objects.values_list("figures__summary", flat=True).get(pk=obj.pk)

    @admin.display(description=_("收件人"))
    def recipient_list(self, obj):
        recipients = obj.recipients if isinstance(obj.recipients, list) else []
        if not recipients:
            return _("（尚未发送）")
        return format_html(
            "<ul style='margin: 0; padding-left: 1.2em;'>{}</ul>",
            format_html_join("", "<li>{}</li>", ((r,) for r in recipients)),
        )

    @admin.display(description=_("下载"))
    def downloads(self, obj):
        return format_html(
            '<a href="{}">XLSX</a> · <a href="{}">CSV</a>',
            reverse("admin:reports_reportsnapshot_download", args=[obj.pk, "xlsx"]),
            reverse("admin:reports_reportsnapshot_download", args=[obj.pk, "csv"]),
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_generate": is_coordinator(request),
            "generate_url": reverse("admin:reports_reportsnapshot_generate"),
        }
        return super().changelist_view(request, extra_context)

    def generate_view(self, request):
        """立即生成: build the chosen period's report now (reports.reporting.run_report, the
        code the schedule runs), optionally email it, and open it."""
        if not is_coordinator(request):
            raise PermissionDenied
        from reports.reporting import run_report

        form = GenerateReportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            now = timezone.now()
            if data["period"] == "custom":
                run = run_report(
                    now=now, period=Period(data["since"], data["until"]), email=data["email"]
                )
            else:
                run = run_report(period_kind=data["period"], now=now, email=data["email"])
            snapshot = run.snapshot
            if run.created:
                text = _("已生成“%(title)s”：%(headline)s") % {
                    "title": snapshot.title,
                    "headline": snapshot.headline,
                }
            else:
                text = _("“%(title)s”此前已生成，未重复生成。") % {"title": snapshot.title}
            if run.sent:
                text += " " + str(_("已发送邮件。"))
            self.message_user(request, text, messages.SUCCESS)
            return HttpResponseRedirect(
                reverse("admin:reports_reportsnapshot_change", args=[snapshot.pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("立即生成报表"),
            "form": form,
        }
        return TemplateResponse(request, "admin/reports/reportsnapshot/generate.html", context)

    def get_urls(self):
        return [
            path(
                "generate/",
                self.admin_site.admin_view(self.generate_view),
                name="reports_reportsnapshot_generate",
            ),
            path(
                "<int:pk>/download.<str:fmt>",
                self.admin_site.admin_view(self.download_view),
                name="reports_reportsnapshot_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk, fmt):
        if fmt not in ("xlsx", "csv") or not self.has_view_permission(request):
            raise Http404
        row = ReportSnapshot.objects.filter(pk=pk).values(
            "period_kind", "period_start", "period_end", fmt
        )
        row = row.first()
        if row is None:
            raise Http404
        snapshot = ReportSnapshot(
            period_kind=row["period_kind"],
            period_start=row["period_start"],
            period_end=row["period_end"],
        )
        content_type = {
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "csv": "text/csv; charset=utf-8",
        }[fmt]
        return FileResponse(
            io.BytesIO(bytes(row[fmt])),
            as_attachment=True,
            filename=f"{snapshot.title}.{fmt}",
            content_type=content_type,
        )


# --- the ticket ledger (台账) from the ticket list ---------------------------------------------
# Registered from here because the exporter lives in reports/ and imports run one way
# (reports → tickets): the ticket admin does not know about reports.


@admin.action(description=_("导出台账（XLSX）：所选诉求，或“选择全部”时当前筛选下的全部诉求"))
def export_ledger(modeladmin, request, queryset):
    from django.utils import timezone

    from reports.exports import tickets_xlsx

    # The changelist already scoped (visible_tickets) and filtered the queryset.
    content = tickets_xlsx(queryset.order_by("-created_at", "-pk"))
    filename = f"诉求台账_{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(io.BytesIO(content), as_attachment=True, filename=filename)


def _register_ledger_export():
    from tickets.models import Ticket

    ticket_admin = admin.site._registry.get(Ticket)
    if ticket_admin is not None and export_ledger not in ticket_admin.actions:
        ticket_admin.actions = [*ticket_admin.actions, export_ledger]


_register_ledger_export()
