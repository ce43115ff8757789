"""Demo data for the intake: one work group's list, imported as staff would import it.

`seed_import_batch` writes a workbook from enterprises already in the database (as a work
group's visit notes: every kind, a few rows with the usual mistakes, one need repeated in
the file and one repeating an open ticket), previews it, confirms it with each row's default
decision and routes the new tickets at once — so the dashboard's source split shows
工作组走访 beside 企业自报 and 窗口代录, and the admin has a batch to look at.

It adds `rows` minus the bad and repeated rows to the tickets taken in: a caller that must
hit exact figures (the city-report scenario) accounts for them.
"""

from __future__ import annotations

import datetime as dt
import io
import random

from openpyxl import Workbook

from enterprises import uscc
from enterprises.models import Enterprise
from intake import services
from intake.models import ImportBatch
from intake.workbook import COLUMNS, SHEET
from tickets import workflow
from tickets.categories import CATEGORIES
from tickets.models import OPEN_STATUSES, Kind, Ticket

WORK_GROUP = "环翠区第3工作组"
NEEDS = {
    Kind.DIFFICULTY: (
        ("新建厂房用地指标协调", "二期厂区需新增建设用地约40亩，请协调安排用地指标。"),
        ("生产线扩产用电增容", "新上生产线需增容1250千伏安，请协调供电公司加快实施。"),
        ("技术工人招聘难", "数控车工和焊工缺口约60人，希望组织专场招聘会。"),
        ("出口集装箱订舱困难", "出口旺季订舱难、运价高，希望港口协调增加舱位。"),
    ),
    Kind.TECHNOLOGY: (
        ("碳纤维预浸料低温固化", "寻求高校合作攻关预浸料低温固化工艺，缩短固化周期。"),
        ("焊装车间智能化改造", "计划引入焊接机器人，需要智能化改造方案和技术指导。"),
        ("即食海参保鲜技术", "开发即食海参新品，需要低温杀菌保鲜技术支持。"),
    ),
    Kind.FUNDING: (
        ("原材料采购流动资金", "原材料集中采购需要流动资金贷款，希望银行给予授信。"),
        ("智能工厂技改项目贷款", "技改项目总投资1.2亿元，需要中长期项目贷款支持。"),
    ),
    Kind.SUPPLY_CHAIN: (
        ("精密轴承本地配套", "需要本地精密轴承配套供应商，年采购量约20万套。"),
        ("汽车线束进入整车采购", "自主研发的汽车线束希望进入本地整车企业采购目录。"),
    ),
}


def _workbook(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append([column.header for column in COLUMNS])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def demo_workbook(*, rows: int, now: dt.datetime, seed: int, work_group: str) -> bytes:
    """A work group's list of `rows` lines about enterprises in the database."""
    rng = random.Random(seed)
    enterprises = list(Enterprise.objects.order_by("pk").values_list("pk", "uscc", "name")[:400])
    if not enterprises:
        raise ValueError("no enterprises to write a work group's list about")
    visit = now.date().isoformat()
    labels = {value: str(label) for value, label in Kind.choices}
    lines: list[list[str]] = []
    for n in range(rows):
        # Round robin: one enterprise and kind per row until the pairs repeat, so no two
        # rows read as the same need by accident.
        _pk, code, name = enterprises[n % len(enterprises)]
        kind = Kind.values[n % len(Kind.values)]
        title, description = rng.choice(NEEDS[kind])
        category = str(rng.choice(list(CATEGORIES[kind].values())))
        amount = str(rng.choice((200, 500, 800, 3000))) if kind == Kind.FUNDING else ""
        lines.append([name, code, labels[kind], category, f"{title}（{n + 1}）",
                      f"{description}（走访记录第{n + 1}条）", amount, "", "王经理",
                      "0631-5200000", visit, ""])  # fmt: skip
    if rows >= 8:
        # The usual mistakes: a mistyped check character, a list that does not exist, an
        # amount on a technology need; and the first need written down twice.
        lines[1][1] = (
            lines[1][1][:17] + uscc.ALPHABET[(uscc.ALPHABET.index(lines[1][1][17]) + 1) % 31]
        )
        lines[2][2] = "人才需求"
        lines[3][2], lines[3][6] = labels[Kind.TECHNOLOGY], "100"
        lines.append(list(lines[0]))
        # A need an enterprise already has open, reported again on the visit.
        open_ticket = (
            Ticket.objects.filter(status__in=OPEN_STATUSES)
            .select_related("enterprise")
            .order_by("-created_at", "-pk")
            .first()
        )
        if open_ticket is not None:
            e = open_ticket.enterprise
            category = str(CATEGORIES[open_ticket.kind].get(open_ticket.category, ""))
            lines.append([e.name, e.uscc, labels[open_ticket.kind], category, open_ticket.title,
                          open_ticket.description, "", "", "", "", visit, ""])  # fmt: skip
    return _workbook(lines)


def seed_import_batch(
    *,
    now: dt.datetime,
    rows: int = 40,
    seed: int = 20261120,
    work_group: str = WORK_GROUP,
    user=None,
    route: bool = True,
) -> ImportBatch:
    """Import one work group's list at `now` (preview, then confirm with the default
    decisions); with `route`, the new tickets are routed at once rather than by a worker."""
    content = demo_workbook(rows=rows, now=now, seed=seed, work_group=work_group)
    batch = services.preview(
        content,
        file_name=f"{work_group}走访清单.xlsx",
        user=user,
        work_group=work_group,
        now=now,
    )
    batch = services.confirm(batch, user=user, now=now)
    if route:
        workflow.route_many(
            list(batch.tickets.order_by("pk").values_list("pk", flat=True)), now=now
        )
    return batch
