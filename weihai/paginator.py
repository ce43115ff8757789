"""A paginator for the admin's city-scale lists: it counts at most CAP rows.

The admin's changelist always counts its filtered queryset for the pager; at 1,000,000 tickets
or 2,000,000 events that COUNT(*) is the slowest query of the page (bench/README.md, Admin).
Counting `SELECT COUNT(*) FROM (SELECT … LIMIT CAP + 1)` stops early, and nobody pages past
200 pages of 50: beyond the cap the page says "10000+" and the filters narrow the list.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

CAP = 10_000


class CappedPaginator(Paginator):
    capped = False

    @cached_property
    def count(self) -> int:
        # No ORDER BY inside the LIMIT: the planner may take any index that finds rows fast.
        found = self.object_list.order_by()[: CAP + 1].count()
        self.capped = found > CAP
        return min(found, CAP)
