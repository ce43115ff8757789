"""The city report's scenario (DESIGN §1, §8): 1,623 needs taken in, 205 of them needing
city-level resolution, 172 of those basically solved — 83.9% against the 90% target.

Run twice: on the demo generator's data (`load_reference_data` + `seed_demo`, which lives every
ticket through the workflow) and on the same counts written directly as rows
(``_build_city_counts``), so the report is checked independently of the generator."""

import datetime as dt
import io
import itertools

import pytest
from django.core import mail
from django.core.management import call_command, get_commands
from openpyxl import load_workbook

from enterprises.models import Department, District, Enterprise, Tier
from reports.models import ReportSnapshot
from reports.periods import SHANGHAI
from tests.factories import next_uscc
from tickets.models import Ticket

HEADLINE = (
    "本期受理企业诉求1,623件，需市级层面解决的问题205个，其中已基本解决172个，占比83.9%（目标90%）"
)
# The reference instant both builds use (seed_demo's own default is now, to the minute).
SCENARIO_NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)


def _build_city_counts():
    district = District.objects.create(code="371002", name="环翠区", kind="county")
    leader = Department.objects.create(
        code="leader", name="市领导办公室", kind="leader_office", tier=Tier.LEADER,
        email="leader@gov.example",
    )  # fmt: skip
    city = Department.objects.create(
        code="city", name="市工业和信息化局", kind="bureau", tier=Tier.CITY, escalates_to=leader
    )
    local = Department.objects.create(
        code="local", name="环翠区工业和信息化局", kind="bureau", tier=Tier.DISTRICT,
        district=district, escalates_to=city,
    )  # fmt: skip
    enterprises = [
        Enterprise.objects.create(uscc=next_uscc(), name=f"威海企业{i}", district=district)
        for i in range(20)
    ]
    start = SCENARIO_NOW - dt.timedelta(days=180)
    numbers = itertools.count(1)

    def tickets(count, **fields):
        for _ in range(count):
            n = next(numbers)
            created = start + dt.timedelta(hours=2 * n)
            values = {"department": local, "level": Tier.DISTRICT, "status": "in_progress"}
            values.update(fields)
            if values.get("outcome"):
                values.setdefault("resolved_at", created + dt.timedelta(days=3))
            if values["status"] == "closed":
                values.setdefault("closed_at", created + dt.timedelta(days=4))
            yield Ticket(
                number=f"WH-2026-{n:06d}",
                enterprise=enterprises[n % len(enterprises)],
                kind=("difficulty", "technology", "funding", "supply_chain")[n % 4],
                title=f"诉求{n}",
                description="—",
                created_at=created,
                **values,
            )

    city_level = {"department": city}
    Ticket.objects.bulk_create(
        [
            # 205 at city or leader level: 172 solved or basically solved, 33 not (yet).
            *tickets(86, level=Tier.CITY, status="closed", outcome="solved", **city_level),
            *tickets(86, level=Tier.LEADER, status="resolved", outcome="basically_solved",
                     department=leader),
            *tickets(10, level=Tier.CITY, status="closed", outcome="explained", **city_level),
            *tickets(13, level=Tier.LEADER, department=leader),
            *tickets(10, level=Tier.CITY, status="assigned", **city_level),
            # 1,418 at district level.
            *tickets(1300, status="closed", outcome="solved"),
            *tickets(118),
            # Withdrawn needs are not taken in, whatever their level.
            *tickets(17, level=Tier.CITY, status="withdrawn", department=None),
        ]
    )  # fmt: skip


@pytest.fixture(params=["seed_demo", "hand_built"])
def city_scenario(request, db):
    if request.param == "hand_built":
        _build_city_counts()
        return
    if "seed_demo" not in get_commands():
        pytest.skip("the demo generator (seed_demo) is not installed")
    call_command("load_reference_data", stdout=io.StringIO())
    call_command("seed_demo", "--now", SCENARIO_NOW.isoformat(), stdout=io.StringIO())


def test_city_scenario_report_reproduces_the_city_headline(city_scenario):
    out = io.StringIO()

    call_command("report", "--period", "all", "--now", SCENARIO_NOW.isoformat(), stdout=out)

    snapshot = ReportSnapshot.objects.get()
    assert snapshot.headline == HEADLINE
    for figure in ("1,623", "205", "172", "83.9%"):
        assert figure in snapshot.headline
    assert HEADLINE in out.getvalue()
    summary = load_workbook(io.BytesIO(bytes(snapshot.xlsx)))["汇总"]
    assert summary["B4"].value == HEADLINE
    assert len(mail.outbox) == 1 and HEADLINE in mail.outbox[0].body
