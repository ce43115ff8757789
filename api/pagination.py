"""Page-number pagination whose count stops at COUNT_CAP.

An exact COUNT(*) walks every matching row: 150–300 ms for a coordinator's 1,000,000
tickets or a busy department's 65,000 (bench/README.md), whatever the page size. Counting
at most COUNT_CAP + 1 rows (SELECT COUNT(*) FROM (… LIMIT 1001)) costs the same for 1,000
rows as for a million. Up to the cap the count is exact; beyond it `count` is the cap,
`count_exact` is false and only the first COUNT_CAP rows can be paged — narrow the list
with filters to reach the rest.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

# 50 pages of 20 (10 of 100): more than anyone pages through; filters find the rest.
COUNT_CAP = 1000


class CappedCountPaginator(Paginator):
    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if hasattr(rows, "order_by"):
            # Any COUNT_CAP + 1 rows will do: without the ORDER BY the database may take
            # them from whichever index is cheapest.
            rows = rows.order_by()
        counted = rows[: self.cap + 1].count()
        self.count_exact = counted <= self.cap
        return min(counted, self.cap)


class TicketPagination(PageNumberPagination):
    django_paginator_class = CappedCountPaginator
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    invalid_page_message = _("页码无效：%(page_number)s（%(message)s）。")

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
