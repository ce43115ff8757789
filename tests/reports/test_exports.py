import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from reports.exports import tickets_xlsx
from tests.reports.conftest import wall
from tickets.models import Ticket


def test_ledger_has_one_row_per_ticket_with_readable_values(world):
    tickets = Ticket.objects.filter(number__in=["WH-2026-000005", "WH-2026-000009"])
    content = tickets_xlsx(tickets.order_by("number"))

    sheet = load_workbook(io.BytesIO(content))["诉求台账"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "编号", "清单类别", "标题", "企业名称", "统一社会信用代码", "区市", "责任单位", "层级",
        "状态", "提交时间", "签收时限", "办结时限", "办结时间", "办理结果", "满意度", "督办",
    )  # fmt: skip
    assert rows[1:] == [
        ("WH-2026-000005", "产业链配套", "诉求5", "威海丙公司", world.e3.uscc, "环翠区",
         "市工业和信息化局", "市领导", "已关闭", wall(2026, 2, 28, 20, 0), None,
         wall(2026, 3, 4, 10, 0), wall(2026, 3, 5, 10, 0), "已解决", 4, "是"),
        ("WH-2026-000009", "企业困难问题", "诉求9", "威海甲公司", world.e1.uscc, "环翠区",
         None, "区市级", "已提交", wall(2026, 3, 19, 10, 0), None, None, None, None, None,
         None),
    ]  # fmt: skip
    assert sheet.freeze_panes == "A2"
    assert sheet["J2"].number_format == "yyyy-mm-dd hh:mm"


def test_ledger_of_nothing_is_a_header(db):
    sheet = load_workbook(io.BytesIO(tickets_xlsx(Ticket.objects.none())))["诉求台账"]
    assert sheet.max_row == 1


def test_ledger_export_is_one_query_whatever_the_size(world):
    with CaptureQueriesContext(connection) as queries:
        tickets_xlsx(Ticket.objects.all())

    # A server-side cursor over a single joined SELECT: no query per ticket.
    ours = [q["sql"] for q in queries.captured_queries if '"tickets_ticket"' in q["sql"]]
    assert len(ours) == 1


def test_ledger_stops_at_excel_row_limit_with_a_note(world, monkeypatch):
    monkeypatch.setattr("reports.exports.EXCEL_MAX_ROWS", 4)  # header, 2 tickets, the note

    content = tickets_xlsx(Ticket.objects.order_by("number"))

    rows = list(load_workbook(io.BytesIO(content))["诉求台账"].iter_rows(values_only=True))
    assert [r[0] for r in rows] == [
        "编号",
        "WH-2026-000001",
        "WH-2026-000002",
        "超出 Excel 单表上限，仅导出前 2 行，请缩小筛选范围。",
    ]
