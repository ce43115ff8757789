"""Routing: which department answers a ticket. Pure — the rules and the department directory
come in as plain data (see load_routing), so the matching is tested as a table.

A rule matches when every condition it sets holds (an empty condition matches anything);
the first active rule by priority wins. Its target is a fixed department, the district
counterpart of a city department (the 自然资源局 of the enterprise's own district), or the
lead department of the ticket's industry chain. Nothing matching → the coordinating office
(市企业服务中心), which dispatches by hand: a need is never left without an owner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Rule:
    id: int
    priority: int
    kind: str = ""
    category: str = ""
    district_id: int | None = None
    chain_id: int | None = None
    min_amount: Decimal | None = None
    credit_grades: str = ""
    target: str = "fixed"  # fixed | district_counterpart | chain_lead
    department_id: int | None = None


@dataclass(frozen=True)
class Facts:
    """What routing may look at: the ticket and its enterprise."""

    kind: str
    category: str = ""
    district_id: int | None = None
    chain_id: int | None = None
    amount: Decimal | None = None
    credit_grade: str = ""


@dataclass(frozen=True)
class Directory:
    """The departments as routing needs them."""

    tiers: dict[int, str]  # department id -> tier (active departments only)
    coordinator_id: int | None
    # (city department id, district id) -> the district department that escalates to it
    counterparts: dict[tuple[int, int], int] = field(default_factory=dict)
    chain_leads: dict[int, int] = field(default_factory=dict)  # chain id -> lead department


@dataclass(frozen=True)
class Decision:
    department_id: int
    level: str
    rule_id: int | None  # None: nothing matched, the coordinating office takes it


class NoDepartment(Exception):
    """No rule matched and there is no coordinating office to fall back to."""


def matches(rule: Rule, facts: Facts) -> bool:
    if rule.kind and rule.kind != facts.kind:
        return False
    if rule.category and rule.category != facts.category:
        return False
    if rule.district_id is not None and rule.district_id != facts.district_id:
        return False
    if rule.chain_id is not None and rule.chain_id != facts.chain_id:
        return False
    if rule.min_amount is not None and (facts.amount is None or facts.amount < rule.min_amount):
        return False
    return not (rule.credit_grades and facts.credit_grade not in rule.credit_grades)


def target_of(rule: Rule, facts: Facts, directory: Directory) -> int | None:
    if rule.target == "chain_lead":
        if facts.chain_id is None:
            return None
        return directory.chain_leads.get(facts.chain_id) or rule.department_id
    if rule.target == "district_counterpart" and facts.district_id is not None:
        counterpart = directory.counterparts.get((rule.department_id, facts.district_id))
        if counterpart is not None:
            return counterpart
    return rule.department_id


def route(rules: list[Rule], facts: Facts, directory: Directory) -> Decision:
    """The first active rule (by priority) that matches and has a live target."""
    for rule in sorted(rules, key=lambda r: (r.priority, r.id)):
        if not matches(rule, facts):
            continue
        department_id = target_of(rule, facts, directory)
        if department_id is not None and department_id in directory.tiers:
            return Decision(department_id, directory.tiers[department_id], rule.id)
    if directory.coordinator_id is None or directory.coordinator_id not in directory.tiers:
        raise NoDepartment("没有匹配的分派规则，且未设置统筹协调单位（市企业服务中心）。")
    return Decision(directory.coordinator_id, directory.tiers[directory.coordinator_id], None)
