"""The admin dashboard (办理成效看板) and the ledger export.

Mounted in weihai/urls.py under admin.site.admin_view (staff only). What a user sees is
``tickets.selectors.department_slice``: department staff their departments, coordinators,
leaders and superusers the city. The figures (month × department × kind, rolled up in Python)
come from the statistics cache (reports.stats.cached_breakdowns) and the page says when they
were counted; the two short lists are read live on their partial indexes.
"""

from __future__ import annotations

import datetime as dt
import io

from django import forms
from django.contrib import admin
from django.http import FileResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from reports import charts
from reports.exports import formula_note, tickets_xlsx
from reports.periods import EARLIEST_DATE, LATEST_DATE, Period, add_months, local_date
from reports.reporting import headline
from reports.stats import Options, cached_breakdowns, ranking, scope_label, taken_in
from tickets.actors import actor_for
from tickets.models import lateness
from tickets.selectors import department_slice

# Rows in the overdue and supervised lists: the page stays small and fast at any table size;
# the full lists are in the ledger export and the scheduled report.
LIST_LIMIT = 50
RANKING_SIZE = 10

PRESETS = [
    ("12m", _("近12个月")),
    ("year", _("本年")),
    ("month", _("本月")),
    ("last_month", _("上月")),
    ("all", _("全部")),
]
DEFAULT_PRESET = "12m"


class PeriodForm(forms.Form):
    preset = forms.ChoiceField(label=_("期间"), choices=PRESETS, required=False)
    since = forms.DateField(label=_("起始日期"), required=False, input_formats=["%Y-%m-%d"])
    until = forms.DateField(label=_("截止日期"), required=False, input_formats=["%Y-%m-%d"])

    def clean(self):
        data = super().clean()
        for name in ("since", "until"):
            value = data.get(name)
            if value and not EARLIEST_DATE <= value <= LATEST_DATE:
                self.add_error(name, _("日期应在 2000-01-01 至 2099-12-31 之间。"))
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("截止日期不能早于起始日期。"))
        return data

    def resolve(self, today: dt.date) -> tuple[Period, str]:
        """(the period, the preset it came from or "custom")."""
        if self.is_bound and self.is_valid():
            since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
            if since or until:
                return Period(since, until), "custom"
            preset = self.cleaned_data.get("preset") or DEFAULT_PRESET
        else:
            preset = DEFAULT_PRESET
        return preset_period(preset, today), preset


def preset_period(preset: str, today: dt.date) -> Period:
    first_of_month = today.replace(day=1)
    if preset == "year":
        return Period(today.replace(month=1, day=1), today)
    if preset == "month":
        return Period(first_of_month, today)
    if preset == "last_month":
        return Period(add_months(first_of_month, -1), first_of_month - dt.timedelta(days=1))
    if preset == "all":
        return Period(None, today)
    return Period(add_months(first_of_month, -11), today)


def _ticket_links(tickets) -> list:
    """Attach the admin change URL (None while the ticket admin is not registered)."""
    tickets = list(tickets)
    try:
        reverse("admin:tickets_ticket_change", args=[0])
    except NoReverseMatch:
        for ticket in tickets:
            ticket.admin_url = None
        return tickets
    for ticket in tickets:
        ticket.admin_url = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    return tickets


def _unit(request):
    """The department of ?department=<id>, or None (absent, malformed or unknown)."""
    from enterprises.models import Department

    value = request.GET.get("department", "")
    if not value.isdigit():
        return None
    return Department.objects.filter(pk=int(value)).first()


def source_split(rows, total: int) -> list[dict]:
    """The source rows with each one's share of what was taken in (a whole percent)."""
    return [
        {
            "key": row.key,
            "label": row.label,
            "figures": row.figures,
            "share": round(100 * row.figures.counts.taken_in / total) if total else 0,
        }
        for row in rows
    ]


class DashboardView(TemplateView):
    template_name = "reports/dashboard.html"

    def get_context_data(self, **kwargs):
        request = self.request
        now = timezone.now()
        today = local_date(now)
        form = PeriodForm(request.GET or None)
        period, preset = form.resolve(today)
        options = Options.load()
        scope = department_slice(request.user)
        unit = _unit(request)
        if unit is not None:
            # ?department=<id>: one unit's figures (linked from its admin page), within scope.
            scope = scope.filter(department_id=unit.pk)
        results = cached_breakdowns(
            scope, ["month", "department", "kind", "source"], period=period, options=options
        )
        overall = results["month"].overall
        # Overdue now, whenever submitted (the definition in reports.stats), most overdue first.
        # Prefetched, not joined: a join ran before the LIMIT, over every overdue ticket (145
        # vs 32 ms for 10,000 of 1,000,000, bench/README.md).
        overdue = _ticket_links(
            scope.overdue(now)
            .prefetch_related("enterprise", "department")
            .most_overdue_first()[:LIST_LIMIT]
        )
        for ticket in overdue:
            ticket.lateness = lateness(ticket, now)
        # In the order of ticket_supervised_list (supervised_at is set whenever supervised is):
        # 6 ms, where NULLS LAST sorted all 9,000 supervised tickets (94 ms).
        supervised = _ticket_links(
            taken_in(scope, options=options, period=period)
            .filter(supervised=True)
            .select_related("enterprise", "department")
            .order_by("-supervised_at", "-pk")[:LIST_LIMIT]
        )
        red, black = ranking(results["department"], size=RANKING_SIZE)
        if preset == "custom":
            query = {
                k: v.isoformat() for k, v in (("since", period.since), ("until", period.until)) if v
            }
        else:
            query = {"preset": preset}
        actor = actor_for(request.user)
        return {
            **super().get_context_data(**kwargs),
            **admin.site.each_context(request),
            "title": _("办理成效看板"),
            "form": form,
            "presets": [
                (value, label, f"?{urlencode({'preset': value})}", value == preset)
                for value, label in PRESETS
            ],
            "preset": preset,
            "period": period,
            "as_of": results["month"].as_of,
            "scope": unit.name if unit is not None else scope_label(request.user),
            "has_scope": actor.is_staff_member,
            "options": options,
            "target": charts.format_target(options.target),
            "formula_note": formula_note(options),
            "headline": headline(overall, options),
            "overall": overall,
            "by_kind": results["kind"].rows,
            "by_source": source_split(results["source"].rows, overall.taken_in),
            "by_department": results["department"],
            "trend": charts.trend_chart(results["month"].rows, options.target),
            "department_chart": charts.department_chart(results["department"].rows, options.target),
            "donut": charts.kind_donut(results["kind"].rows),
            "kind_colours": charts.KIND_COLOURS,
            "red_list": red,
            "black_list": black,
            "overdue": overdue,
            "supervised": supervised,
            "list_limit": LIST_LIMIT,
            "export_url": f"{reverse('dashboard-export')}?{urlencode(query)}",
        }


class DashboardExportView(View):
    """The 台账 of the dashboard's scope and period as XLSX (every ticket, withdrawn too)."""

    def get(self, request):
        now = timezone.now()
        period, _preset = PeriodForm(request.GET or None).resolve(local_date(now))
        tickets = department_slice(request.user)
        if period.start:
            tickets = tickets.filter(created_at__gte=period.start)
        if period.end:
            tickets = tickets.filter(created_at__lt=period.end)
        content = tickets_xlsx(tickets.order_by("-created_at", "-pk"))
        filename = gettext("诉求台账_%(period)s.xlsx") % {"period": period.label()}
        return FileResponse(io.BytesIO(content), as_attachment=True, filename=filename)
