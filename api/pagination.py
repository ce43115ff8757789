"""Page-number pagination whose count stops at COUNT_CAP.

An exact COUNT(*) walks every matching row: 150–300 ms for a coordinator's 1,000,000
tickets or a busy department's 65,000 (bench/README.md), whatever the page size. Counting
at most COUNT_CAP + 1 rows (SELECT COUNT(*) FROM (… LIMIT 1001)) costs the same for 1,000
rows as for a million. Up to the cap the count is exact; beyond it `count` is the cap,
`count_exact` is false and only the first COUNT_CAP rows can be paged — narrow the list
with filters to reach the rest.

Department staff see every ticket ever assigned to their departments, which takes a join
with the events; counting 1,001 of those under a filter that matches tickets all over the
city (`?overdue=true`) meant joining tens of thousands of events — 200–400 ms for the
busiest department. The view can pass a cheap subset of the same list (the tickets
currently assigned to the department, on the (department, status) index): when that alone
exceeds the cap the list does too, and the full count is never run. Both counts go in one
statement; PostgreSQL evaluates the second only when the first is under the cap.
"""

from functools import partial

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

# 50 pages of 20 (10 of 100): more than anyone pages through; filters find the rest.
COUNT_CAP = 1000


def _first_rows_sql(queryset, limit: int) -> tuple[str, tuple]:
    # Any `limit` rows will do: without the ORDER BY the database may take them from
    # whichever index is cheapest.
    rows = queryset.order_by().values("pk")[:limit]
    return rows.query.get_compiler(using=rows.db).as_sql()


class CappedCountPaginator(Paginator):
    cap = COUNT_CAP

    def __init__(self, object_list, per_page, *args, floor=None, **kwargs):
        # floor: a queryset whose rows are all in object_list (see the module docstring).
        super().__init__(object_list, per_page, *args, **kwargs)
        self.floor = floor

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if self.floor is not None and hasattr(rows, "order_by"):
            counted = self._count_with_floor(rows)
        else:
            if hasattr(rows, "order_by"):
                rows = rows.order_by()
            counted = rows[: self.cap + 1].count()
        self.count_exact = counted <= self.cap
        return min(counted, self.cap)

    def _count_with_floor(self, rows) -> int:
        limit = self.cap + 1
        floor_sql, floor_params = _first_rows_sql(self.floor, limit)
        full_sql, full_params = _first_rows_sql(rows, limit)
        with connections[rows.db].cursor() as cursor:
            cursor.execute(
                f"SELECT CASE WHEN (SELECT COUNT(*) FROM ({floor_sql}) floor) >= %s THEN %s "
                f"ELSE (SELECT COUNT(*) FROM ({full_sql}) rows) END",
                (*floor_params, limit, limit, *full_params),
            )
            return cursor.fetchone()[0]


class TicketPagination(PageNumberPagination):
    django_paginator_class = CappedCountPaginator
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    # DRF fills it with str.format (not %): page_number and Django's paginator message.
    invalid_page_message = _("页码无效：{page_number}（{message}）。")

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= 9 and int(raw) >= 1):
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("每页条数应为正整数（最多 %(max)s）。") % {"max": self.max_page_size}
                    ]
                }
            )
        # Larger sizes are served as the largest one (next/previous links say so).
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = str(
                    _("每页条数，默认 %(default)s，大于 %(max)s 时按 %(max)s。")
                    % {"default": self.page_size, "max": self.max_page_size}
                )
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        count_floor = getattr(view, "count_floor", None)
        floor = count_floor() if count_floor is not None else None
        self.django_paginator_class = partial(CappedCountPaginator, floor=floor)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.count,
                "count_exact": paginator.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = str(
            _("符合条件的诉求数；超过 %(cap)s 时为 %(cap)s（见 count_exact）。")
            % {"cap": COUNT_CAP}
        )
        described["properties"]["count_exact"] = {
            "type": "boolean",
            "description": str(
                _("count 是否为精确值；为 false 时只能翻阅前 %(cap)s 条，请用筛选条件缩小范围。")
                % {"cap": COUNT_CAP}
            ),
        }
        described["required"] = [*described.get("required", []), "count_exact"]
        return described
