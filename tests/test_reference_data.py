"""fixtures/weihai_reference.json and its loader (tickets.reference_data, load_reference_data)."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from enterprises.models import Department, District, IndustryChain, IndustryCluster, Tier
from tickets import reference_data, routing, routing_store
from tickets.calendar_store import invalidate, load_calendar
from tickets.models import CalendarDay, CalendarYear, RoutingRule, SlaPolicy

pytestmark = pytest.mark.django_db

MODELS = [District, IndustryCluster, Department, IndustryChain, SlaPolicy, RoutingRule, CalendarDay]
COUNTERPART_KEYS = ["gxj", "kjj", "zrzyj", "rsj", "sthjj", "xzspj", "fgw", "swj", "czj"]
DISTRICTS = {
    "371002": ("环翠区", "county"),
    "371003": ("文登区", "county"),
    "371082": ("荣成市", "county"),
    "371083": ("乳山市", "county"),
    "zone-gaoqu": ("威海火炬高技术产业开发区（高区）", "zone"),
    "zone-jingqu": ("威海经济技术开发区（经区）", "zone"),
    "zone-lingang": ("威海临港经济技术开发区（临港区）", "zone"),
}
CLUSTERS = [
    "新一代信息技术",
    "新医药与医疗器械",
    "先进装备与智能制造",
    "碳纤维等复合材料",
    "海洋生物与健康食品",
    "时尚与休闲运动产品",
    "康养旅游",
]


def wipe_reference_data() -> None:
    """Delete what the loader creates, in dependency order (departments top-down last)."""
    RoutingRule.objects.all().delete()
    SlaPolicy.objects.all().delete()
    IndustryChain.objects.all().delete()
    for tier in (Tier.DISTRICT, Tier.CITY, Tier.LEADER):
        Department.objects.filter(tier=tier).delete()
    IndustryCluster.objects.all().delete()
    District.objects.all().delete()
    CalendarDay.objects.all().delete()
    CalendarYear.objects.all().delete()
    invalidate()


@pytest.fixture(scope="module")
def reference(django_db_setup, django_db_blocker):
    """The reference data, loaded (and committed) once for the module's read-only tests;
    each test still runs in its own transaction, rolled back at its end."""
    with django_db_blocker.unblock():
        invalidate()
        result = reference_data.load()
    yield result
    with django_db_blocker.unblock():
        wipe_reference_data()


@pytest.fixture
def loaded(reference):
    invalidate()
    yield reference
    invalidate()


@pytest.fixture
def empty():
    """No reference data (inside this test's transaction only)."""
    wipe_reference_data()
    yield
    invalidate()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_first_load_creates_everything_and_second_load_changes_nothing(empty):
    loaded = reference_data.load()
    first = counts()
    second = reference_data.load()

    assert counts() == first
    assert all(row["created"] == 0 and row["updated"] == 0 for row in second.values())
    assert {key: row["unchanged"] for key, row in second.items()} == {
        "district": 7,
        "cluster": 7,
        "department": first["Department"],
        "chain": 10,
        "sla_policy": 12,
        "routing_rule": first["RoutingRule"],
        "calendar_day": first["CalendarDay"],
    }
    assert loaded["department"]["created"] == first["Department"]
    assert loaded["calendar_day"]["created"] == 366 + 365 + 365  # 2024 (leap) … 2026


def test_reload_restores_an_edited_row_unless_missing_only(loaded):
    Department.objects.filter(code="wendeng-zrzyj").update(email="real@wendeng.gov.cn")

    kept = reference_data.load(missing_only=True)
    assert kept["department"]["kept"] == 1
    assert Department.objects.get(code="wendeng-zrzyj").email == "real@wendeng.gov.cn"

    restored = reference_data.load()
    assert restored["department"]["updated"] == 1
    assert Department.objects.get(code="wendeng-zrzyj").email == "zrzyj@wendeng.weihai.example"


def test_reload_leaves_a_department_switched_off_in_the_admin_switched_off(loaded):
    Department.objects.filter(code="bank-abc").update(is_active=False)

    result = reference_data.load()

    assert result["department"]["updated"] == 0
    assert Department.objects.get(code="bank-abc").is_active is False


def test_reload_restores_priorities_of_rules_that_were_swapped_in_the_admin(loaded):
    first, second = RoutingRule.objects.order_by("priority")[:2]
    priorities = (first.priority, second.priority)
    RoutingRule.objects.filter(pk=first.pk).update(priority=99_999)
    RoutingRule.objects.filter(pk=second.pk).update(priority=priorities[0])
    RoutingRule.objects.filter(pk=first.pk).update(priority=priorities[1])

    result = reference_data.load()

    assert result["routing_rule"]["updated"] == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.priority, second.priority) == priorities


def test_every_department_escalates_exactly_one_tier_up(loaded):
    departments = list(Department.objects.select_related("escalates_to"))
    above = {Tier.DISTRICT: Tier.CITY, Tier.CITY: Tier.LEADER}

    for department in departments:
        if department.tier == Tier.LEADER:
            assert department.escalates_to is None, department.code
            assert department.district_id is None, department.code
        else:
            assert department.escalates_to.tier == above[department.tier], department.code
            assert (department.district_id is not None) == (department.tier == Tier.DISTRICT)
    assert Department.objects.filter(is_coordinator=True).get().name == "市企业服务中心"


def test_each_district_has_one_counterpart_of_each_city_bureau(loaded):
    for district in District.objects.all():
        for key in COUNTERPART_KEYS:
            counterparts = Department.objects.filter(
                tier=Tier.DISTRICT, district=district, escalates_to__code=f"city-{key}"
            )
            assert counterparts.count() == 1, (district.name, key)
    assert Department.objects.get(code="wendeng-zrzyj").name == "威海市自然资源和规划局文登分局"
    assert Department.objects.get(code="huancui-gxj").email == "gxj@huancui.weihai.example"


def test_the_seven_districts_and_the_seven_clusters(loaded):
    assert {d.code: (d.name, d.kind) for d in District.objects.all()} == DISTRICTS
    assert list(IndustryCluster.objects.values_list("name", flat=True)) == CLUSTERS


def test_ten_chains_of_which_the_city_report_names_two(loaded):
    chains = list(IndustryChain.objects.select_related("chief_office", "lead_department"))

    assert len(chains) == 10
    assert sorted(c.name for c in chains if not c.is_example) == [
        "医药医疗器械",
        "打印设备及智能服务终端",
    ]
    for chain in chains:
        assert chain.chief_office.tier == Tier.LEADER
        assert chain.chief_office.name == f"{chain.name}产业链链长办公室"
        assert chain.lead_department.tier == Tier.CITY
        assert chain.cluster is not None
    assert IndustryChain.objects.get(name="医药医疗器械").lead_department.name == "市工业和信息化局"


def test_sla_policies_are_the_12345_defaults_for_every_kind_and_level(loaded):
    rows = {
        (p.kind, p.level): (
            p.accept_days,
            p.resolve_days,
            p.return_window_days,
            p.max_extension_days,
            p.auto_close_days,
        )
        for p in SlaPolicy.objects.all()
    }

    resolve = {"district": 5, "city": 10, "leader": 15}
    assert rows == {
        (kind, level): (1, resolve[level], 2, 10, 5)
        for kind in ["difficulty", "technology", "funding", "supply_chain"]
        for level in ["district", "city", "leader"]
    }


def test_the_file_the_model_and_a_missing_policy_all_take_the_one_set_of_sla_defaults(
    empty, tmp_path
):
    from tickets.models import DEFAULT_RESOLVE_DAYS, SLA_DEFAULTS, default_sla
    from tickets.sla import Policy, load_sla

    data = json.loads(reference_data.DEFAULT_PATH.read_text(encoding="utf-8"))
    # The file names kinds and levels only; the values come from tickets.models.
    assert all(set(entry) == {"kind", "level"} for entry in data["sla_policies"])
    data["sla_policies"][0]["resolve_days"] = 7  # an entry's own value wins
    path = tmp_path / "reference.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    reference_data.load(path)
    first = SlaPolicy.objects.get(kind="difficulty", level="district")
    assert (first.accept_days, first.resolve_days) == (1, 7)
    city = SlaPolicy.objects.get(kind="funding", level="city")
    assert {name: getattr(city, name) for name in default_sla("city")} == default_sla("city")
    # A policy added in the admin starts from the same defaults (district level) …
    blank = SlaPolicy(kind="technology", level="district")
    assert {name: getattr(blank, name) for name in SLA_DEFAULTS} == SLA_DEFAULTS
    assert blank.resolve_days == DEFAULT_RESOLVE_DAYS["district"]
    # … and a kind and level without a row gets them too.
    SlaPolicy.objects.filter(kind="funding").delete()
    sla = load_sla(fresh=True)
    assert sla.policy("funding", "leader") == Policy(**default_sla("leader"))
    assert sla.policy("funding", "leader").resolve_days == 15


def test_the_catch_all_rule_is_last_and_names_the_coordinating_office(loaded):
    last = RoutingRule.objects.order_by("-priority").first()

    assert (last.kind, last.category, last.district, last.chain, last.min_amount) == (
        "",
        "",
        None,
        None,
        None,
    )
    assert last.credit_grades == ""
    assert last.department == Department.objects.get(is_coordinator=True)
    decision = routing.route(
        routing_store.load_rules(),
        routing.Facts(kind="difficulty", category="no-such-category"),
        routing_store.load_directory(),
    )
    assert (decision.department_id, decision.rule_id) == (last.department_id, last.id)


def test_calendar_has_the_make_up_working_days_and_the_national_day_holiday(loaded):
    calendar = load_calendar(fresh=True)

    assert calendar.is_working_day(dt.date(2026, 1, 4))  # Sunday, 调休
    assert calendar.is_working_day(dt.date(2026, 2, 14))  # Saturday, 调休
    for day in range(1, 8):
        assert not calendar.is_working_day(dt.date(2026, 10, day))
    assert calendar.years == frozenset({2024, 2025, 2026})


def _route(kind, category="", district="371002", chain=None, grade="B", amount=None):
    facts = routing.Facts(
        kind=kind,
        category=category,
        district_id=District.objects.get(code=district).pk,
        chain_id=IndustryChain.objects.get(name=chain).pk if chain else None,
        amount=Decimal(amount) if amount is not None else None,
        credit_grade=grade,
    )
    decision = routing.route(routing_store.load_rules(), facts, routing_store.load_directory())
    return Department.objects.get(pk=decision.department_id).name, decision.level


@pytest.mark.parametrize(
    ("need", "expected"),
    [
        # 资金需求: the credit grade decides.
        (
            dict(kind="funding", category="loan", grade="C", amount="300"),
            ("威海市企业信用保证基金", "city"),
        ),
        (dict(kind="funding", category="guarantee", grade="A"), ("威海市企业信用保证基金", "city")),
        (dict(kind="funding", category="loan", grade="D"), ("市地方金融监督管理局", "city")),
        (
            dict(kind="funding", category="loan", grade="B", amount="300", district="371003"),
            ("威海市商业银行文登支行", "district"),
        ),
        (
            dict(kind="funding", category="project_loan", grade="A", amount="2000"),
            ("中国工商银行威海分行", "city"),
        ),
        (
            dict(kind="funding", category="loan", grade="A", amount="1000"),
            ("中国建设银行威海分行", "city"),
        ),
        (dict(kind="funding", category="other", grade="A"), ("中国农业银行威海分行", "city")),
        # 企业困难问题: the district counterpart of the competent city bureau.
        (
            dict(kind="difficulty", category="land", district="371003"),
            ("威海市自然资源和规划局文登分局", "district"),
        ),
        (
            dict(kind="difficulty", category="permit", district="zone-gaoqu"),
            ("高区行政审批服务局", "district"),
        ),
        (
            dict(kind="difficulty", category="energy", district="371082"),
            ("荣成市发展和改革局", "district"),
        ),
        # 产业链配套: the chain's lead department; without a chain, the local 工信 office.
        (
            dict(kind="supply_chain", category="supplier", chain="医药医疗器械"),
            ("市工业和信息化局", "city"),
        ),
        (dict(kind="supply_chain", category="buyer", chain="海洋食品"), ("市海洋发展局", "city")),
        (
            dict(kind="supply_chain", category="supplier", district="371083"),
            ("乳山市工业和信息化局", "district"),
        ),
        # 技术需求: the platform that covers the topic.
        (
            dict(kind="technology", category="new_materials"),
            ("碳纤维及复合材料创新平台（示例）", "city"),
        ),
        (
            dict(kind="technology", category="medical"),
            ("医疗器械与生物医药创新平台（示例）", "city"),
        ),
        (dict(kind="technology", category="rd_cooperation"), ("威海产业技术研究院", "city")),
        (dict(kind="technology", category="other"), ("威海产业技术研究院", "city")),
    ],
)
def test_routing_sends_a_representative_need_to_the_expected_department(loaded, need, expected):
    assert _route(**need) == expected


def test_a_broken_reference_is_reported_with_its_place_and_nothing_is_loaded(empty, tmp_path):
    data = json.loads(reference_data.DEFAULT_PATH.read_text(encoding="utf-8"))
    data["departments"][-1]["escalates_to"] = "city-nonexistent"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code = data["departments"][-1]["code"]

    with pytest.raises(reference_data.ReferenceDataError, match=f"{code}.*city-nonexistent"):
        reference_data.load(path)

    assert District.objects.count() == 0
    assert Department.objects.count() == 0


def test_command_prints_progress_and_a_summary_table(loaded):
    out = io.StringIO()

    call_command("load_reference_data", stdout=out)

    text = out.getvalue()
    assert "责任单位: 新增 0，更新 0，未变" in text
    assert "合计" in text
    total = sum(counts().values())
    assert text.splitlines()[-2].split() == ["合计", "0", "0", str(total)]


def test_command_reports_a_missing_file_as_an_error(tmp_path):
    with pytest.raises(CommandError, match="找不到参考数据文件"):
        call_command("load_reference_data", path=str(tmp_path / "missing.json"))
