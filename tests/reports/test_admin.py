import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reports.models import ReportSnapshot, StatsConfig
from reports.reporting import run_report
from tests.factories import UserFactory, staff_user
from tests.reports.conftest import NOW


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_stats_config_list_goes_to_the_single_row(db, client, superuser):
    client.force_login(superuser)

    response = client.get(reverse("admin:reports_statsconfig_changelist"))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reports_statsconfig_change", args=[1])


def test_coordinator_changes_target_and_options(world, client):
    client.force_login(staff_user(world.b, role="coordinator", username="coordinator"))
    url = reverse("admin:reports_statsconfig_change", args=[StatsConfig.load().pk])

    response = client.post(
        url,
        {
            "target": "0.850",
            "count_basically_solved": "",
            "taken_in_excludes": ["withdrawn", "submitted"],
            "satisfied_min_score": "5",
            "ranking_min_taken_in": "3",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    config = StatsConfig.load()
    assert config.target == Decimal("0.850")
    assert config.count_basically_solved is False
    assert config.taken_in_excludes == ["withdrawn", "submitted"]
    assert (config.satisfied_min_score, config.ranking_min_taken_in) == (5, 3)


def test_target_outside_0_to_1_is_refused(world, client):
    client.force_login(staff_user(world.b, role="coordinator", username="coordinator"))
    url = reverse("admin:reports_statsconfig_change", args=[StatsConfig.load().pk])

    response = client.post(
        url,
        {"target": "1.5", "taken_in_excludes": ["withdrawn"], "satisfied_min_score": "4",
         "ranking_min_taken_in": "5"},
    )  # fmt: skip

    assert response.status_code == 200
    assert StatsConfig.load().target == Decimal("0.900")


def test_handler_may_read_but_not_change_the_config(world, client):
    client.force_login(staff_user(world.a, username="handler"))
    url = reverse("admin:reports_statsconfig_change", args=[StatsConfig.load().pk])

    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "target": "0.1",
            "taken_in_excludes": [],
            "satisfied_min_score": "1",
            "ranking_min_taken_in": "0",
        },
    )
    assert response.status_code == 403
    assert StatsConfig.load().target == Decimal("0.900")


def test_only_one_config_row_can_exist(db):
    StatsConfig.load()
    duplicate = StatsConfig(target=Decimal("0.5"))
    duplicate.save()  # save() pins pk 1: it updates the single row
    assert StatsConfig.objects.count() == 1
    assert StatsConfig.load().target == Decimal("0.5")


def test_snapshot_admin_lists_and_downloads_reports(world, client, superuser):
    snapshot = run_report(period_kind="month", now=NOW).snapshot
    client.force_login(superuser)

    listing = client.get(reverse("admin:reports_reportsnapshot_changelist")).content.decode()
    xlsx_url = reverse("admin:reports_reportsnapshot_download", args=[snapshot.pk, "xlsx"])
    csv_url = reverse("admin:reports_reportsnapshot_download", args=[snapshot.pk, "csv"])
    assert f'href="{xlsx_url}"' in listing and f'href="{csv_url}"' in listing
    assert snapshot.headline in listing

    response = client.get(xlsx_url)
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content == bytes(snapshot.xlsx)
    assert load_workbook(io.BytesIO(content)).sheetnames == ["汇总", "按责任单位", "升级与超期诉求"]
    response = client.get(csv_url)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(response.streaming_content) == bytes(snapshot.csv)
    detail = client.get(reverse("admin:reports_reportsnapshot_change", args=[snapshot.pk]))
    assert "整体解决率33.3%" in detail.content.decode()
    assert client.get(reverse("admin:reports_reportsnapshot_download",
                              args=[snapshot.pk, "pdf"])).status_code == 404  # fmt: skip


def test_snapshots_cannot_be_changed_or_deleted(world, client, superuser):
    snapshot = run_report(period_kind="month", now=NOW).snapshot
    client.force_login(superuser)

    client.post(reverse("admin:reports_reportsnapshot_delete", args=[snapshot.pk]), {"post": "yes"})
    client.post(
        reverse("admin:reports_reportsnapshot_change", args=[snapshot.pk]), {"headline": "改过"}
    )

    assert ReportSnapshot.objects.get().headline == snapshot.headline


def test_department_handler_cannot_download_city_reports(world, client):
    snapshot = run_report(period_kind="month", now=NOW).snapshot
    client.force_login(staff_user(world.a, username="handler"))

    url = reverse("admin:reports_reportsnapshot_download", args=[snapshot.pk, "xlsx"])
    assert client.get(url).status_code == 404
    assert client.get(reverse("admin:reports_reportsnapshot_changelist")).status_code == 403


def test_leader_can_download_city_reports(world, client):
    snapshot = run_report(period_kind="month", now=NOW).snapshot
    client.force_login(staff_user(world.leader, role="leader", username="leader"))

    url = reverse("admin:reports_reportsnapshot_download", args=[snapshot.pk, "csv"])
    assert client.get(url).status_code == 200
    assert snapshot.period_end == dt.date(2026, 2, 28)
