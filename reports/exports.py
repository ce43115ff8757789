"""XLSX and CSV files: the ticket ledger (台账) and the report workbook.

All workbooks are written with openpyxl's write-only mode: rows stream from a database cursor
into the file and memory stays flat however many tickets there are. Excel has no time zones,
so instants are written as naive Asia/Shanghai wall-clock times.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from enterprises.models import Tier
from reports.periods import SHANGHAI, days_past
from reports.stats import Figures, Rate, StatsResult, format_target
from tickets.models import Kind, Outcome, Status

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


# --- the ledger (台账) --------------------------------------------------------------------

LEDGER_COLUMNS = [
    # (header, value path, width)
    (_("编号"), "number", 16),
    (_("清单类别"), "kind", 12),
    (_("标题"), "title", 40),
    (_("企业名称"), "enterprise__name", 32),
    (_("统一社会信用代码"), "enterprise__uscc", 22),
    (_("区市"), "enterprise__district__name", 10),
    (_("责任单位"), "department__name", 24),
    (_("层级"), "level", 8),
    (_("状态"), "status", 10),
    (_("提交时间"), "created_at", 17),
    (_("签收时限"), "accept_due_at", 17),
    (_("办结时限"), "resolve_due_at", 17),
    (_("办结时间"), "resolved_at", 17),
    (_("办理结果"), "outcome", 16),
    (_("满意度"), "satisfaction", 8),
    (_("督办"), "supervised", 6),
]
_LEDGER_LABELS = {"kind": _KIND, "level": _LEVEL, "status": _STATUS, "outcome": _OUTCOME}


def tickets_xlsx(queryset: QuerySet) -> bytes:
    """The 台账: one row per ticket of ``queryset`` (already scoped and filtered by the
    caller), in the queryset's order. Streams from a server-side cursor."""
    workbook = Workbook(write_only=True)
    sheet = _Sheet(workbook, gettext("诉求台账"), [width for _h, _p, width in LEDGER_COLUMNS])
    sheet.ws.freeze_panes = "A2"
    sheet.header(header for header, _p, _w in LEDGER_COLUMNS)
    paths = [path for _h, path, _w in LEDGER_COLUMNS]
    rows = queryset.values_list(*paths).iterator(chunk_size=CHUNK_SIZE)
    # Header and a closing note take two of Excel's rows.
    for written, values in enumerate(rows, start=1):
        if written > EXCEL_MAX_ROWS - 2:
            sheet.append(
                [
                    gettext("超出 Excel 单表上限，仅导出前 %(count)s 行，请缩小筛选范围。")
                    % {"count": f"{written - 1:,}"}
                ]
            )
            break
        row = []
        for path, value in zip(paths, values, strict=True):
            if path in _LEDGER_LABELS:
                value = _label(_LEDGER_LABELS[path], value)
            elif path == "supervised":
                value = gettext("是") if value else None
            row.append(value)
        sheet.append(row)
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

LISTING_COLUMNS = [
    (_("编号"), 16),
    (_("企业名称"), 32),
    (_("统一社会信用代码"), 22),
    (_("责任单位"), 24),
    (_("层级"), 8),
    (_("状态"), 10),
    (_("提交时间"), 17),
    (_("签收时限"), 17),
    (_("办结时限"), 17),
    (_("超期环节"), 10),
    (_("超期天数"), 10),
    (_("升级次数"), 10),
    (_("督办"), 6),
]

# The fields the listing reads, in order (see ListingRow.from_values).
LISTING_FIELDS = (
    "number",
    "enterprise__name",
    "enterprise__uscc",
    "department__name",
    "level",
    "status",
    "created_at",
    "accept_due_at",
    "resolve_due_at",
    "escalation_count",
    "supervised",
)


@dataclass(frozen=True)
class ListingRow:
    number: str
    enterprise: str
    uscc: str
    department: str | None
    level: str
    status: str
    created_at: dt.datetime
    accept_due_at: dt.datetime | None
    resolve_due_at: dt.datetime | None
    escalation_count: int
    supervised: bool

    @classmethod
    def from_values(cls, values) -> ListingRow:
        return cls(*values)

    def overdue_due(self, now: dt.datetime) -> tuple[str, dt.datetime] | None:
        """(the step, its deadline) when the ticket is overdue at ``now``."""
        if self.status == Status.ASSIGNED and self.accept_due_at and self.accept_due_at < now:
            return gettext("签收"), self.accept_due_at
        if self.status == Status.IN_PROGRESS and self.resolve_due_at and self.resolve_due_at < now:
            return gettext("办结"), self.resolve_due_at
        return None

    def days_overdue(self, now: dt.datetime) -> int | None:
        """Calendar days past the deadline, a started day counting as one."""
        overdue = self.overdue_due(now)
        return None if overdue is None else days_past(overdue[1], now)


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
    listing: Iterable[ListingRow],
) -> bytes:
    """The report workbook: 汇总, 按责任单位, 升级与超期诉求."""
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

    sheet = _Sheet(workbook, gettext("升级与超期诉求"), [w for _n, w in LISTING_COLUMNS])
    sheet.ws.freeze_panes = "B2"
    sheet.header(name for name, _w in LISTING_COLUMNS)
    for item in listing:
        overdue = item.overdue_due(as_of)
        sheet.append(
            [
                item.number,
                item.enterprise,
                item.uscc,
                item.department,
                _label(_LEVEL, item.level),
                _label(_STATUS, item.status),
                item.created_at,
                item.accept_due_at,
                item.resolve_due_at,
                overdue[0] if overdue else None,
                sheet.cell(item.days_overdue(as_of), font=_BELOW_FONT) if overdue else None,
                item.escalation_count,
                gettext("是") if item.supervised else None,
            ]
        )
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


def iter_listing(queryset: QuerySet) -> Iterator[ListingRow]:
    for values in queryset.values_list(*LISTING_FIELDS).iterator(chunk_size=CHUNK_SIZE):
        yield ListingRow.from_values(values)
