"""List filters and ordering for GET /api/v1/tickets/."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from api.serializers import MAX_ID
from enterprises.models import Tier
from tickets.models import Kind, Status, Ticket

NUMBER_MAX = 20  # WH-2026-000123 is 14; the filter refuses longer values (400)
# Dates outside this range are refused (400) instead of overflowing a datetime.
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)
DATE_PATTERN = r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}$"


class BoundedDateField(forms.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        kwargs.setdefault("error_messages", {"invalid": _("日期格式应为 YYYY-MM-DD。")})
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise forms.ValidationError(
                _("日期应在 %(a)s 至 %(b)s 之间。") % {"a": EARLIEST_DATE, "b": LATEST_DATE},
                code="out_of_range",
            )


class BoundedDateFilter(django_filters.DateFilter):
    field_class = BoundedDateField


class StrictBooleanField(forms.NullBooleanField):
    """true or false; anything else (`ture`, `yes`, `1`) is refused instead of ignored.
    (NullBooleanField's select widget would turn them into None before validation.)"""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", True):
            return True
        if value in ("false", False):
            return False
        raise forms.ValidationError(_("应为 true 或 false。"), code="invalid")

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class TicketFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Kind.choices, help_text=_("清单类别"))
    # distinct=False: a ticket has one status, and DISTINCT over every selected column made
    # PostgreSQL sort the whole match (and join every enterprise) before LIMIT.
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices,
        distinct=False,
        help_text=_("状态；可重复以选择多个，如 status=assigned&status=in_progress"),
    )
    level = django_filters.ChoiceFilter(choices=Tier.choices, help_text=_("层级"))
    department = IdFilter(field_name="department_id", help_text=_("当前责任单位 id"))
    number = django_filters.CharFilter(
        max_length=NUMBER_MAX, help_text=_("诉求编号，如 WH-2026-000123")
    )
    created_after = BoundedDateFilter(
        method="filter_created_after",
        help_text=_("提交日期不早于（含，北京时间），YYYY-MM-DD，2000–2099 年"),
    )
    created_before = BoundedDateFilter(
        method="filter_created_before",
        help_text=_("提交日期不晚于（含，北京时间），YYYY-MM-DD，2000–2099 年"),
    )
    overdue = StrictBooleanFilter(
        method="filter_overdue",
        help_text=_("true：只看已超过签收或办结时限的诉求；false：排除它们"),
    )
    supervised = StrictBooleanFilter(help_text=_("督办"))

    class Meta:
        model = Ticket
        fields = []

    # What the fields enforce, in the schema (drf-spectacular reads only the types). With an
    # override the help text must travel inside it.
    SCHEMAS = {
        "department": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "number": {"type": "string", "minLength": 1, "maxLength": NUMBER_MAX},
        # The bounds as a pattern: OpenAPI has no minimum for a date string.
        "created_after": {"type": "string", "format": "date", "pattern": DATE_PATTERN},
        "created_before": {"type": "string", "format": "date", "pattern": DATE_PATTERN},
    }

    def filter_created_after(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_created_before(self, queryset, name, value):
        return queryset.filter(created_at__lt=_start_of(value + dt.timedelta(days=1)))

    def filter_overdue(self, queryset, name, value):
        now = timezone.now()
        return queryset.overdue(now) if value else queryset.not_overdue(now)


for _name, _schema in TicketFilter.SCHEMAS.items():
    _filter = TicketFilter.base_filters[_name]
    extend_schema_field({**_schema, "description": _filter.extra["help_text"]})(_filter)


class TicketOrdering(OrderingFilter):
    """?ordering=resolve_due_at or -created_at …, always ending with id so pages are stable."""

    ordering_description = _(
        "排序字段：created_at、updated_at、accept_due_at、resolve_due_at、number；"
        "前加 - 为倒序。默认 -created_at。"
    )

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = {
            name for name, _label in self.get_valid_fields(queryset, view, {"request": request})
        }
        unknown = [term for term in fields if term.removeprefix("-") not in valid]
        if unknown:
            raise ValidationError(
                {
                    self.ordering_param: [
                        _("无法按“%(terms)s”排序，可选：%(valid)s（前加 - 为倒序）。")
                        % {"terms": "、".join(unknown), "valid": "、".join(sorted(valid))}
                    ]
                }
            )
        return fields

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(field.lstrip("-") == "id" for field in ordering):
            last = ordering[-1] if ordering else "-created_at"
            ordering.append("-id" if last.startswith("-") else "id")
        return ordering

    def get_schema_operation_parameters(self, view):
        terms = [t for name in view.ordering_fields for t in (name, f"-{name}")]
        (parameter,) = super().get_schema_operation_parameters(view)
        # Comma-separated (form style, not exploded): ?ordering=resolve_due_at,-id
        parameter.update(
            schema={"type": "array", "items": {"type": "string", "enum": terms}, "minItems": 1},
            style="form",
            explode=False,
        )
        return [parameter]
