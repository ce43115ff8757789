import datetime as dt
import io
import re

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from reports.models import StatsConfig
from tests.factories import UserFactory, staff_user
from tests.reports.conftest import NOW
from tickets.models import Ticket

URL = "/admin/dashboard/"
PERIOD = {"since": "2026-01-01", "until": "2026-04-30"}


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def section(html: str, title: str) -> str:
    """The HTML of the panel whose heading starts with ``title``."""
    start = html.index(f"<h2>{title}") if f"<h2>{title}" in html else html.index(title)
    end = html.find("<h2", start + 1)
    return html[start : end if end != -1 else len(html)]


def test_url_is_named():
    assert reverse("dashboard") == URL


def test_dashboard_shows_headline_figures_charts_and_lists(world, client, superuser):
    client.force_login(superuser)

    response = client.get(URL, PERIOD)

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "本期受理企业诉求10件，需市级层面解决的问题5个，其中已基本解决2个，占比40.0%（目标90%）"
        in html
    )
    assert "统计范围：<strong>全市</strong>" in html
    assert "期间：<strong>2026-01-01至2026-04-30</strong>" in html
    # Headline cards: each rate beside the target, under-target ones marked.
    card = re.search(
        r'<div class="card rate-card below"[^>]*>\s*<div class="card-label"><span>解决率</span>'
        r'<span class="badge">▼ 低于目标</span></div>\s*<div class="card-value">40.0%</div>.*?'
        r'<span>4 / 10</span><span class="card-target">目标 90%</span>',
        html,
        re.S,
    )
    assert card is not None
    # Charts: four monthly bars + a rate line; one bar per department; a donut of 3 kinds.
    trend = re.search(r'<svg class="chart trend-chart".*?</svg>', html, re.S).group()
    assert len(re.findall(r"<rect ", trend)) == 4
    assert len(re.findall(r"<polyline ", trend)) == 1  # Jan–Mar joined; April has no rate
    assert "目标90%" in trend
    departments = re.search(r'<svg class="chart department-chart".*?</svg>', html, re.S).group()
    assert len(re.findall(r'class="hbar ', departments)) == 3
    assert departments.count('class="hbar below"') == 3  # 40%, 50%, 0% are all under 90%
    assert "▼ 40.0%" in departments
    donut = re.search(r'<svg class="chart donut-chart".*?</svg>', html, re.S).group()
    assert len(re.findall(r"<path ", donut)) == 3  # difficulty, funding, supply chain
    # The four lists, each with its rates.
    kinds = section(html, "四张清单")
    assert [k for k in ("企业困难问题", "技术需求", "资金需求", "产业链配套") if k in kinds] == [
        "企业困难问题",
        "技术需求",
        "资金需求",
        "产业链配套",
    ]
    # Overdue list: tickets 3 (resolve deadline 02-10) and 6 (accept deadline 03-03), most
    # overdue first, linked to their admin pages.
    overdue = section(html, "当前超期")
    t = world.t
    link3 = reverse("admin:tickets_ticket_change", args=[t[3].pk])
    link6 = reverse("admin:tickets_ticket_change", args=[t[6].pk])
    assert f'href="{link3}"' in overdue and f'href="{link6}"' in overdue
    assert overdue.index("WH-2026-000003") < overdue.index("WH-2026-000006")
    assert "39天" in overdue  # 02-10 10:00 → 03-20 12:00: 38 days and 2 hours
    assert "18天" in overdue  # 03-03 10:00 → 03-20 12:00
    supervised = section(html, "督办")
    assert "WH-2026-000005" in supervised and "WH-2026-000008" in supervised
    assert "WH-2026-000003" not in supervised


def test_ranking_lists_departments_by_resolution_rate(world, client, superuser):
    from reports.models import StatsConfig

    config = StatsConfig.load()
    config.ranking_min_taken_in = 1
    config.save()
    client.force_login(superuser)

    html = client.get(URL, PERIOD).content.decode()

    # 环翠区 2/4 = 50% ranks above 市工信局 2/5 = 40%; the unassigned group is not ranked.
    red = section(html, "红榜")
    black = section(html, "黑榜")
    assert "环翠区工业和信息化局" in red and "市工业和信息化局" not in red.replace("环翠区工业", "")
    assert "市工业和信息化局" in black
    assert "待分派" not in red + black


def test_department_staff_see_only_their_department(world, client):
    client.force_login(staff_user(world.a, username="huancui"))

    html = client.get(URL, PERIOD).content.decode()

    assert "统计范围：<strong>环翠区工业和信息化局</strong>" in html
    assert "本期受理企业诉求4件，需市级层面解决的问题1个，其中已基本解决0个，占比0.0%" in html
    departments = re.search(r'<svg class="chart department-chart".*?</svg>', html, re.S).group()
    assert "环翠区工业和信息化局" in departments
    assert "市工业和信息化局" not in departments.replace("环翠区工业和信息化局", "")
    overdue = section(html, "当前超期")
    assert "WH-2026-000003" in overdue
    assert "WH-2026-000006" not in overdue  # department B's


def test_staff_without_department_see_nothing(world, client):
    client.force_login(UserFactory(username="plain-staff", is_staff=True))

    html = client.get(URL, PERIOD).content.decode()

    assert "您的账号未加入任何责任单位" in html
    assert "本期受理企业诉求0件" in html
    assert "WH-2026-" not in html


def test_non_staff_are_sent_to_the_login_page(world, client):
    client.force_login(UserFactory(username="outsider"))

    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_default_period_is_the_last_twelve_months(world, client, superuser):
    client.force_login(superuser)

    html = client.get(URL).content.decode()

    assert "期间：<strong>2025-04-01至2026-03-20</strong>" in html
    assert 'class="active" aria-current="true">近12个月' in html
    # Ticket 12 (2025-12-31) is inside the window, ticket 9 (03-19) too.
    assert "本期受理企业诉求11件" in html


def test_a_bad_date_falls_back_to_the_default_with_a_message(world, client, superuser):
    client.force_login(superuser)

    response = client.get(URL, {"since": "2026-02-30"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "起始日期：" in html and "已改为显示默认期间" in html
    assert "期间：<strong>2025-04-01至2026-03-20</strong>" in html


def test_dashboard_costs_a_fixed_number_of_queries(
    world, client, superuser, django_assert_num_queries
):
    StatsConfig.load()  # stored once, like every later request finds it
    client.force_login(superuser)
    # session, user, the actor (memberships and enterprise account in one), config, the
    # period's aggregate, the overdue aggregate, department names, the overdue list with its
    # enterprises and departments, the supervised list, the working-calendar warning's probe
    # — independent of the number of tickets.
    with django_assert_num_queries(12):
        assert client.get(URL, PERIOD).status_code == 200
    # The figures are cached now: the two aggregates and the names are not run again.
    with django_assert_num_queries(9):
        assert client.get(URL, PERIOD).status_code == 200


def test_figures_are_cached_for_a_few_minutes_and_the_page_says_how_old(
    world, client, superuser, settings
):
    settings.STATS_CACHE_SECONDS = 120
    client.force_login(superuser)
    assert "数据更新于 12:00" in client.get(URL, PERIOD).content.decode()
    Ticket.objects.filter(pk=world.t[9].pk).update(status="withdrawn")
    Ticket.objects.filter(pk=world.t[6].pk).update(status="in_progress")

    with time_machine.travel(NOW + dt.timedelta(seconds=90), tick=False):
        html = client.get(URL, PERIOD).content.decode()
    assert "数据更新于 12:00" in html
    assert "本期受理企业诉求10件" in html
    # The lists are read live: ticket 6, signed for meanwhile, is no longer overdue.
    assert "WH-2026-000006" not in section(html, "当前超期")

    with time_machine.travel(NOW + dt.timedelta(seconds=150), tick=False):
        html = client.get(URL, PERIOD).content.decode()
    assert "数据更新于 12:02" in html
    assert "本期受理企业诉求9件" in html


def test_admin_index_links_the_dashboard(world, client, superuser):
    client.force_login(superuser)

    html = client.get("/admin/").content.decode()

    assert f'<a href="{URL}">办理成效看板</a>' in html


def test_ledger_export_follows_scope_and_period(world, client):
    client.force_login(staff_user(world.a, username="huancui"))

    response = client.get(reverse("dashboard-export"), PERIOD)

    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "filename*=utf-8''" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)))["诉求台账"]
    rows = list(sheet.iter_rows(values_only=True))
    # Department A's tickets of the period, newest first; the withdrawn one is in the ledger.
    assert [r[0] for r in rows[1:]] == [
        "WH-2026-000008",
        "WH-2026-000010",
        "WH-2026-000003",
        "WH-2026-000002",
        "WH-2026-000001",
    ]
