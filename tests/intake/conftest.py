"""A work group's 40-row list and the world it refers to (tests.tickets.conftest.world)."""

import io
from types import SimpleNamespace

import pytest
from openpyxl import Workbook

from enterprises import uscc
from intake.workbook import COLUMNS, SHEET
from tests.factories import EnterpriseFactory, next_uscc
from tests.tickets import conftest as tickets_conftest
from tests.tickets.conftest import T0, at, make_ticket
from tickets.models import Status, TicketNumberCounter

world = tickets_conftest.world

# Imports happen here: the existing ticket below is 2 days old, well inside 90 days.
NOW = at(2026, 6, 5, 10, 0)

# Thirty distinct needs (title, description), each its own subject: no two read alike.
NEEDS = [
    ("新厂区用地指标", "二期厂区需新增建设用地约40亩，请协调自然资源部门安排用地指标。"),
    ("能耗指标不足", "新上生产线年综合能耗约3000吨标煤，现有能耗指标缺口较大。"),
    ("消防验收排期", "新建仓库消防验收排队时间长，影响投产计划，请协调提前验收。"),
    ("技术工人招聘难", "数控车工和焊工缺口60人，希望人社部门组织专场招聘会。"),
    ("危废处置渠道", "每月产生废切削液约5吨，本地处置单位容量不足，需新增渠道。"),
    ("集装箱运力紧张", "出口旺季订舱困难，运价上涨，希望港口协调增加舱位。"),
    ("出口退税进度", "上季度出口退税尚未到账，资金周转压力大，请加快审核。"),
    ("研发补助兑现", "去年研发费用加计扣除后的市级补助未兑现，请核实发放。"),
    ("碳纤维预浸料工艺", "寻求高校合作攻关碳纤维预浸料低温固化工艺，缩短固化周期。"),
    ("医用导管材料检测", "新型医用导管材料需要生物相容性检测，本地缺少检测平台。"),
    ("焊接机器人改造", "焊装车间计划引入焊接机器人，需要智能化改造方案和技术指导。"),
    ("工业软件国产替代", "现用设计软件授权到期，希望对接国产工业软件厂商进行替代。"),
    ("海参深加工技术", "开发即食海参新品，需要低温杀菌保鲜技术支持。"),
    ("校企联合实验室", "拟与哈工大威海校区共建联合实验室，请协助对接并申报平台。"),
    ("流动资金周转", "原材料集中采购需要流动资金贷款，希望银行给予授信支持。"),
    ("技改项目贷款", "智能工厂技改项目总投资1.2亿元，需要中长期项目贷款。"),
    ("融资担保费率", "申请信保基金担保，希望降低担保费率并简化反担保要求。"),
    ("引入战略投资", "计划引入产业投资基金进行股权融资，用于扩大产能。"),
    ("票据贴现额度", "客户以商业承兑汇票结算，需要增加贴现额度。"),
    ("轴承配套供应商", "需要本地精密轴承配套供应商，年采购量约20万套。"),
    ("产品进入整车采购", "自主研发的汽车线束希望进入本地整车企业采购目录。"),
    ("电机外壳本地配套", "电机铝合金外壳目前从外省采购，希望寻找本地压铸企业替代。"),
    ("包装材料配套", "出口食品需要符合欧盟标准的包装材料，寻求本地供应商。"),
    ("展会推广对接", "希望参加市里组织的医疗器械展会，推广新款康复设备。"),
    ("电力线路迁改", "厂区门前高压线路影响新厂房建设，需供电公司迁改。"),
    ("环评批复加快", "扩建项目环评报告已提交，希望加快审批进度。"),
    ("人才公寓申请", "引进的博士团队需要人才公寓，请协调住房保障部门。"),
    ("专利质押融资", "以12项发明专利申请质押融资，需要评估与银行对接。"),
    ("复合材料测试设备", "需要共享大型复合材料力学测试设备，减少重复购置。"),
    ("芯片替代料认证", "进口芯片交期长，寻求国产替代料并协助完成可靠性认证。"),
]

# (kind as written in the file, category as written, amount) for each of the 30 needs.
SHAPES = [
    ("企业困难问题", "用地规划", ""),
    ("企业困难问题", "能耗指标与用能", ""),
    ("企业困难问题", "审批手续", ""),
    ("企业困难问题", "用工与人才", ""),
    ("企业困难问题", "环保与排放", ""),
    ("企业困难问题", "物流与运输", ""),
    ("企业困难问题", "市场开拓与外贸", ""),
    ("企业困难问题", "finance_policy", ""),
    ("技术需求", "碳纤维与新材料", ""),
    ("技术需求", "医药与医疗器械", ""),
    ("技术需求", "装备制造与智能化", ""),
    ("技术需求", "电子信息与软件", ""),
    ("技术需求", "海洋生物与食品", ""),
    ("技术需求", "产学研合作", ""),
    ("资金需求", "流动资金贷款", "500"),
    ("资金需求", "项目贷款", "12000"),
    ("资金需求", "融资担保", "800"),
    ("资金需求", "股权融资", ""),
    ("funding", "other", "300.5"),  # the English (API) values are accepted too
    ("产业链配套", "寻找配套供应商", ""),
    ("产业链配套", "产品推广与采购对接", ""),
    ("产业链配套", "本地配套替代", ""),
    ("产业链配套", "", ""),
    ("supply_chain", "buyer", ""),
    ("企业困难问题", "", ""),
    ("企业困难问题", "审批手续", ""),
    ("企业困难问题", "用工与人才", ""),
    ("资金需求", "", "200"),
    ("技术需求", "", ""),
    ("技术需求", "", ""),
]

EXISTING = ("用电增容审批", "新厂房用电增容需要协调供电公司，尽快完成800千伏安增容。")


def workbook(rows: list[dict]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append([column.header for column in COLUMNS])
    for row in rows:
        sheet.append([row.get(column.key, "") for column in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def transposed(code: str) -> str:
    """The code with its first pair of differing adjacent characters swapped (positions
    10–17, the organisation code, as a clerk mistypes it)."""
    for i in range(9, 16):
        if code[i] != code[i + 1]:
            return code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    raise AssertionError("no adjacent pair to swap")


def bad_checksum(code: str) -> str:
    alphabet = uscc.ALPHABET
    return code[:17] + alphabet[(alphabet.index(code[17]) + 1) % len(alphabet)]


@pytest.fixture
def intake_world(world):
    # make_ticket numbers tickets itself; keep the submission counter clear of them.
    TicketNumberCounter.objects.create(year=2026, last=100)
    a = world.enterprise
    b = EnterpriseFactory(district=world.district, name="威海蓝海新材料有限公司")
    c = EnterpriseFactory(district=world.district, name="威海华信精密机械（集团）有限公司")
    existing = make_ticket(
        world,
        Status.IN_PROGRESS,
        now=at(2026, 6, 3, 9, 0),
        kind="difficulty",
        category="energy",
        title=EXISTING[0],
        description=EXISTING[1],
    )
    unregistered = next_uscc()
    enterprises = [a, b, c]
    rows = []
    for index, ((title, description), (kind, category, amount)) in enumerate(
        zip(NEEDS, SHAPES, strict=True)
    ):
        owner = enterprises[index % 3]
        rows.append(
            {
                "enterprise_name": owner.name,
                "uscc": owner.uscc.lower() if index == 4 else owner.uscc,  # lower case is fine
                "kind": kind,
                "category": category,
                "title": title,
                "description": description,
                "amount": amount,
                "contact_name": "王经理",
                "contact_phone": "0631-5200000",
                "visit_date": "2026-06-02",
                "work_group": "" if index % 2 else "环翠区第3工作组",
            }
        )
    # The last valid row: an enterprise not registered yet (valid code, a name).
    rows[-1].update(enterprise_name="威海新起点智能科技有限公司", uscc=unregistered)

    def like(index, **changes):
        return {**rows[index], **changes}

    errors = [
        like(0, uscc=bad_checksum(a.uscc), title="厂区道路硬化"),  # 32: bad check character
        like(1, uscc=transposed(b.uscc), title="蒸汽管网接入"),  # 33: two characters swapped
        like(2, kind="人才需求", title="高层次人才落户"),  # 34: no such list
        like(3, title=""),  # 35: no title
        like(8, amount="50", title="纤维缠绕设备"),  # 36: an amount on a technology need
        like(4, enterprise_name="威海某某有限公司", title="危废暂存库改造"),  # 37: wrong name
        like(5, category="股权融资", title="冷链仓储"),  # 38: a funding category on a difficulty
    ]
    duplicates = [
        # 39: row 2 again, as the next visit wrote it down
        like(0, description="二期厂区需要新增建设用地大约40亩，请协调自然资源部门安排用地指标"),
        # 40: the open ticket of enterprise A, reported again by the work group
        like(
            0,
            category="能耗指标与用能",
            title="用电增容审批事项",
            description="新厂房用电增容需要协调供电公司，尽快完成800千伏安的增容。",
        ),
    ]
    # 41: an unregistered code without a name to register it under
    nameless = like(1, enterprise_name="", uscc=next_uscc(), title="废水在线监测")
    all_rows = rows + errors + duplicates + [nameless]
    assert len(all_rows) == 40
    return SimpleNamespace(
        world=world,
        a=a,
        b=b,
        c=c,
        existing=existing,
        unregistered=unregistered,
        rows=all_rows,
        content=workbook(all_rows),
    )


__all__ = ["NOW", "T0", "intake_world", "workbook", "world"]
