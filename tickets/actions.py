"""The registry of actions a person can take on a ticket: one entry per action, with its label,
the fields it asks for, who may take it and the workflow function that performs it.

Every face reads this table — the admin's action form, the API's action endpoints, the
enterprise portal — so they offer the same actions with the same fields and cannot drift.
Whether an action is possible *now* comes from the workflow's transition table
(`tickets.workflow.TRANSITIONS`) and the permission predicates (`tickets.policy`); the
workflow function re-checks both under the row lock, so a stale page can never apply a move
that is no longer allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tickets import policy, workflow
from tickets.actors import actor_for
from tickets.models import Outcome, Ticket, TicketEvent

Action = TicketEvent.Action

TEXT, CHOICE, INTEGER, DEPARTMENT = "text", "choice", "integer", "department"


@dataclass(frozen=True)
class Field:
    """One input of an action: a form field in the admin and the portal, a body field in the API."""

    name: str
    label: Promise
    kind: str = TEXT
    required: bool = False
    # Text the enterprise reads (a reply, or its own words) rather than an internal note.
    public: bool = False
    max_length: int = workflow.MAX_NOTE
    min_value: int | None = None
    max_value: int | None = None
    choices: tuple[tuple[str, Promise], ...] = ()
    help_text: Promise | str = ""
    # The workflow function's keyword, when it differs from the field's name.
    argument: str | None = None

    @property
    def keyword(self) -> str:
        return self.argument or self.name


@dataclass(frozen=True)
class ActionSpec:
    name: str  # TicketEvent.Action value: the key of TRANSITIONS and of tickets.policy
    slug: str  # the API path segment: /api/v1/tickets/{id}/<slug>/
    label: Promise
    function: Callable[..., Ticket]
    fields: tuple[Field, ...]
    party: Promise  # who takes it, for the docs and the page
    description: Promise | str = ""
    # A precondition beyond the status, read from the ticket ("a request is pending").
    applies: Callable[[Ticket], bool] = lambda ticket: True

    def possible(self, ticket: Ticket) -> bool:
        sources, _target = workflow.TRANSITIONS[self.name]
        return ticket.status in sources and self.applies(ticket)


INTERNAL = _("仅工作人员可见，企业看不到。")


def _note(required=False, label=None):
    return Field("note", label or _("内部备注"), required=required, help_text=INTERNAL)


def _reply(required=False, max_length=workflow.MAX_NOTE):
    return Field(
        "reply",
        _("答复企业"),
        required=required,
        public=True,
        max_length=max_length,
        help_text=_("企业可见：在企业服务页面和通知邮件中显示。"),
    )


def _reason(label, *, public=False, required=True):
    help_text = _("企业可见。") if public else INTERNAL
    return Field("reason", label, required=required, public=public, help_text=help_text)


HANDLER = _("承办单位")
REVIEWER = _("上一层级单位或市领导")
COORDINATOR = _("统筹协调员")
ENTERPRISE = _("企业")
FOLLOW_UP = _("企业或统筹协调员")
OUTCOME_CHOICES = tuple((value, label) for value, label in Outcome.choices if value)

_SPECS = (
    ActionSpec(
        Action.DISPATCH,
        "dispatch",
        _("分派"),
        workflow.dispatch_ticket,
        (
            Field(
                "department",
                _("分派至"),
                kind=DEPARTMENT,
                required=True,
                min_value=1,
                argument="department_id",
                help_text=_("责任单位 id"),
            ),
            _note(),
        ),
        COORDINATOR,
        _("把已提交或被退回的诉求分派给指定责任单位。"),
    ),
    ActionSpec(
        Action.ACCEPT,
        "accept",
        _("签收"),
        workflow.accept_ticket,
        (_note(), _reply()),
        HANDLER,
        _("承办单位签收，开始办理。"),
    ),
    ActionSpec(
        Action.RESOLVE,
        "resolve",
        _("办结"),
        workflow.resolve_ticket,
        (
            Field("outcome", _("办理结果"), kind=CHOICE, required=True, choices=OUTCOME_CHOICES),
            _reply(required=True, max_length=workflow.MAX_TEXT),
            _note(),
        ),
        HANDLER,
        _(
            "reply 为答复企业的内容（企业可见），note 为内部备注。outcome 为 explained"
            "（未能解决，已说明）时进入待审核，由上一层级审核同意后企业才能看到答复。"
        ),
    ),
    ActionSpec(
        Action.RETURN,
        "return",
        _("退单"),
        workflow.return_ticket,
        (_reason(_("退单理由")),),
        HANDLER,
        _("分派后规定工作日内、写明理由，退回市企业服务中心重新分派（理由企业不可见）。"),
    ),
    ActionSpec(
        Action.HOLD,
        "hold",
        _("挂起"),
        workflow.hold_ticket,
        (_reason(_("挂起理由")), _reply()),
        HANDLER,
        _("暂停办结时限计时，须写明理由；需要企业补充材料等情况可同时答复企业。"),
    ),
    ActionSpec(
        Action.RESUME,
        "resume",
        _("恢复办理"),
        workflow.resume_ticket,
        (_note(), _reply()),
        HANDLER,
        _("办结时限顺延挂起期间的工作时间。"),
    ),
    ActionSpec(
        Action.REQUEST_EXTENSION,
        "extend",
        _("申请延期"),
        workflow.request_extension,
        (
            Field(
                "days",
                _("延期工作日"),
                kind=INTEGER,
                required=True,
                min_value=1,
                max_value=365,
                help_text=_("申请延期的工作日数（由上一层级审批）"),
            ),
            _reason(_("延期理由")),
        ),
        HANDLER,
        _("办结时限前申请，由上一层级批准或驳回。"),
        applies=lambda ticket: not ticket.extension_requested_days,
    ),
    ActionSpec(
        Action.APPROVE_EXTENSION,
        "approve-extension",
        _("批准延期"),
        workflow.approve_extension,
        (_note(label=_("审核意见")),),
        REVIEWER,
        applies=lambda ticket: bool(ticket.extension_requested_days),
    ),
    ActionSpec(
        Action.DENY_EXTENSION,
        "deny-extension",
        _("驳回延期"),
        workflow.deny_extension,
        (_note(label=_("审核意见")),),
        REVIEWER,
        applies=lambda ticket: bool(ticket.extension_requested_days),
    ),
    ActionSpec(
        Action.APPROVE_EXPLANATION,
        "approve-explanation",
        _("同意说明"),
        workflow.approve_explanation,
        (_note(label=_("审核意见")),),
        REVIEWER,
        _("同意“未能解决，已说明”的答复：答复成立，企业可以看到。"),
    ),
    ActionSpec(
        Action.REJECT_EXPLANATION,
        "reject-explanation",
        _("驳回说明"),
        workflow.reject_explanation,
        (_note(required=True, label=_("驳回理由")),),
        REVIEWER,
        _("驳回“未能解决，已说明”的答复：诉求回到办理中，须写明理由。"),
    ),
    ActionSpec(
        Action.CONFIRM,
        "confirm",
        _("确认办结"),
        workflow.confirm_ticket,
        (Field("note", _("说明"), public=True, help_text=_("企业可见。")),),
        ENTERPRISE,
    ),
    ActionSpec(
        Action.REOPEN,
        "reopen",
        _("重办"),
        workflow.reopen_ticket,
        (_reason(_("重办理由"), public=True),),
        FOLLOW_UP,
        _("办结后认为未解决，写明理由；第二次重办列入督办。"),
    ),
    ActionSpec(
        Action.WITHDRAW,
        "withdraw",
        _("撤回"),
        workflow.withdraw_ticket,
        (_reason(_("撤回理由"), public=True, required=False),),
        ENTERPRISE,
        _("办结前可撤回。"),
    ),
    ActionSpec(
        Action.RATE,
        "rate",
        _("回访评价"),
        workflow.rate_ticket,
        (
            Field(
                "score",
                _("满意度（1–5）"),
                kind=INTEGER,
                required=True,
                min_value=1,
                max_value=5,
                help_text=_("满意度 1–5（4–5 计为满意）"),
            ),
            Field("note", _("回访意见"), public=True, max_length=500, help_text=_("企业可见。")),
        ),
        FOLLOW_UP,
        _("满意度 1–5，每件诉求只评价一次；承办单位不能自评。"),
        applies=lambda ticket: ticket.satisfaction is None,
    ),
    ActionSpec(
        Action.MERGE,
        "merge",
        _("合并"),
        workflow.merge_ticket,
        (
            Field(
                "into",
                _("合并至（诉求编号）"),
                required=True,
                # A ticket number, not prose: nothing to hide from the enterprise.
                public=True,
                max_length=20,
                help_text=_("同一企业另一件未办结诉求的编号（如 WH-2026-000123）或 id"),
            ),
            _note(),
        ),
        COORDINATOR,
        _(
            "把重复的诉求合并到同一企业的另一件未办结诉求：本件关闭为“已合并”、不再计入受理量，"
            "其内容记入保留诉求的办理记录。"
        ),
    ),
)


ACTIONS: dict[str, ActionSpec] = {spec.name: spec for spec in _SPECS}


def available(user, ticket: Ticket) -> list[ActionSpec]:
    """The actions this user may take on this ticket now, in the registry's order."""
    actor = actor_for(user)
    return [
        spec
        for spec in ACTIONS.values()
        if spec.possible(ticket) and policy.allowed(actor, spec.name, ticket)
    ]


def perform(spec: ActionSpec, *, ticket_id: int, actor, values: dict, now=None) -> Ticket:
    """Run the action's workflow function with the values of its fields (absent ones take the
    function's defaults). Domain errors (tickets.errors) propagate to the caller."""
    arguments = {f.keyword: values[f.name] for f in spec.fields if f.name in values}
    return spec.function(ticket_id=ticket_id, actor=actor, now=now, **arguments)
