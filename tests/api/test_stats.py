"""GET /api/v1/stats/resolution/ on the statistics tests' hand-built table of tickets
(tests/reports/conftest.py), whose figures are worked out in tests/reports/expected.py."""

import pytest
import time_machine
from django.urls import path, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from api.stats import ResolutionStatsView
from tests.factories import UserFactory, enterprise_user, staff_user
from tests.reports import conftest as reports_conftest
from tests.reports.conftest import NOW
from tests.reports.expected import OVERALL, expected_rows, figures

# The statistics tests' world, not the API tests' three-tier one.
world = reports_conftest.world

URL = "/api/v1/stats/resolution/"
PARAMS = {"since": "2026-01-01", "until": "2026-04-30"}


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture(autouse=True)
def _frozen_now():
    # "Currently overdue" is measured at the request's instant.
    with time_machine.travel(NOW, tick=False):
        yield


def test_url_is_named():
    assert reverse("api:stats-resolution") == URL


@pytest.mark.parametrize(
    "group_by", ["department", "kind", "district", "level", "chain", "month", "source"]
)
def test_coordinator_gets_the_city_figures(world, client, group_by):
    client.force_login(staff_user(world.b, role="coordinator", username="coordinator"))

    response = client.get(URL, {**PARAMS, "group_by": group_by})

    assert response.status_code == 200
    body = response.json()
    assert body["group_by"] == group_by
    assert body["scope"] == "全市"
    assert (body["target"], body["target_display"]) == (0.9, "90%")
    assert (body["since"], body["until"]) == ("2026-01-01", "2026-04-30")
    assert body["overall"] == OVERALL
    assert body["rows"] == expected_rows(world)[group_by]


def test_leader_and_superuser_see_the_city(world, client):
    client.force_login(staff_user(world.leader, role="leader", username="leader"))
    assert client.get(URL, PARAMS).json()["overall"] == OVERALL
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get(URL, PARAMS).json()["overall"] == OVERALL


def test_department_staff_get_only_their_department(world, client):
    client.force_login(staff_user(world.a, username="huancui-handler"))

    body = client.get(URL, {**PARAMS, "group_by": "department"}).json()

    assert body["scope"] == "环翠区工业和信息化局"
    assert body["overall"] == figures(4, 2, (1, 2), (1, 2), 1, 1, 1, 1, 1, (0, 1))
    assert [row["key"] for row in body["rows"]] == [str(world.a.pk)]
    # Other dimensions are sliced the same way: only department A's four tickets.
    by_kind = client.get(URL, {**PARAMS, "group_by": "kind"}).json()
    assert [(r["key"], r["taken_in"]) for r in by_kind["rows"]] == [
        ("difficulty", 3),
        ("technology", 0),
        ("funding", 1),
        ("supply_chain", 0),
    ]


def test_default_group_by_is_department_and_period_unbounded(world, client):
    client.force_login(staff_user(world.b, role="coordinator", username="coordinator"))

    body = client.get(URL).json()

    assert body["group_by"] == "department"
    assert (body["since"], body["until"]) == (None, None)
    assert body["overall"]["taken_in"] == 11  # ticket 12 of December 2025 too


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"group_by": "enterprise"}, "group_by", "“enterprise”不是有效的分组方式"),
        ({"since": "2026-13-01"}, "since", "日期格式应为 YYYY-MM-DD。"),
        ({"until": "yesterday"}, "until", "日期格式应为 YYYY-MM-DD。"),
        ({"since": "2026-03-01", "until": "2026-02-01"}, "until", "截止日期不能早于起始日期。"),
        ({"since": "1999-12-31"}, "since", "日期应在 2000-01-01 至 2099-12-31 之间。"),
        ({"until": "9999-12-31"}, "until", "日期应在 2000-01-01 至 2099-12-31 之间。"),
    ],
)
def test_bad_parameters_get_400_with_a_message(world, client, params, field, message):
    client.force_login(staff_user(world.b, role="coordinator", username="coordinator"))

    response = client.get(URL, params)

    assert response.status_code == 400
    body = response.json()  # the project's error body (api/errors.py)
    assert body["field"] == field
    assert body["detail"].startswith(f"{field}：")
    assert [m for m in body["errors"][field] if message in m]


def test_anonymous_gets_401(db, client):
    response = client.get(URL)

    assert response.status_code == 401
    assert response.has_header("WWW-Authenticate")


def test_enterprise_account_gets_403(world, client):
    client.force_authenticate(enterprise_user(world.e1, username="enterprise"))

    response = client.get(URL)

    assert response.status_code == 403
    assert "只有责任单位工作人员、统筹协调员和领导可以查看统计数据。" in response.content.decode()


def test_user_without_department_gets_403(world, client):
    client.force_authenticate(UserFactory(username="nobody", is_staff=True))

    assert client.get(URL).status_code == 403


def test_schema_documents_parameters_and_responses(settings):
    generator = SchemaGenerator(
        patterns=[path("api/v1/stats/resolution/", ResolutionStatsView.as_view())]
    )

    schema = generator.get_schema(request=None, public=True)

    operation = schema["paths"]["/api/v1/stats/resolution/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert sorted(parameters["group_by"]["schema"]["enum"]) == [
        "chain",
        "department",
        "district",
        "kind",
        "level",
        "month",
        "source",
    ]
    assert parameters["since"]["schema"]["format"] == "date"
    assert parameters["until"]["schema"]["format"] == "date"
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    errors = {
        code: operation["responses"][code]["content"]["application/json"]["schema"]["$ref"]
        for code in ("400", "401", "403")
    }
    assert errors == {
        "400": "#/components/schemas/ApiValidationError",
        "401": "#/components/schemas/ApiError",
        "403": "#/components/schemas/ApiError",
    }
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][body.rsplit("/", 1)[-1]]
    assert {"target", "overall", "rows", "group_by", "since", "until"} <= set(
        component["properties"]
    )
    rate = schema["components"]["schemas"]["StatsRate"]
    assert set(rate["properties"]) == {
        "numerator",
        "denominator",
        "rate",
        "display",
        "below_target",
    }
