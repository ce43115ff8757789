"""Reference data for Weihai: districts, clusters, departments, chains, SLA policies, routing
rules and the working calendar, loaded from fixtures/weihai_reference.json.

Every row is matched on its natural key (a code; (kind, level) for SLA policies; the name for
routing rules) and created, updated field by field, or left alone, so loading the same file
twice changes nothing. Only the fields the file names are compared: a department switched
off in the admin (`is_active`) stays switched off. Rows the file does not mention are never
deleted. `missing_only=True` creates what is missing and leaves every existing row as staff
edited it (use that on deploys once real e-mail addresses are in the admin).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from enterprises.models import Department, District, IndustryChain, IndustryCluster, Tier
from tickets import calendar_store, categories
from tickets.models import CalendarDay, RoutingRule, SlaPolicy, default_sla

DEFAULT_PATH = Path(settings.BASE_DIR) / "fixtures" / "weihai_reference.json"

TIER_ORDER = {Tier.LEADER: 0, Tier.CITY: 1, Tier.DISTRICT: 2}

# (key in the result, label in the summary) in loading order.
SECTIONS = [
    ("district", "区市"),
    ("cluster", "产业集群"),
    ("department", "责任单位"),
    ("chain", "重点产业链"),
    ("sla_policy", "时限规则"),
    ("routing_rule", "分派规则"),
    ("calendar_day", "工作日历"),
]


class ReferenceDataError(Exception):
    """The reference file is malformed or contradicts the database; the message says where."""


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # differs from the file but left alone (missing_only)

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "kept": self.kept,
        }


def read(path: str | Path | None = None) -> dict:
    path = Path(path or DEFAULT_PATH)
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise ReferenceDataError(f"找不到参考数据文件：{path}") from None
    except json.JSONDecodeError as error:
        raise ReferenceDataError(f"参考数据文件不是合法的 JSON：{path}: {error}") from None
    if not isinstance(data, dict):
        raise ReferenceDataError(f"参考数据文件的顶层应为对象：{path}")
    return data


def load(path: str | Path | None = None, stdout=None, *, missing_only: bool = False) -> dict:
    """Load the reference file in one transaction; return {section: {created, updated, …}}."""
    data = read(path)
    say: Callable[[str], None] = (lambda line: stdout.write(line + "\n")) if stdout else _quiet
    result: dict[str, Counts] = {}
    with transaction.atomic():
        loader = _Loader(missing_only=missing_only)
        for key, label in SECTIONS:
            counts = getattr(loader, f"load_{key}")(data)
            result[key] = counts
            say(
                f"{label}: 新增 {counts.created}，更新 {counts.updated}，未变 {counts.unchanged}"
                + (f"，保留现值 {counts.kept}" if counts.kept else "")
            )
    return {key: counts.as_dict() for key, counts in result.items()}


def format_summary(result: dict) -> str:
    """The summary table the command prints."""
    header = ("数据", "新增", "更新", "未变")
    rows = [
        (label, *(str(result[key][column]) for column in ("created", "updated", "unchanged")))
        for key, label in SECTIONS
        if key in result
    ]
    totals = (
        "合计",
        *(
            str(sum(result[k][c] for k, _ in SECTIONS if k in result))
            for c in ("created", "updated", "unchanged")
        ),
    )
    table = [header, *rows, totals]

    def width(text: str) -> int:  # CJK characters take two columns in a terminal
        return sum(2 if ord(char) > 0x2E7F else 1 for char in text)

    widths = [max(width(row[i]) for row in table) for i in range(len(header))]

    def line(row) -> str:
        cells = [row[0] + " " * (widths[0] - width(row[0]))]
        cells += [" " * (widths[i] - width(cell)) + cell for i, cell in enumerate(row) if i]
        return "  ".join(cells)

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows), rule, line(totals)])


def _quiet(line: str) -> None:
    return None


def _clean(entry: dict) -> dict:
    """Drop the file's comment keys (those starting with "_")."""
    return {key: value for key, value in entry.items() if not key.startswith("_")}


# The keys every entry of a section must have (the others have defaults).
REQUIRED = {
    "districts": ("code", "name", "kind"),
    "clusters": ("code", "name"),
    "departments": ("code", "name", "kind", "tier"),
    "chains": ("code", "name", "chief_office", "lead_department"),
    "sla_policies": ("kind", "level"),
    "routing_rules": ("name", "priority"),
}


def _section(data: dict, key: str) -> list[dict]:
    rows = data.get(key)
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ReferenceDataError(f"参考数据缺少“{key}”列表，或其中有不是对象的条目。")
    for number, row in enumerate(rows, start=1):
        missing = [name for name in REQUIRED[key] if row.get(name) in (None, "")]
        if missing:
            raise ReferenceDataError(f"{key} 第{number}条缺少字段：{'、'.join(missing)}。")
    return [_clean(row) for row in rows]


class _Loader:
    def __init__(self, *, missing_only: bool):
        self.missing_only = missing_only

    # --- the generic diff ------------------------------------------------------------------
    def upsert(
        self,
        model: type[models.Model],
        section: str,
        rows: Iterable[tuple[tuple, dict]],
        existing: dict[tuple, models.Model],
        counts: Counts,
    ) -> dict[tuple, models.Model]:
        """rows: (natural key, {attname: value}). Returns every row of the file by key."""
        loaded: dict[tuple, models.Model] = {}
        for key, values in rows:
            obj = existing.get(key)
            if obj is None:
                obj = model(**values)
                self.validate(obj, section, key)
                obj.save(force_insert=True)
                counts.created += 1
            else:
                changed = [name for name, value in values.items() if getattr(obj, name) != value]
                if not changed:
                    counts.unchanged += 1
                elif self.missing_only:
                    counts.kept += 1
                else:
                    for name in changed:
                        setattr(obj, name, values[name])
                    self.validate(obj, section, key)
                    obj.save(update_fields=[_field_name(model, name) for name in changed])
                    counts.updated += 1
            loaded[key] = obj
        return loaded

    @staticmethod
    def validate(obj: models.Model, section: str, key: tuple) -> None:
        # Field formats here (slug, e-mail, choices, lengths); references were resolved from
        # codes already, and the rules spanning rows are checked by the sections below and
        # by the database (constraints, the escalation trigger).
        relations = [f.name for f in obj._meta.concrete_fields if f.is_relation]
        try:
            obj.clean_fields(exclude=relations)
        except ValidationError as error:
            raise ReferenceDataError(
                f"{section}[{'/'.join(str(part) for part in key)}]：{_messages(error)}"
            ) from None

    # --- sections ----------------------------------------------------------------------------
    def load_district(self, data: dict) -> Counts:
        counts = Counts()
        rows = [
            (
                (row["code"],),
                {
                    "code": row["code"],
                    "name": row["name"],
                    "kind": row["kind"],
                    "order": row.get("order", 0),
                },
            )
            for row in _section(data, "districts")
        ]
        existing = {(d.code,): d for d in District.objects.all()}
        self.districts = {
            key[0]: obj
            for key, obj in self.upsert(District, "districts", rows, existing, counts).items()
        }
        return counts

    def load_cluster(self, data: dict) -> Counts:
        counts = Counts()
        rows = [
            (
                (row["code"],),
                {"code": row["code"], "name": row["name"], "order": row.get("order", 0)},
            )
            for row in _section(data, "clusters")
        ]
        existing = {(c.code,): c for c in IndustryCluster.objects.all()}
        self.clusters = {
            key[0]: obj
            for key, obj in self.upsert(IndustryCluster, "clusters", rows, existing, counts).items()
        }
        return counts

    def load_department(self, data: dict) -> Counts:
        counts = Counts()
        entries = _section(data, "departments")
        for entry in entries:
            if entry.get("tier") not in TIER_ORDER:
                raise ReferenceDataError(
                    f"departments[{entry.get('code')}]：层级应为 district、city 或 leader。"
                )
        # The escalation trigger checks the target's tier, so the top of the ladder goes in
        # first; the coordinator flag moves off the old holder before it lands on the new one.
        entries.sort(key=lambda e: (TIER_ORDER[e["tier"]], bool(e.get("is_coordinator"))))
        existing = {(d.code,): d for d in Department.objects.all()}
        self.departments: dict[str, Department] = {d.code: d for d in existing.values()}
        for entry in entries:
            code = entry["code"]
            self._check_ladder(entry)
            values = {
                "code": code,
                "name": entry["name"],
                "kind": entry["kind"],
                "tier": entry["tier"],
                "district_id": self._district_id(entry.get("district"), f"departments[{code}]"),
                "escalates_to_id": self._department_id(
                    entry.get("escalates_to"), f"departments[{code}].escalates_to"
                ),
                "email": entry.get("email") or "",
                "is_coordinator": bool(entry.get("is_coordinator")),
            }
            loaded = self.upsert(Department, "departments", [((code,), values)], existing, counts)
            self.departments[code] = loaded[(code,)]
        self.departments_by_id = {d.pk: d for d in self.departments.values()}
        return counts

    def _check_ladder(self, entry: dict) -> None:
        where = f"departments[{entry['code']}]"
        tier = entry["tier"]
        if (tier == Tier.DISTRICT) != bool(entry.get("district")):
            raise ReferenceDataError(f"{where}：区市级单位必须填写所属区市，其他层级不填。")
        above = Tier.above(tier)
        target = entry.get("escalates_to")
        if above is None and target:
            raise ReferenceDataError(f"{where}：市领导层级没有上级单位。")
        if above is not None:
            if not target:
                raise ReferenceDataError(f"{where}：须填写上级单位（{Tier(above).label}）。")
            target_tier = self.departments[target].tier if target in self.departments else None
            if target_tier is not None and target_tier != above:
                expected, actual = Tier(above).label, Tier(target_tier).label
                raise ReferenceDataError(
                    f"{where}：上级单位 {target} 应为{expected}，而不是{actual}。"
                )

    def load_chain(self, data: dict) -> Counts:
        counts = Counts()
        rows = []
        for order, entry in enumerate(_section(data, "chains"), start=1):
            code = entry["code"]
            where = f"chains[{code}]"
            rows.append(
                (
                    (code,),
                    {
                        "code": code,
                        "name": entry["name"],
                        "cluster_id": self._cluster_id(entry.get("cluster"), where),
                        "chief_office_id": self._department_id(
                            entry["chief_office"], f"{where}.chief_office"
                        ),
                        "lead_department_id": self._department_id(
                            entry["lead_department"], f"{where}.lead_department"
                        ),
                        "is_example": bool(entry.get("is_example")),
                        "order": entry.get("order", order),
                    },
                )
            )
        for (code,), values in rows:
            chief = self.departments_by_id[values["chief_office_id"]]
            lead = self.departments_by_id[values["lead_department_id"]]
            if chief.tier != Tier.LEADER:
                raise ReferenceDataError(f"chains[{code}].chief_office：链长办公室须为市领导层级。")
            if lead.tier != Tier.CITY:
                raise ReferenceDataError(f"chains[{code}].lead_department：牵头部门须为市级单位。")
        existing = {(c.code,): c for c in IndustryChain.objects.all()}
        self.chains = {
            key[0]: obj
            for key, obj in self.upsert(IndustryChain, "chains", rows, existing, counts).items()
        }
        return counts

    def load_sla_policy(self, data: dict) -> Counts:
        """A policy row per entry: the 12345 defaults at its level (tickets.models.default_sla)
        except for the values the entry names."""
        counts = Counts()
        rows = []
        for entry in _section(data, "sla_policies"):
            kind, level = entry["kind"], entry["level"]
            if level not in Tier.values:
                raise ReferenceDataError(
                    f"sla_policies[{kind}/{level}].level：应为 {'、'.join(Tier.values)} 之一。"
                )
            defaults = default_sla(level)
            values = defaults | {name: entry[name] for name in defaults if name in entry}
            rows.append(((kind, level), {"kind": kind, "level": level} | values))
        existing = {(p.kind, p.level): p for p in SlaPolicy.objects.all()}
        self.upsert(SlaPolicy, "sla_policies", rows, existing, counts)
        return counts

    def load_routing_rule(self, data: dict) -> Counts:
        counts = Counts()
        entries = _section(data, "routing_rules")
        names = [entry["name"] for entry in entries]
        if len(set(names)) != len(names):
            raise ReferenceDataError("routing_rules：规则名称重复（名称是规则的标识）。")
        priorities = [entry["priority"] for entry in entries]
        if len(set(priorities)) != len(priorities):
            raise ReferenceDataError("routing_rules：优先级重复。")
        rows = []
        for entry in entries:
            where = f"routing_rules[{entry['name']}]"
            kind, category = entry.get("kind") or "", entry.get("category") or ""
            if category and not kind:
                raise ReferenceDataError(f"{where}：指定细类时必须指定清单类别。")
            if not categories.is_valid(kind, category):
                raise ReferenceDataError(f"{where}：细类“{category}”不属于清单类别“{kind}”。")
            amount = entry.get("min_amount")
            target = entry.get("target") or RoutingRule.Target.FIXED
            if target != RoutingRule.Target.CHAIN_LEAD and not entry.get("department"):
                raise ReferenceDataError(f"{where}：分派方式 {target} 须指定责任单位。")
            rows.append(
                (
                    (entry["name"],),
                    {
                        "name": entry["name"],
                        "priority": entry["priority"],
                        "kind": kind,
                        "category": category,
                        "district_id": self._district_id(entry.get("district"), where),
                        "chain_id": self._chain_id(entry.get("chain"), where),
                        "min_amount": Decimal(str(amount)) if amount is not None else None,
                        "credit_grades": entry.get("credit_grades") or "",
                        "target": target,
                        "department_id": self._department_id(entry.get("department"), where),
                    },
                )
            )
        existing = {(r.name,): r for r in RoutingRule.objects.all()}
        # Priorities are unique. Rules the file does not name keep theirs; so do all existing
        # rules when only missing ones are added.
        taken = {
            rule.priority: rule.name
            for rule in existing.values()
            if self.missing_only or rule.name not in set(names)
        }
        for key, values in rows:
            if self.missing_only and key in existing:
                continue
            holder = taken.get(values["priority"])
            if holder is not None:
                raise ReferenceDataError(
                    f"routing_rules[{key[0]}]：优先级 {values['priority']} 已被规则“{holder}”"
                    "占用，请在管理后台调整后再载入。"
                )
        if not self.missing_only:
            # Rules of the file that swap priorities would collide on the unique priority
            # half-way; park the moving ones on free numbers first.
            moving = [
                existing[key]
                for key, values in rows
                if key in existing and existing[key].priority != values["priority"]
            ]
            parking = max([r.priority for r in RoutingRule.objects.all()] + [0]) + 1
            for offset, rule in enumerate(moving):
                rule.priority = parking + offset
                rule.save(update_fields=["priority"])
        self.upsert(RoutingRule, "routing_rules", rows, existing, counts)
        return counts

    def load_calendar_day(self, data: dict) -> Counts:
        settings_ = _clean(data.get("calendar") or {})
        source = settings_.get("source", "holidays")
        if source != "holidays":
            raise ReferenceDataError(f"calendar.source：只支持 holidays，而不是 {source}。")
        added = calendar_store.seed_from_holidays(first_year=settings_.get("first_year", 2024))
        created = sum(added.values())
        total = CalendarDay.objects.filter(date__year__in=list(added)).count()
        return Counts(created=created, unchanged=total - created)

    # --- references by code ------------------------------------------------------------------
    def _district_id(self, code: str | None, where: str) -> int | None:
        if not code:
            return None
        district = self.districts.get(code) or District.objects.filter(code=code).first()
        if district is None:
            raise ReferenceDataError(f"{where}：找不到区市代码 {code}。")
        return district.pk

    def _cluster_id(self, code: str | None, where: str) -> int | None:
        if not code:
            return None
        cluster = self.clusters.get(code) or IndustryCluster.objects.filter(code=code).first()
        if cluster is None:
            raise ReferenceDataError(f"{where}：找不到产业集群代码 {code}。")
        return cluster.pk

    def _department_id(self, code: str | None, where: str) -> int | None:
        if not code:
            return None
        department = self.departments.get(code)
        if department is None:
            raise ReferenceDataError(f"{where}：找不到责任单位代码 {code}（上级单位须先定义）。")
        return department.pk

    def _chain_id(self, code: str | None, where: str) -> int | None:
        if not code:
            return None
        chain = self.chains.get(code) or IndustryChain.objects.filter(code=code).first()
        if chain is None:
            raise ReferenceDataError(f"{where}：找不到产业链代码 {code}。")
        return chain.pk


def _field_name(model: type[models.Model], attname: str) -> str:
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field.name
    return attname


def _messages(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "；".join(
            f"{field}: {' '.join(str(m) for m in messages)}"
            for field, messages in error.message_dict.items()
        )
    return " ".join(str(message) for message in error.messages)
