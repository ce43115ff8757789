"""One moment, one "currently overdue": the dashboard, the weekly report, the monthly report
and the statistics API built at the same instant show the same number — every ticket of the
city overdue at that instant, whenever it was submitted (reports.stats explains why)."""

import io

import time_machine
from openpyxl import load_workbook

from reports.reporting import run_report
from tests.factories import UserFactory
from tests.reports.conftest import NOW, at
from tickets.models import Ticket


def test_dashboard_weekly_and_monthly_reports_agree_on_currently_overdue(world, client):
    # Long overdue, and submitted before every period below (the dashboard's last 12 months
    # start 2025-04-01, the week is 03-09 – 03-15, the month February).
    old = Ticket.objects.create(
        number="WH-2024-000099", enterprise=world.e1, kind="difficulty", title="旧诉求",
        description="—", department=world.a, level="district", status="in_progress",
        created_at=at(11, 5, year=2024), resolve_due_at=at(11, 15, year=2024),
    )  # fmt: skip
    overdue = {world.t[3].number, world.t[6].number, old.number}
    assert set(Ticket.objects.overdue(NOW).values_list("number", flat=True)) == overdue

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    with time_machine.travel(NOW, tick=False):
        page = client.get("/admin/dashboard/")
        api = client.get("/api/v1/stats/resolution/", {"since": "2026-03-09"}).json()
    weekly = run_report(period_kind="week", now=NOW, email=False).snapshot
    monthly = run_report(period_kind="month", now=NOW, email=False).snapshot

    assert (weekly.period_start.isoformat(), monthly.period_start.isoformat()) == (
        "2026-03-09",
        "2026-02-01",
    )
    assert page.context["overall"].overdue == 3
    assert "<span>当前超期</span><strong>3</strong>" in page.content.decode()
    assert api["overall"]["overdue"] == 3
    for snapshot in (weekly, monthly):
        assert snapshot.figures["department"]["overall"]["overdue"] == 3
        assert "当前超期3件" in snapshot.figures["summary"]
        listing = load_workbook(io.BytesIO(bytes(snapshot.xlsx)))["升级与超期诉求"]
        late = {row[0] for row in listing.iter_rows(min_row=2, values_only=True) if row[9]}
        assert late == overdue
    # And the dashboard lists them, most overdue first.
    listed = [ticket.number for ticket in page.context["overdue"]]
    assert listed == [old.number, world.t[3].number, world.t[6].number]
