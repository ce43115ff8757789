"""What goes over the wire. Output serializers are read-only views of the models; input
serializers carry only what a client may set — everything else in a body is ignored."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from enterprises.models import (
    Department,
    District,
    Enterprise,
    IndustryChain,
    IndustryCluster,
    Tier,
)
from tickets import workflow
from tickets.actions import CHOICE, DEPARTMENT, INTEGER, ActionSpec, Field
from tickets.categories import CATEGORIES
from tickets.models import Kind, Outcome, Source, Status, Ticket, TicketEvent
from tickets.selectors import (
    enterprise_sees,
    is_staff_view,
    outcome_is_public,
    public_actor,
    public_reply,
)

# Database ids are 64-bit; anything larger is refused as input rather than sent to the DB.
MAX_ID = 2**63 - 1
OUTCOME_CHOICES = [(value, label) for value, label in Outcome.choices if value]


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name"]


class EnterpriseRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Enterprise
        fields = ["id", "name", "uscc"]


class ChainRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = IndustryChain
        fields = ["id", "name"]


class DistrictRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = ["id", "name"]


class ClusterRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = IndustryCluster
        fields = ["id", "name"]


class TicketRefSerializer(serializers.ModelSerializer):
    """Another ticket a ticket points to (the survivor of a merge)."""

    url = serializers.SerializerMethodField(help_text=_("该诉求的接口地址"))

    class Meta:
        model = Ticket
        fields = ["id", "number", "url"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_url(self, ticket: Ticket) -> str:
        return f"/api/v1/tickets/{ticket.pk}/"


class OutcomeField(serializers.ChoiceField):
    """The outcome's API value, or null while there is none (stored as "")."""

    def __init__(self, **kwargs):
        super().__init__(choices=OUTCOME_CHOICES, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


def staff_view(context: dict) -> bool:
    """Whether the caller reads a ticket as staff (everything) or as an enterprise (replies,
    statuses, departments and dates; no internal notes, no staff names). Decided once per
    response and kept in the serializer context."""
    if "staff_view" not in context:
        request = context.get("request")
        context["staff_view"] = request is not None and is_staff_view(request.user)
    return context["staff_view"]


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as lists show it (DESIGN §6); the detail adds the rest and the timeline."""

    kind = serializers.ChoiceField(choices=Kind.choices, help_text=_("清单类别"))
    status = serializers.ChoiceField(choices=Status.choices, help_text=_("状态"))
    level = serializers.ChoiceField(choices=Tier.choices, help_text=_("层级"))
    source = serializers.ChoiceField(
        choices=Source.choices,
        help_text=_("来源：work_group 工作组走访、self 企业自报、window 窗口代录"),
    )
    outcome = OutcomeField(help_text=_("办理结果；未办结时为 null。"))
    department = DepartmentRefSerializer(allow_null=True, help_text=_("当前责任单位"))
    enterprise = EnterpriseRefSerializer(help_text=_("提出诉求的企业"))
    overdue = serializers.SerializerMethodField(help_text=_("当前已超过签收或办结时限"))
    deadlines_provisional = serializers.BooleanField(
        help_text=_(
            "时限暂定：时限落在工作日历尚未确认的年份，暂按法定节假日（不含调休）计算；"
            "该年日历确认后自动重算。"
        )
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "kind",
            "title",
            "description",
            "category",
            "amount",
            "status",
            "level",
            "source",
            "department",
            "enterprise",
            "created_at",
            "updated_at",
            "accept_due_at",
            "resolve_due_at",
            "outcome",
            "satisfaction",
            "supervised",
            "overdue",
            "deadlines_provisional",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, ticket: Ticket) -> bool:
        now = self.context.get("now") or timezone.now()
        return ticket.is_overdue(now)

    def to_representation(self, ticket: Ticket):
        data = super().to_representation(ticket)
        if not staff_view(self.context) and not outcome_is_public(ticket):
            # A negative answer awaiting the tier above's review is not the enterprise's yet.
            data["outcome"] = None
            if "outcome_note" in data:
                data["outcome_note"] = ""
        if "extension_requested_days" in data and not staff_view(self.context):
            data["extension_requested_days"] = None  # a request between departments
        return data


def _list_columns() -> tuple[str, ...]:
    """What a list row reads, for QuerySet.only(): the model fields TicketSerializer shows and
    the related fields of its nested references (a ticket row has 40-odd columns, its
    enterprise and department a dozen each). Derived, so a new list field is never loaded
    row by row."""
    columns = []
    for name in TicketSerializer.Meta.fields:
        try:
            field = Ticket._meta.get_field(name)
        except FieldDoesNotExist:
            continue  # computed from other fields (overdue)
        if not field.is_relation:
            columns.append(name)
            continue
        nested = TicketSerializer._declared_fields[name].Meta.fields
        columns += [f"{name}__{sub}" for sub in nested if sub != "id"]
    return tuple(columns)


LIST_COLUMNS = _list_columns()


class TicketEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(
        help_text=_(
            "操作人；系统自动操作时为 null。企业账号看到的是“本企业”或“工作人员”，"
            "看不到工作人员的姓名或用户名。"
        )
    )
    note = serializers.SerializerMethodField(
        help_text=_("内部备注（工作人员之间）；企业账号看到的总是 null。")
    )
    reply = serializers.SerializerMethodField(
        help_text=_("答复企业，或企业自己的留言（重办、撤回理由、评价意见）；企业可见。")
    )
    from_status = serializers.SerializerMethodField(help_text=_("原状态；提交时为 null。"))
    to_status = serializers.SerializerMethodField(help_text=_("新状态"))
    from_department = DepartmentRefSerializer(allow_null=True, read_only=True)
    to_department = DepartmentRefSerializer(allow_null=True, read_only=True)
    level = serializers.ChoiceField(choices=Tier.choices, read_only=True)

    class Meta:
        model = TicketEvent
        fields = [
            "action",
            "from_status",
            "to_status",
            "from_department",
            "to_department",
            "level",
            "actor",
            "note",
            "reply",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event: TicketEvent) -> str | None:
        user = event.actor
        if user is None:
            return None
        if not staff_view(self.context):
            return public_actor(event, event.ticket.enterprise_id)
        return user.get_full_name() or user.get_username()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_note(self, event: TicketEvent) -> str | None:
        return event.note if staff_view(self.context) else None

    @extend_schema_field(serializers.CharField())
    def get_reply(self, event: TicketEvent) -> str:
        return event.reply if staff_view(self.context) else public_reply(event)

    @extend_schema_field(serializers.ChoiceField(choices=Status.choices, allow_null=True))
    def get_from_status(self, event: TicketEvent) -> str | None:
        return event.from_status or None

    @extend_schema_field(serializers.ChoiceField(choices=Status.choices, allow_null=True))
    def get_to_status(self, event: TicketEvent) -> str | None:
        return event.to_status or None


class TicketDetailSerializer(TicketSerializer):
    """A ticket with every date, counter and note, and its timeline (oldest event first)."""

    chain = ChainRefSerializer(allow_null=True, help_text=_("关联产业链"))
    merged_into = TicketRefSerializer(
        allow_null=True,
        help_text=_("已合并（status 为 merged）时，保留并继续办理的诉求；否则为 null。"),
    )
    events = serializers.SerializerMethodField(
        help_text=_("办理记录（时间线），最早的在前；企业账号看不到单位之间的内部步骤。")
    )

    class Meta(TicketSerializer.Meta):
        fields = [
            *TicketSerializer.Meta.fields,
            "chain",
            "work_group",
            "merged_into",
            "assigned_at",
            "accepted_at",
            "resolved_at",
            "closed_at",
            "outcome_note",
            "satisfaction_note",
            "extension_requested_days",
            "extension_days",
            "return_count",
            "reopen_count",
            "escalation_count",
            "events",
        ]
        read_only_fields = fields

    @extend_schema_field(TicketEventSerializer(many=True))
    def get_events(self, ticket: Ticket) -> list[dict]:
        events = list(ticket.events.all())
        if not staff_view(self.context):
            events = [event for event in events if enterprise_sees(event)]
        for event in events:
            TicketEvent.ticket.field.set_cached_value(event, ticket)  # no query per row
        return TicketEventSerializer(events, many=True, context=self.context).data


# --- input --------------------------------------------------------------------------------


class TicketSubmitSerializer(serializers.Serializer):
    """A new need. The enterprise is the caller's; status, level, department, number,
    deadlines and counters are the server's — sent anyway, they are ignored."""

    kind = serializers.ChoiceField(choices=Kind.choices, help_text=_("清单类别（四张清单）"))
    title = serializers.CharField(max_length=workflow.MAX_TITLE, help_text=_("标题"))
    description = serializers.CharField(max_length=workflow.MAX_TEXT, help_text=_("诉求内容"))
    category = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("细类，取值见 GET /api/v1/categories/；可留空。"),
    )
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("金额（万元），仅资金需求填写。"),
    )
    chain = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("关联产业链 id（须为本企业所属产业链）；产业链配套需求默认本企业的产业链。"),
    )


def _body_field(field: Field) -> serializers.Field:
    """The DRF field for one registry field (tickets.actions.Field)."""
    common = {"required": field.required, "help_text": field.help_text or field.label}
    if field.kind == CHOICE:
        return serializers.ChoiceField(choices=field.choices, **common)
    if field.kind in (INTEGER, DEPARTMENT):
        return serializers.IntegerField(
            min_value=field.min_value, max_value=field.max_value or MAX_ID, **common
        )
    return serializers.CharField(
        allow_blank=not field.required,
        max_length=field.max_length,
        **({} if field.required else {"default": ""}),
        **common,
    )


def action_body(spec: ActionSpec) -> type[serializers.Serializer] | None:
    """The request body of an action endpoint, built from its registry entry (None: no body
    fields). Named after the action, e.g. ResolveRequest in the OpenAPI schema."""
    if not spec.fields:
        return None
    name = "".join(part.capitalize() for part in spec.slug.split("-")) + "RequestSerializer"
    attrs = {field.name: _body_field(field) for field in spec.fields}
    return type(name, (serializers.Serializer,), attrs)


# --- reference data -------------------------------------------------------------------------


class DepartmentSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=Department.Kind.choices)
    tier = serializers.ChoiceField(choices=Tier.choices)
    district = DistrictRefSerializer(allow_null=True)

    class Meta:
        model = Department
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "tier",
            "district",
            "escalates_to",
            "is_coordinator",
        ]
        read_only_fields = fields


class EnterpriseMeSerializer(serializers.ModelSerializer):
    district = DistrictRefSerializer()
    cluster = ClusterRefSerializer(allow_null=True)
    chains = ChainRefSerializer(many=True)
    programme = serializers.SerializerMethodField()
    credit_grade = serializers.ChoiceField(choices=Enterprise.CreditGrade.choices)

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "uscc",
            "name",
            "district",
            "cluster",
            "chains",
            "is_chain_leader",
            "programme",
            "credit_grade",
            "contact_name",
            "contact_phone",
            "contact_email",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ChoiceField(
            choices=[c for c in Enterprise.Programme.choices if c[0]], allow_null=True
        )
    )
    def get_programme(self, enterprise: Enterprise) -> str | None:
        return enterprise.programme or None


class CategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class KindSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    label = serializers.CharField()
    categories = CategorySerializer(many=True)


def kinds_payload() -> list[dict]:
    return [
        {
            "kind": kind,
            "label": str(label),
            "categories": [
                {"code": code, "label": str(text)} for code, text in CATEGORIES[kind].items()
            ],
        }
        for kind, label in Kind.choices
    ]
