import io

from django import forms
from django.contrib import admin
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from enterprises.admin_access import MemberViewsCoordinatorEdits
from reports.models import ReportSnapshot, StatsConfig
from tickets.actors import actor_for
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


@admin.register(ReportSnapshot)
class ReportSnapshotAdmin(admin.ModelAdmin):
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
        "recipients",
        "emailed_at",
        "downloads",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The files are large; the list never needs them.
        return super().get_queryset(request).defer("xlsx", "csv", "figures")

    def has_module_permission(self, request):
        return _sees_city(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return _sees_city(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("三率"))
    def summary(self, obj):
        return ReportSnapshot.objects.values_list("figures__summary", flat=True).get(pk=obj.pk)

    @admin.display(description=_("下载"))
    def downloads(self, obj):
        return format_html(
            '<a href="{}">XLSX</a> · <a href="{}">CSV</a>',
            reverse("admin:reports_reportsnapshot_download", args=[obj.pk, "xlsx"]),
            reverse("admin:reports_reportsnapshot_download", args=[obj.pk, "csv"]),
        )

    def get_urls(self):
        return [
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
