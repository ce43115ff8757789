"""Who may do what to a ticket. Predicates over (actor, ticket); the workflow calls `require`.

- Handling department staff: accept, return, hold, resume, request an extension, resolve.
- The tier above (members of the department it escalates to) or a leader: approve or deny
  an extension, approve or reject an "explained" (cannot be solved) answer.
- Coordinators (市企业服务中心): dispatch submitted and returned tickets; record the
  satisfaction follow-up (回访) and a reopen on the enterprise's behalf — but never for a
  ticket their own department handled.
- Coordinators also merge a duplicate into another ticket of the same enterprise, and add an
  imported duplicate request to an open ticket (absorb).
- The enterprise: confirm, reopen, withdraw, rate its own tickets.
- The system (no user): route, the sweep's yellow cards, reminders, escalations, auto-close.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from enterprises.models import Department
from tickets.actors import Actor
from tickets.errors import NotPermitted
from tickets.models import Ticket

HANDLER_ACTIONS = {"accept", "return", "hold", "resume", "request_extension", "resolve"}
REVIEW_ACTIONS = {
    "approve_extension",
    "deny_extension",
    "approve_explanation",
    "reject_explanation",
}
SYSTEM_ACTIONS = {"route", "auto_close", "warn", "remind", "escalate", "supervise"}
COORDINATOR_ACTIONS = {"dispatch", "merge", "absorb"}


def _is_superuser(actor: Actor) -> bool:
    return bool(actor.user is not None and getattr(actor.user, "is_superuser", False))


def handles(actor: Actor, ticket: Ticket) -> bool:
    return ticket.department_id in actor.department_ids or _is_superuser(actor)


def reviews(actor: Actor, ticket: Ticket) -> bool:
    if _is_superuser(actor) or actor.is_leader:
        return True
    above = (
        Department.objects.filter(pk=ticket.department_id)
        .values_list("escalates_to_id", flat=True)
        .first()
    )
    return above is not None and above in actor.department_ids


def owns(actor: Actor, ticket: Ticket) -> bool:
    return actor.enterprise_id is not None and actor.enterprise_id == ticket.enterprise_id


def follows_up(actor: Actor, ticket: Ticket) -> bool:
    """回访 is recorded by the enterprise or by coordinating staff, never by the handler."""
    if owns(actor, ticket):
        return True
    return actor.is_coordinator and ticket.department_id not in actor.department_ids


def allowed(actor: Actor, action: str, ticket: Ticket) -> bool:
    if action in SYSTEM_ACTIONS:
        return actor.is_system
    if actor.is_system:
        return True  # commands and tasks act with the system's authority
    if action in HANDLER_ACTIONS:
        return handles(actor, ticket)
    if action in REVIEW_ACTIONS:
        return reviews(actor, ticket)
    if action in COORDINATOR_ACTIONS:
        return actor.is_coordinator
    if action in {"confirm", "withdraw"}:
        return owns(actor, ticket)
    if action in {"reopen", "rate"}:
        return follows_up(actor, ticket)
    return False


MESSAGES = {
    "handler": _("只有承办单位的工作人员可以执行此操作。"),
    "review": _("只有上一层级单位或市领导可以审核。"),
    "dispatch": _("只有统筹协调单位（市企业服务中心）可以分派诉求。"),
    "merge": _("只有统筹协调单位（市企业服务中心）可以合并诉求。"),
    "enterprise": _("只有提出诉求的企业可以执行此操作。"),
    "follow_up": _("回访与重办由企业或统筹协调人员办理，承办单位不能自评。"),
    "system": _("此操作由系统自动执行。"),
}


def require(actor: Actor, action: str, ticket: Ticket) -> None:
    if allowed(actor, action, ticket):
        return
    if action in SYSTEM_ACTIONS:
        key = "system"
    elif action in HANDLER_ACTIONS:
        key = "handler"
    elif action in REVIEW_ACTIONS:
        key = "review"
    elif action == "dispatch":
        key = "dispatch"
    elif action in COORDINATOR_ACTIONS:
        key = "merge"
    elif action in {"confirm", "withdraw"}:
        key = "enterprise"
    else:
        key = "follow_up"
    raise NotPermitted(str(MESSAGES[key]))
