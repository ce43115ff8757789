"""What goes over the wire. Output serializers are read-only views of the models; input
serializers carry only what a client may set — everything else in a body is ignored."""

from __future__ import annotations

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
from tickets.categories import CATEGORIES
from tickets.models import Kind, Outcome, Status, Ticket, TicketEvent

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


class OutcomeField(serializers.ChoiceField):
    """The outcome's API value, or null while there is none (stored as "")."""

    def __init__(self, **kwargs):
        super().__init__(choices=OUTCOME_CHOICES, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as lists show it (DESIGN §6); the detail adds the rest and the timeline."""

    kind = serializers.ChoiceField(choices=Kind.choices, help_text=_("清单类别"))
    status = serializers.ChoiceField(choices=Status.choices, help_text=_("状态"))
    level = serializers.ChoiceField(choices=Tier.choices, help_text=_("层级"))
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


class TicketEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(help_text=_("操作人；系统自动操作时为 null。"))
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
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event: TicketEvent) -> str | None:
        user = event.actor
        if user is None:
            return None
        return user.get_full_name() or user.get_username()

    @extend_schema_field(serializers.ChoiceField(choices=Status.choices, allow_null=True))
    def get_from_status(self, event: TicketEvent) -> str | None:
        return event.from_status or None

    @extend_schema_field(serializers.ChoiceField(choices=Status.choices, allow_null=True))
    def get_to_status(self, event: TicketEvent) -> str | None:
        return event.to_status or None


class TicketDetailSerializer(TicketSerializer):
    """A ticket with every date, counter and note, and its timeline (oldest event first)."""

    chain = ChainRefSerializer(allow_null=True, help_text=_("关联产业链"))
    events = TicketEventSerializer(many=True, read_only=True, help_text=_("办理记录"))

    class Meta(TicketSerializer.Meta):
        fields = [
            *TicketSerializer.Meta.fields,
            "chain",
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


# --- input --------------------------------------------------------------------------------


def _note(required: bool = False, limit: int = workflow.MAX_NOTE, help_text=None):
    return serializers.CharField(
        required=required,
        allow_blank=not required,
        max_length=limit,
        default=serializers.empty if required else "",
        help_text=help_text,
    )


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


class EmptySerializer(serializers.Serializer):
    pass


class NoteSerializer(serializers.Serializer):
    note = _note(help_text=_("说明（可选）"))


class RequiredNoteSerializer(serializers.Serializer):
    note = _note(required=True, help_text=_("理由"))


class ReasonSerializer(serializers.Serializer):
    reason = _note(required=True, help_text=_("理由"))


class OptionalReasonSerializer(serializers.Serializer):
    reason = _note(help_text=_("理由（可选）"))


class ResolveSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=OUTCOME_CHOICES,
        help_text=_(
            "solved 已解决、basically_solved 基本解决、explained 未能解决，已说明（需上级审核）"
        ),
    )
    note = _note(required=True, limit=workflow.MAX_TEXT, help_text=_("办理说明"))


class ExtendSerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1, max_value=365, help_text=_("申请延期的工作日数（由上一层级审批）")
    )
    reason = _note(required=True, help_text=_("延期理由"))


class RateSerializer(serializers.Serializer):
    score = serializers.IntegerField(
        min_value=1, max_value=5, help_text=_("满意度 1–5（4–5 计为满意）")
    )
    note = _note(limit=500, help_text=_("回访意见（可选）"))


class DispatchSerializer(serializers.Serializer):
    department = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=_("分派到的责任单位 id")
    )
    note = _note(help_text=_("分派说明（可选）"))


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
