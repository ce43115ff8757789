"""The work groups' spreadsheet: the template they fill in, and reading a filled one.

One sheet (诉求清单) with a 清单类别 column rather than a sheet per list: a work group visits
one enterprise and writes down its needs of every kind in one sitting, so one sheet keeps a
visit's rows together, there is one place to paste from the groups' own tables, and the kind
is checked per row by its drop-down like any other controlled column. A second sheet (选项)
holds the drop-downs' lists (a list written into the validation itself is limited to 255
characters, less than the categories need) and a third explains the columns.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from tickets.categories import CATEGORIES
from tickets.models import Kind

SHEET = "诉求清单"
OPTIONS_SHEET = "选项"
HELP_SHEET = "填表说明"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int
    required: bool = False
    note: str = ""


COLUMNS = (
    Column("enterprise_name", "企业名称", 30, True, "须与企业登记名称一致；新企业将自动登记。"),
    Column("uscc", "统一社会信用代码", 22, True, "18位，按 GB 32100-2015 校验。"),
    Column("kind", "清单类别", 14, True, "下拉选择；也可填 difficulty / technology 等接口取值。"),
    Column("category", "细类", 18, False, "下拉选择，须属于所选清单类别；可留空。"),
    Column("title", "标题", 30, True, "不超过200字。"),
    Column("description", "诉求内容", 50, True, "不超过5000字。"),
    Column("amount", "金额（万元）", 12, False, "仅资金需求填写。"),
    Column("chain", "产业链", 18, False, "下拉选择，须为企业所属产业链；可留空。"),
    Column("contact_name", "联系人", 10),
    Column("contact_phone", "联系电话", 16),
    Column("visit_date", "走访日期", 12, False, "如 2026-11-05。"),
    Column("work_group", "工作组", 16, False, "留空则用导入时填写的工作组。"),
)
HEADERS = {column.header: column.key for column in COLUMNS}
# Rows a template offers drop-downs and formats for (a work group's list is far shorter).
TEMPLATE_ROWS = 2000


class WorkbookError(ValueError):
    """The file as a whole cannot be read (not an XLSX, no sheet, headers missing)."""


def template(chain_names: list[str] | None = None) -> bytes:
    """The XLSX template: headers, drop-downs for 清单类别 / 细类 / 产业链, and the help sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = Font(bold=True, color="C00000" if column.required else "000000")
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center")
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"

    options = book.create_sheet(OPTIONS_SHEET)
    kinds = [str(label) for _value, label in Kind.choices]
    category_labels = sorted(
        {str(label) for entries in CATEGORIES.values() for label in entries.values()}
    )
    chains = chain_names or []
    for col, (title, values) in enumerate(
        ((_("清单类别"), kinds), (_("细类"), category_labels), (_("产业链"), chains)), start=1
    ):
        options.cell(row=1, column=col, value=title).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            options.cell(row=row, column=col, value=value)

    def dropdown(key: str, option_col: str, count: int, *, strict: bool) -> None:
        if not count:
            return
        letter = get_column_letter(next(i for i, c in enumerate(COLUMNS, 1) if c.key == key))
        validation = DataValidation(
            type="list",
            formula1=f"'{OPTIONS_SHEET}'!${option_col}$2:${option_col}${count + 1}",
            allow_blank=True,
            # The kind must come from the list (API values are still accepted on import, so
            # a value pasted from elsewhere only warns); categories and chains warn.
            errorStyle="stop" if strict else "warning",
            showErrorMessage=True,
            errorTitle=_("不在可选范围内"),
            error=_("请从下拉列表中选择。"),
        )
        validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        sheet.add_data_validation(validation)

    dropdown("kind", "A", len(kinds), strict=False)
    dropdown("category", "B", len(category_labels), strict=False)
    dropdown("chain", "C", len(chains), strict=False)
    amount_col = get_column_letter(next(i for i, c in enumerate(COLUMNS, 1) if c.key == "amount"))
    amount = DataValidation(
        type="decimal",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        error=_("金额须为不小于0的数字（万元）。"),
    )
    amount.add(f"{amount_col}2:{amount_col}{TEMPLATE_ROWS + 1}")
    sheet.add_data_validation(amount)
    # Text, not numbers: an 18-digit code or a phone number typed into a number cell loses
    # its last digits (Excel keeps 15 significant digits) or its leading zero.
    formats = {"visit_date": "yyyy-mm-dd", "uscc": "@", "contact_phone": "@"}
    for key, number_format in formats.items():
        letter = get_column_letter(next(i for i, c in enumerate(COLUMNS, 1) if c.key == key))
        for row in range(2, TEMPLATE_ROWS + 2):
            sheet[f"{letter}{row}"].number_format = number_format

    help_sheet = book.create_sheet(HELP_SHEET)
    help_sheet.append([_("列"), _("必填"), _("说明")])
    for column in COLUMNS:
        help_sheet.append([column.header, _("是") if column.required else "", column.note])
    help_sheet.append([])
    help_sheet.append([_("细类与清单类别的对应")])
    for kind, entries in CATEGORIES.items():
        help_sheet.append([str(Kind(kind).label), "", "、".join(str(v) for v in entries.values())])
    help_sheet.column_dimensions["A"].width = 18
    help_sheet.column_dimensions["C"].width = 90

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """(sheet row number, {column key: text}) for every non-empty row of the first sheet named
    诉求清单 (or the first sheet). Columns are found by their header, in any order."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # zipfile.BadZipFile, KeyError, InvalidFileException …
        raise WorkbookError(_("无法读取文件，请上传由模板填写的 .xlsx 文件。")) from error
    try:
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise WorkbookError(_("工作表“%(sheet)s”是空的。") % {"sheet": sheet.title})
        positions = {}
        for index, value in enumerate(header):
            key = HEADERS.get(_cell_text(value))
            if key is not None and key not in positions:
                positions[key] = index
        missing = [c.header for c in COLUMNS if c.required and c.key not in positions]
        if missing:
            raise WorkbookError(
                _("表头缺少必填列：%(columns)s。请使用导入模板。") % {"columns": "、".join(missing)}
            )
        result = []
        for number, values in enumerate(rows, start=2):
            cells = {
                key: _cell_text(values[index]) if index < len(values) else ""
                for key, index in positions.items()
            }
            if any(cells.values()):
                result.append((number, cells))
        return result
    finally:
        book.close()
