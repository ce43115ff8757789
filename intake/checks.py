"""Row-level checks of an imported line: every cell's problem, named by column and rule.

No queries here: the caller passes what the rows refer to (the registered enterprises by
code, the chains by name), fetched once for the whole file.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils import translation
from django.utils.translation import gettext as _

from enterprises import uscc as uscc_rules
from intake.workbook import COLUMNS
from tickets import workflow
from tickets.categories import CATEGORIES
from tickets.models import Kind

HEADER = {column.key: column.header for column in COLUMNS}


@dataclass(frozen=True)
class Registered:
    """What a row needs to know of a registered enterprise."""

    id: int
    name: str
    chain_ids: frozenset[int]


@dataclass
class Checked:
    values: dict
    errors: list[dict] = field(default_factory=list)
    enterprise_id: int | None = None
    registers_enterprise: bool = False

    def fail(self, key: str, rule: str, message: str) -> None:
        self.errors.append({"column": HEADER[key], "rule": rule, "message": message})

    @property
    def ok(self) -> bool:
        return not self.errors


def _labels(choices) -> dict[str, str]:
    """{label in Chinese and in the active language, and the value itself: value}."""
    result = {}
    for value, label in choices:
        result[value.lower()] = value
        result[str(label)] = value
        with translation.override("zh-hans"):
            result[str(label)] = value
        with translation.override("en"):
            result[str(label).lower()] = value
    return result


def kind_lookup() -> dict[str, str]:
    return _labels(Kind.choices)


def category_lookup() -> dict[str, dict[str, str]]:
    return {kind: _labels(list(entries.items())) for kind, entries in CATEGORIES.items()}


def same_name(a: str, b: str) -> bool:
    """Names compared as people write them: full-width/half-width brackets and spaces aside."""

    def fold(text: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))

    return fold(a) == fold(b)


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def _date(text: str) -> dt.date | None:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
    return None


def check_row(
    cells: dict[str, str],
    *,
    registered: dict[str, Registered],
    chains: dict[str, int],
    kinds: dict[str, str],
    categories: dict[str, dict[str, str]],
    work_group: str = "",
) -> Checked:
    """Normalise one row and collect every cell's problem."""
    get = {key: (cells.get(key) or "").strip() for key in HEADER}
    checked = Checked(
        values={
            "enterprise_name": get["enterprise_name"],
            "uscc": uscc_rules.normalise(get["uscc"]),
            "kind": "",
            "category": "",
            "title": get["title"],
            "description": get["description"],
            "amount": None,
            "chain_id": None,
            "contact_name": get["contact_name"][:40],
            "contact_phone": get["contact_phone"][:30],
            "visit_date": "",
            "work_group": (get["work_group"] or work_group).strip()[:100],
        }
    )
    values = checked.values

    # The enterprise: a valid code, registered under the same name — or a name to register.
    code = get["uscc"]
    enterprise = None
    if not code:
        checked.fail("uscc", "required", _("请填写统一社会信用代码。"))
    else:
        try:
            values["uscc"] = uscc_rules.validate(code)
        except uscc_rules.USCCError as error:
            checked.fail("uscc", error.code, str(error))
        else:
            enterprise = registered.get(values["uscc"])
    if enterprise is not None:
        checked.enterprise_id = enterprise.id
        if get["enterprise_name"] and not same_name(get["enterprise_name"], enterprise.name):
            checked.fail(
                "enterprise_name",
                "name_mismatch",
                _("企业名称“%(given)s”与该信用代码登记的名称“%(name)s”不一致。")
                % {"given": get["enterprise_name"], "name": enterprise.name},
            )
        values["enterprise_name"] = enterprise.name
    elif not any(e["column"] == HEADER["uscc"] for e in checked.errors):
        if get["enterprise_name"]:
            checked.registers_enterprise = True
        else:
            checked.fail(
                "enterprise_name",
                "required",
                _("该信用代码的企业尚未登记，请填写企业名称以便登记。"),
            )

    # What kind of need, and which category of it.
    kind = None
    if not get["kind"]:
        checked.fail("kind", "required", _("请填写清单类别。"))
    else:
        kind = kinds.get(get["kind"]) or kinds.get(get["kind"].lower())
        if kind is None:
            checked.fail(
                "kind",
                "unknown_kind",
                _("清单类别“%(kind)s”无效，应为 %(labels)s 之一（或 %(values)s）。")
                % {
                    "kind": get["kind"],
                    "labels": "、".join(str(label) for _v, label in Kind.choices),
                    "values": " / ".join(Kind.values),
                },
            )
        else:
            values["kind"] = kind
    if get["category"] and kind is not None:
        category = categories[kind].get(get["category"]) or categories[kind].get(
            get["category"].lower()
        )
        if category is None:
            checked.fail(
                "category",
                "unknown_category",
                _("细类“%(category)s”不属于%(kind)s，可选：%(choices)s。")
                % {
                    "category": get["category"],
                    "kind": Kind(kind).label,
                    "choices": "、".join(str(v) for v in CATEGORIES[kind].values()),
                },
            )
        else:
            values["category"] = category

    # The text.
    for key, limit in (("title", workflow.MAX_TITLE), ("description", workflow.MAX_TEXT)):
        if not get[key]:
            checked.fail(key, "required", _("请填写%(column)s。") % {"column": HEADER[key]})
        elif len(get[key]) > limit:
            checked.fail(
                key,
                "too_long",
                _("%(column)s不能超过%(limit)s个字。") % {"column": HEADER[key], "limit": limit},
            )

    # The amount, on funding needs only.
    if get["amount"]:
        if kind is not None and kind != Kind.FUNDING:
            checked.fail(
                "amount",
                "amount_not_allowed",
                _("只有资金需求可以填写金额，%(kind)s不填。") % {"kind": Kind(kind).label},
            )
        elif kind == Kind.FUNDING:
            try:
                amount = Decimal(get["amount"].replace(",", ""))
            except InvalidOperation:
                amount = None
            if amount is None or not amount.is_finite() or not 0 <= amount < Decimal("1e10"):
                checked.fail("amount", "invalid_amount", _("金额须为不小于0的数字（单位：万元）。"))
            else:
                values["amount"] = str(amount.quantize(Decimal("0.01")))

    # The chain, one of the enterprise's.
    if get["chain"]:
        chain_id = chains.get(get["chain"])
        if chain_id is None:
            checked.fail(
                "chain", "unknown_chain", _("产业链“%(chain)s”不存在。") % {"chain": get["chain"]}
            )
        elif enterprise is not None and chain_id not in enterprise.chain_ids:
            checked.fail(
                "chain",
                "chain_not_enterprises",
                _("该企业不属于产业链“%(chain)s”。") % {"chain": get["chain"]},
            )
        else:
            values["chain_id"] = chain_id

    if get["visit_date"]:
        visited = _date(get["visit_date"])
        if visited is None:
            checked.fail(
                "visit_date",
                "invalid_date",
                _("走访日期“%(value)s”无法识别，请写成 2026-11-05。")
                % {"value": get["visit_date"]},
            )
        else:
            values["visit_date"] = visited.isoformat()
    return checked
