"""Loads routing rules and the department directory from the database for tickets.routing."""

from __future__ import annotations

from enterprises.models import Department, IndustryChain, Tier
from tickets import routing
from tickets.models import RoutingRule, Ticket


def load_rules() -> list[routing.Rule]:
    return [
        routing.Rule(
            id=r.id,
            priority=r.priority,
            kind=r.kind,
            category=r.category,
            district_id=r.district_id,
            chain_id=r.chain_id,
            min_amount=r.min_amount,
            credit_grades=r.credit_grades,
            target=r.target,
            department_id=r.department_id,
        )
        for r in RoutingRule.objects.filter(is_active=True)
    ]


def load_directory() -> routing.Directory:
    rows = list(
        Department.objects.filter(is_active=True).values(
            "id", "tier", "district_id", "escalates_to_id", "is_coordinator"
        )
    )
    counterparts = {
        (row["escalates_to_id"], row["district_id"]): row["id"]
        for row in sorted(rows, key=lambda r: r["id"], reverse=True)
        if row["tier"] == Tier.DISTRICT
    }
    return routing.Directory(
        tiers={row["id"]: row["tier"] for row in rows},
        coordinator_id=next((row["id"] for row in rows if row["is_coordinator"]), None),
        counterparts=counterparts,
        chain_leads=dict(IndustryChain.objects.values_list("id", "lead_department_id")),
    )


def facts_for(ticket: Ticket) -> routing.Facts:
    enterprise = ticket.enterprise
    return routing.Facts(
        kind=ticket.kind,
        category=ticket.category,
        district_id=enterprise.district_id,
        chain_id=ticket.chain_id,
        amount=ticket.amount,
        credit_grade=enterprise.credit_grade,
    )


def default_chain(enterprise, kind: str) -> IndustryChain | None:
    """Supply-chain needs and every need of a 链主企业 are chain-linked: they belong to the
    enterprise's (first) chain unless the submitter named one."""
    if kind != "supply_chain" and not enterprise.is_chain_leader:
        return None
    # Through .all(), so chains prefetched for many submissions (workflow.submit_many) are
    # read from memory; otherwise one small query either way.
    return min(enterprise.chains.all(), key=lambda chain: chain.pk, default=None)
