"""XLSX and CSV files: the ticket ledger (台账) and the report workbook.

All workbooks are written with openpyxl's write-only mode: rows stream from a database cursor
into the file and memory stays flat however many tickets there are. Excel has no time zones,
so instants are written as naive Asia/Shanghai wall-clock times.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from types import SimpleNamespace

from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from enterprises.models import Tier
from reports.periods import SHANGHAI
from reports.stats import Figures, Rate, StatsResult, format_target
from tickets.models import OVERDUE_DEADLINES, Kind, Outcome, Status, lateness

# Excel's sheet limit is 1,048,576 rows; past it the file would not open.
EXCEL_MAX_ROWS = 1_048_576

# Rows fetched per round trip when streaming tickets (a server-side cursor on PostgreSQL):
# big enough to amortise the round trip, small enough to keep memory flat.
CHUNK_SIZE = 2000

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
NO_VALUE = "—"

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_TITLE_FONT = Font(bold=True, size=14)
_BOLD = Font(bold=True)
_BELOW_FONT = Font(bold=True, color="C62828")
_BELOW_FILL = PatternFill("solid", fgColor="FDECEA")
_WRAP = Alignment(wrap_text=True, vertical="top")

_KIND = dict(Kind.choices)
_STATUS = dict(Status.choices)
_LEVEL = dict(Tier.choices)
_OUTCOME = dict(Outcome.choices)


def local_naive(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.astimezone(SHANGHAI).replace(tzinfo=None)


def _label(choices: dict, value) -> str | None:
    return str(choices.get(value, value)) if value else None


class _Sheet:
    """A write-only worksheet with helpers for styled cells."""

    def __init__(self, workbook: Workbook, title: str, widths: Iterable[float]):
        self.ws = workbook.create_sheet(title)
        for index, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width

    def cell(self, value, *, font=None, fill=None, number_format=None, alignment=None):
        cell = WriteOnlyCell(self.ws, value=value)
        if font:
            cell.font = font
        if fill:
            cell.fill = fill
        if number_format:
            cell.number_format = number_format
        if alignment:
            cell.alignment = alignment
        return cell

    def header(self, names: Iterable[str]) -> None:
        self.ws.append([self.cell(str(n), font=_HEADER_FONT, fill=_HEADER_FILL) for n in names])

    def append(self, values: Iterable) -> None:
        self.ws.append(
            [
                v
                if isinstance(v, Cell)
                else self.cell(local_naive(v), number_format=DATETIME_FORMAT)
                if isinstance(v, dt.datetime)
                else v
                for v in values
            ]
        )

    def rate(self, rate: Rate):
        """A rate as a number formatted as a percentage, or "—"; under target in red."""
        if rate.value is None:
            return self.cell(NO_VALUE)
        below = rate.below_target
        return self.cell(
            float(rate.value),
            number_format=PERCENT_FORMAT,
            font=_BELOW_FONT if below else None,
            fill=_BELOW_FILL if below else None,
        )


def _to_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- ticket columns ------------------------------------------------------------------------

# Computed at the report's instant from the ticket's status and deadlines (tickets.lateness).
LATE_STEP = "lateness.step"
LATE_DAYS = "lateness.days"

# Every ticket column a workbook shows: what it reads (a field path, or a lateness column) →
# (header, width). The ledger and the report's listing pick from it, so a column reads and
# looks the same wherever it appears.
TICKET_COLUMNS = {
    "number": (_("编号"), 16),
    "kind": (_("清单类别"), 12),
    "title": (_("标题"), 40),
    "enterprise__name": (_("企业名称"), 32),
    "enterprise__uscc": (_("统一社会信用代码"), 22),
    "enterprise__district__name": (_("区市"), 10),
    "department__name": (_("责任单位"), 24),
    "level": (_("层级"), 8),
    "status": (_("状态"), 10),
    "created_at": (_("提交时间"), 17),
    "accept_due_at": (_("签收时限"), 17),
    "resolve_due_at": (_("办结时限"), 17),
    "resolved_at": (_("办结时间"), 17),
    "outcome": (_("办理结果"), 16),
    "satisfaction": (_("满意度"), 8),
    LATE_STEP: (_("超期环节"), 10),
    LATE_DAYS: (_("超期天数"), 10),
    "escalation_count": (_("升级次数"), 10),
    "supervised": (_("督办"), 6),
}
LEDGER_COLUMNS = (
    "number",
    "kind",
    "title",
    "enterprise__name",
    "enterprise__uscc",
    "enterprise__district__name",
    "department__name",
    "level",
    "status",
    "created_at",
    "accept_due_at",
    "resolve_due_at",
    "resolved_at",
    "outcome",
    "satisfaction",
    "supervised",
)
LISTING_COLUMNS = (
    "number",
    "enterprise__name",
    "enterprise__uscc",
    "department__name",
    "level",
    "status",
    "created_at",
    "accept_due_at",
    "resolve_due_at",
    LATE_STEP,
    LATE_DAYS,
    "escalation_count",
    "supervised",
)
_LABELS = {"kind": _KIND, "level": _LEVEL, "status": _STATUS, "outcome": _OUTCOME}
_LATENESS_COLUMNS = (LATE_STEP, LATE_DAYS)
_LATENESS_FIELDS = ("status", *(field for field, _step in OVERDUE_DEADLINES.values()))


def _ticket_sheet(workbook: Workbook, title: str, columns: Sequence[str], freeze: str) -> _Sheet:
    sheet = _Sheet(workbook, title, [TICKET_COLUMNS[c][1] for c in columns])
    sheet.ws.freeze_panes = freeze  # before the first row: write-only sheets stream
    sheet.header(TICKET_COLUMNS[c][0] for c in columns)
    return sheet


def _ticket_rows(queryset: QuerySet, columns: Sequence[str]) -> Iterator[SimpleNamespace]:
    """The tickets with the columns' fields as attributes, from a server-side cursor."""
    paths = [c for c in columns if c not in _LATENESS_COLUMNS]
    if len(paths) < len(columns):
        paths += [f for f in _LATENESS_FIELDS if f not in paths]
    for values in queryset.values_list(*paths).iterator(chunk_size=CHUNK_SIZE):
        yield SimpleNamespace(**dict(zip(paths, values, strict=True)))


def _ticket_cells(
    sheet: _Sheet, columns: Sequence[str], row: SimpleNamespace, *, now: dt.datetime | None
) -> list:
    """One ticket's cells; the lateness columns as of ``now``."""
    late = lateness(row, now) if now is not None else None
    cells = []
    for column in columns:
        if column == LATE_STEP:
            value = str(late.step) if late else None
        elif column == LATE_DAYS:
            value = sheet.cell(late.days, font=_BELOW_FONT) if late else None
        else:
            value = getattr(row, column)
            if column in _LABELS:
                value = _label(_LABELS[column], value)
            elif column == "supervised":
                value = gettext("是") if value else None
        cells.append(value)
    return cells


# --- the ledger (台账) --------------------------------------------------------------------


def tickets_xlsx(queryset: QuerySet) -> bytes:
    """The 台账: one row per ticket of ``queryset`` (already scoped and filtered by the
    caller), in the queryset's order. Streams from a server-side cursor."""
    workbook = Workbook(write_only=True)
    sheet = _ticket_sheet(workbook, gettext("诉求台账"), LEDGER_COLUMNS, freeze="A2")
    # Header and a closing note take two of Excel's rows.
    for written, row in enumerate(_ticket_rows(queryset, LEDGER_COLUMNS), start=1):
        if written > EXCEL_MAX_ROWS - 2:
            sheet.append(
                [
                    gettext("超出 Excel 单表上限，仅导出前 %(count)s 行，请缩小筛选范围。")
                    % {"count": f"{written - 1:,}"}
                ]
            )
            break
        sheet.append(_ticket_cells(sheet, LEDGER_COLUMNS, row, now=None))
    return _to_bytes(workbook)


# --- the report --------------------------------------------------------------------------

DEPARTMENT_COLUMNS = [
    (_("责任单位"), 28),
    (_("受理量"), 9),
    (_("已解决"), 9),
    (_("解决率"), 9),
    (_("按时办结"), 10),
    (_("按时办结率"), 11),
    (_("已回访"), 9),
    (_("满意"), 8),
    (_("满意率"), 9),
    (_("退单"), 7),
    (_("重办"), 7),
    (_("升级"), 7),
    (_("当前超期"), 10),
    (_("督办"), 7),
    (_("达标情况"), 12),
]


def department_cells(sheet: _Sheet | None, label: str, figures: Figures) -> list:
    """One 按责任单位 row; with ``sheet`` None, plain values for the CSV."""
    rates = (figures.resolution_rate, figures.on_time_rate, figures.satisfaction_rate)

    def rate(value: Rate):
        return sheet.rate(value) if sheet else value.percent

    verdict = gettext("未达标") if figures.below_target else NO_VALUE
    if figures.taken_in and not figures.below_target:
        verdict = gettext("达标")
    if sheet and figures.below_target:
        verdict = sheet.cell("▼ " + gettext("未达标"), font=_BELOW_FONT)
    c = figures.counts
    return [
        str(label),
        c.taken_in,
        c.resolved,
        rate(rates[0]),
        c.on_time,
        rate(rates[1]),
        c.rated,
        c.satisfied,
        rate(rates[2]),
        c.returned,
        c.reopened,
        c.escalated,
        c.overdue,
        c.supervised,
        verdict,
    ]


def report_xlsx(
    *,
    title: str,
    period_label: str,
    as_of: dt.datetime,
    headline: str,
    summary: str,
    by_department: StatsResult,
    by_kind: StatsResult,
    listing: QuerySet,
) -> bytes:
    """The report workbook: 汇总, 按责任单位, 升级与超期诉求 (the ``listing`` tickets, late
    as of ``as_of``)."""
    workbook = Workbook(write_only=True)
    overall = by_department.overall
    _summary_sheet(
        workbook,
        title=title,
        period_label=period_label,
        as_of=as_of,
        headline=headline,
        summary=summary,
        overall=overall,
        by_kind=by_kind,
        options=by_department.options,
    )

    sheet = _Sheet(workbook, gettext("按责任单位"), [w for _n, w in DEPARTMENT_COLUMNS])
    sheet.ws.freeze_panes = "B2"
    sheet.header(name for name, _w in DEPARTMENT_COLUMNS)
    for row in by_department.rows:
        sheet.append(department_cells(sheet, row.label, row.figures))
    total = department_cells(sheet, gettext("合计"), overall)
    total[0] = sheet.cell(gettext("合计"), font=_BOLD)
    sheet.append(total)

    sheet = _ticket_sheet(workbook, gettext("升级与超期诉求"), LISTING_COLUMNS, freeze="B2")
    for row in _ticket_rows(listing, LISTING_COLUMNS):
        sheet.append(_ticket_cells(sheet, LISTING_COLUMNS, row, now=as_of))
    return _to_bytes(workbook)


def _summary_sheet(
    workbook, *, title, period_label, as_of, headline, summary, overall, by_kind, options
):
    sheet = _Sheet(workbook, gettext("汇总"), [30, 14, 10, 10, 10, 12])
    target = options.target
    sheet.append([sheet.cell(title, font=_TITLE_FONT)])
    t = gettext
    sheet.append([t("统计期间"), period_label])
    sheet.append([t("统计时点"), as_of])
    sheet.append([t("摘要"), sheet.cell(headline, font=_BOLD)])
    sheet.append([t("三率"), summary])
    sheet.append([])
    sheet.header([t("指标"), t("数值"), t("分子"), t("分母"), t("目标"), t("达标情况")])

    def rate_row(name: str, rate: Rate):
        verdict = NO_VALUE
        if rate.value is not None:
            verdict = (
                sheet.cell("▼ " + t("未达标"), font=_BELOW_FONT) if rate.below_target else t("达标")
            )
        return [
            name,
            sheet.rate(rate),
            rate.numerator,
            rate.denominator,
            sheet.cell(float(target), number_format="0%"),
            verdict,
        ]

    c = overall.counts
    resolved_name = t("已解决（含基本解决）") if options.count_basically_solved else t("已解决")
    sheet.append([t("受理诉求（件）"), c.taken_in])
    sheet.append([resolved_name, c.resolved])
    sheet.append(rate_row(t("解决率"), overall.resolution_rate))
    sheet.append(rate_row(t("按时办结率"), overall.on_time_rate))
    sheet.append(rate_row(t("满意率"), overall.satisfaction_rate))
    sheet.append([t("需市级层面解决的问题（个）"), c.city_level])
    sheet.append([t("其中已基本解决（个）"), c.city_level_resolved])
    sheet.append(rate_row(t("市级层面问题解决占比"), overall.city_level_resolution_rate))
    sheet.append([t("退单（件）"), c.returned])
    sheet.append([t("重办（件）"), c.reopened])
    sheet.append([t("升级（件）"), c.escalated])
    sheet.append([t("当前超期（件）"), c.overdue])
    sheet.append([t("督办（件）"), c.supervised])
    sheet.append([])
    sheet.header(
        [t("清单类别"), t("受理量"), t("已解决"), t("解决率"), t("按时办结率"), t("满意率")]
    )
    for row in by_kind.rows:
        f = row.figures
        sheet.append(
            [
                str(row.label),
                f.counts.taken_in,
                f.counts.resolved,
                sheet.rate(f.resolution_rate),
                sheet.rate(f.on_time_rate),
                sheet.rate(f.satisfaction_rate),
            ]
        )
    sheet.append([])
    sheet.append([t("统计口径"), sheet.cell(formula_note(options), alignment=_WRAP)])


def formula_note(options) -> str:
    """The formulas in words, for the workbook and the dashboard's footnote."""
    excluded = "、".join(str(_STATUS.get(status, status)) for status in options.taken_in_excludes)
    if excluded:
        taken_in = gettext("受理量不含%(statuses)s的诉求") % {"statuses": excluded}
    else:
        taken_in = gettext("受理量含全部状态的诉求")
    if options.count_basically_solved:
        resolved = gettext("解决率＝已解决÷受理量（“基本解决”计入已解决）")
    else:
        resolved = gettext("解决率＝已解决÷受理量（“基本解决”不计入已解决）")
    rest = gettext(
        "按时办结率＝在办结时限前办结÷已解决；满意率＝%(score)s分及以上÷已回访；"
        "当前超期＝统计时点已超过签收或办结时限的在办诉求（不限提交期间）；"
        "目标%(target)s；无分母时显示“—”。"
    ) % {"score": options.satisfied_min_score, "target": format_target(options.target)}
    return f"{taken_in}；{resolved}；{rest}"


def report_csv(by_department: StatsResult) -> bytes:
    """The by-department table with a 合计 row, UTF-8 with a BOM so Excel reads Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(name) for name, _w in DEPARTMENT_COLUMNS])
    for row in by_department.rows:
        writer.writerow(department_cells(None, row.label, row.figures))
    writer.writerow(department_cells(None, gettext("合计"), by_department.overall))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
