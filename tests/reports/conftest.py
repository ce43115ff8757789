"""A hand-built table of tickets whose figures are worked out by hand in the tests.

NOW is 2026-03-20 12:00 (Asia/Shanghai); the period is 2026-01-01 – 2026-04-30.
Departments: A 环翠区工业和信息化局 (district tier), B 市工业和信息化局 (city tier).
Enterprises: e1, e3 in D1 环翠区, e2 in D2 文登区. Chain X 海洋食品 (Y 医药医疗器械 has none).
Kinds: difficulty, funding, supply_chain; levels district, city, leader. Deadlines: a = accept,
r = resolve. ret/reo/esc: return/reopen/escalation counts; basically = basically_solved.

#  dep kind  ent lvl  chain created     status      outcome   done  due         sat ret reo esc sup
1  A   diff  e1  dist -     01-05 10:00 closed      solved    01-08 r01-10      5   0   0   0   -
2  A   diff  e1  dist -     01-20 10:00 resolved    basically 01-30 r01-27 late 3   0   0   0   -
3  A   fund  e2  city X     02-03 10:00 in_progress -         -     r02-10 over -   1   0   1   -
4  B   chain e2  city X     02-14 10:00 closed      explained 02-20 r02-25      2   0   1   0   -
5  B   chain e3  lead X     02-28 20:00 closed      solved    03-05 r03-04 late 4   0   0   2   yes
6  B   fund  e3  city -     03-01 00:30 assigned    -         -     a03-03 over -   0   0   0   -
7  B   fund  e1  dist -     03-10 10:00 assigned    -         -     a03-25      -   0   0   0   -
8  A   diff  e2  dist -     03-15 10:00 in_progress -         -     r04-01      -   0   2   0   yes
9  -   diff  e1  dist -     03-19 10:00 submitted   -         -     -           -   0   0   0   -
10 A   diff  e1  dist -     03-01 10:00 withdrawn   (not taken in)              -   1   0   0   -
11 B   fund  e2  city X     01-31 23:30 resolved    solved    02-02 r02-05      -   0   0   0   -
12 A   diff  e1  dist -     2025-12-31 23:59  closed  solved  (before the period)

Ticket 6 is 2026-02-28 16:30 UTC (March in Weihai); ticket 12 is 15:59 UTC, one minute before
the period starts at 2025-12-31 16:00 UTC.
"""

import datetime as dt
from types import SimpleNamespace

import pytest

from enterprises.models import Department, District, Enterprise, IndustryChain, Tier
from reports.periods import SHANGHAI, Period
from tests.factories import next_uscc
from tickets.models import Ticket

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=SHANGHAI)
PERIOD = Period(dt.date(2026, 1, 1), dt.date(2026, 4, 30))


def wall(*args) -> dt.datetime:
    """A naive Asia/Shanghai wall-clock time, as XLSX cells hold them."""
    return dt.datetime(*args, tzinfo=SHANGHAI).replace(tzinfo=None)


def at(month, day, hour=10, minute=0, year=2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def world(db):
    d1 = District.objects.create(code="371002", name="环翠区", kind="county", order=1)
    d2 = District.objects.create(code="371003", name="文登区", kind="county", order=2)
    d3 = District.objects.create(code="371082", name="荣成市", kind="county", order=3)
    leader = Department.objects.create(
        code="leader-industry",
        name="市政府分管工业副市长办公室",
        kind=Department.Kind.LEADER_OFFICE,
        tier=Tier.LEADER,
        email="leader-industry@gov.example",
    )
    b = Department.objects.create(
        code="city-gxj",
        name="市工业和信息化局",
        kind=Department.Kind.BUREAU,
        tier=Tier.CITY,
        escalates_to=leader,
        email="gxj@gov.example",
    )
    a = Department.objects.create(
        code="huancui-gxj",
        name="环翠区工业和信息化局",
        kind=Department.Kind.BUREAU,
        tier=Tier.DISTRICT,
        district=d1,
        escalates_to=b,
    )
    x = IndustryChain.objects.create(
        code="marine-food", name="海洋食品", chief_office=leader, lead_department=b, order=1
    )
    y = IndustryChain.objects.create(
        code="medical", name="医药医疗器械", chief_office=leader, lead_department=b, order=2
    )
    e1 = Enterprise.objects.create(uscc=next_uscc(), name="威海甲公司", district=d1)
    e2 = Enterprise.objects.create(uscc=next_uscc(), name="威海乙公司", district=d2)
    e3 = Enterprise.objects.create(uscc=next_uscc(), name="威海丙公司", district=d1)

    def ticket(n, dept, kind, ent, level, created, status, **fields):
        return Ticket.objects.create(
            number=f"WH-2026-{n:06d}",
            enterprise=ent,
            kind=kind,
            title=f"诉求{n}",
            description="—",
            department=dept,
            level=level,
            created_at=created,
            status=status,
            **fields,
        )

    t = {
        1: ticket(
            1, a, "difficulty", e1, "district", at(1, 5), "closed",
            outcome="solved", resolved_at=at(1, 8), resolve_due_at=at(1, 10),
            closed_at=at(1, 9), satisfaction=5,
        ),
        2: ticket(
            2, a, "difficulty", e1, "district", at(1, 20), "resolved",
            outcome="basically_solved", resolved_at=at(1, 30), resolve_due_at=at(1, 27),
            satisfaction=3,
        ),
        3: ticket(
            3, a, "funding", e2, "city", at(2, 3), "in_progress", chain=x,
            resolve_due_at=at(2, 10), return_count=1, escalation_count=1,
        ),
        4: ticket(
            4, b, "supply_chain", e2, "city", at(2, 14), "closed", chain=x,
            outcome="explained", resolved_at=at(2, 20), resolve_due_at=at(2, 25),
            closed_at=at(2, 21), satisfaction=2, reopen_count=1,
        ),
        5: ticket(
            5, b, "supply_chain", e3, "leader", at(2, 28, 20), "closed", chain=x,
            outcome="solved", resolved_at=at(3, 5), resolve_due_at=at(3, 4),
            closed_at=at(3, 6), satisfaction=4, escalation_count=2, supervised=True,
            supervised_at=at(3, 2),
        ),
        6: ticket(6, b, "funding", e3, "city", at(3, 1, 0, 30), "assigned",
                  accept_due_at=at(3, 3)),
        7: ticket(7, b, "funding", e1, "district", at(3, 10), "assigned",
                  accept_due_at=at(3, 25)),
        8: ticket(
            8, a, "difficulty", e2, "district", at(3, 15), "in_progress",
            resolve_due_at=at(4, 1), reopen_count=2, supervised=True, supervised_at=at(3, 18),
        ),
        9: ticket(9, None, "difficulty", e1, "district", at(3, 19), "submitted"),
        10: ticket(10, a, "difficulty", e1, "district", at(3, 1), "withdrawn", return_count=1),
        11: ticket(
            11, b, "funding", e2, "city", at(1, 31, 23, 30), "resolved", chain=x,
            outcome="solved", resolved_at=at(2, 2), resolve_due_at=at(2, 5),
        ),
        12: ticket(
            12, a, "difficulty", e1, "district", at(12, 31, 23, 59, year=2025), "closed",
            outcome="solved", resolved_at=at(1, 2), resolve_due_at=at(1, 5),
            closed_at=at(1, 3),
        ),
    }  # fmt: skip
    return SimpleNamespace(
        d1=d1, d2=d2, d3=d3, leader=leader, a=a, b=b, x=x, y=y, e1=e1, e2=e2, e3=e3, t=t
    )
