"""GET /api/v1/stats/resolution/ — the 三率 figures the dashboard shows, as JSON.

Scope: ``tickets.selectors.department_slice`` — department staff get their departments'
tickets, coordinators, leaders and superusers the city. Enterprise accounts (and users who
belong to no department) get **403**: the endpoint is not an object whose existence could
leak, it is documented in the public schema, and a clear "not for you" helps client authors
more than a 404 would. Anonymous requests get 401.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiErrorSerializer, ApiValidationErrorSerializer
from api.views import ApiViewMixin
from reports.periods import EARLIEST_DATE, LATEST_DATE, Period
from reports.stats import GROUP_BY_CHOICES, GROUP_BYS, resolution_stats, scope_label
from tickets.actors import actor_for
from tickets.selectors import department_slice


class StatsQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(
        choices=GROUP_BY_CHOICES,
        default="department",
        help_text=_("分组方式。"),
        error_messages={
            "invalid_choice": _(
                "“{input}”不是有效的分组方式，可选：department、kind、district、level、chain、month。"
            )
        },
    )
    since = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text=_("起始日期（含），按提交时间（北京时间）统计。"),
        error_messages={"invalid": _("日期格式应为 YYYY-MM-DD。")},
    )
    until = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text=_("截止日期（含）。"),
        error_messages={"invalid": _("日期格式应为 YYYY-MM-DD。")},
    )

    def _in_range(self, value: dt.date) -> dt.date:
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            raise serializers.ValidationError(
                _("日期应在 %(a)s 至 %(b)s 之间。") % {"a": EARLIEST_DATE, "b": LATEST_DATE}
            )
        return value

    validate_since = _in_range
    validate_until = _in_range

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": [_("截止日期不能早于起始日期。")]})
        return attrs

    @property
    def period(self) -> Period:
        return Period(self.validated_data.get("since"), self.validated_data.get("until"))


# --- response documentation (the view returns StatsResult.as_dict(), which has this shape) --


class StatsRateSerializer(serializers.Serializer):
    numerator = serializers.IntegerField(help_text=_("分子"))
    denominator = serializers.IntegerField(help_text=_("分母"))
    rate = serializers.FloatField(
        allow_null=True, help_text=_("分子÷分母，保留4位小数；分母为0时为 null。")
    )
    display = serializers.CharField(help_text=_("百分比文字，如 “83.9%”；无分母时为 “—”。"))
    below_target = serializers.BooleanField(help_text=_("低于目标。"))


class StatsFiguresSerializer(serializers.Serializer):
    taken_in = serializers.IntegerField(help_text=_("受理量（不含撤回等不计入受理的状态）"))
    resolved = serializers.IntegerField(help_text=_("已解决（已解决＋基本解决）"))
    returned = serializers.IntegerField(help_text=_("发生过退单的诉求"))
    reopened = serializers.IntegerField(help_text=_("发生过重办的诉求"))
    escalated = serializers.IntegerField(help_text=_("发生过升级的诉求"))
    overdue = serializers.IntegerField(help_text=_("当前超期"))
    supervised = serializers.IntegerField(help_text=_("督办"))
    city_level = serializers.IntegerField(help_text=_("需市级层面解决（层级为市级或市领导）"))
    resolution_rate = StatsRateSerializer(help_text=_("解决率＝已解决÷受理量"))
    on_time_rate = StatsRateSerializer(help_text=_("按时办结率＝办结时限前办结÷已解决"))
    satisfaction_rate = StatsRateSerializer(help_text=_("满意率＝4–5分÷已回访"))
    city_level_resolution_rate = StatsRateSerializer(
        help_text=_("市级层面问题解决占比＝其中已解决÷需市级层面解决")
    )


class StatsRowSerializer(StatsFiguresSerializer):
    key = serializers.CharField(
        allow_null=True,
        help_text=_(
            "分组值：清单类别、层级的取值，月份 YYYY-MM，或责任单位、区市、产业链的 id；"
            "未分派或未关联产业链的诉求为 null。"
        ),
    )
    label = serializers.CharField(help_text=_("分组名称（中文）"))


class StatsOptionsSerializer(serializers.Serializer):
    target = serializers.FloatField()
    count_basically_solved = serializers.BooleanField()
    taken_in_excludes = serializers.ListField(child=serializers.CharField())
    satisfied_min_score = serializers.IntegerField()


class ResolutionStatsSerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=GROUP_BY_CHOICES)
    since = serializers.DateField(allow_null=True)
    until = serializers.DateField(allow_null=True)
    scope = serializers.CharField(help_text=_("统计范围：“全市”或责任单位名称"))
    target = serializers.FloatField(help_text=_("目标值，如 0.9"))
    target_display = serializers.CharField(help_text=_("如 “90%”"))
    options = StatsOptionsSerializer(help_text=_("统计口径"))
    overall = StatsFiguresSerializer()
    rows = StatsRowSerializer(many=True)


class CanViewStatistics(BasePermission):
    message = _("只有责任单位工作人员、统筹协调员和领导可以查看统计数据。")

    def has_permission(self, request, view):
        return actor_for(request.user).is_staff_member


class ResolutionStatsView(ApiViewMixin, APIView):
    permission_classes = [IsAuthenticated, CanViewStatistics]

    @extend_schema(
        operation_id="stats_resolution",
        summary="三率统计（解决率、按时办结率、满意率）",
        description=(
            "按分组返回目标值、总体数据和各组数据；每个比率给出分子、分母和比值，分母为0时"
            "比值为 null（显示“—”）。统计范围：责任单位工作人员为本单位诉求，统筹协调员、"
            "领导为全市。企业账号返回 403。"
        ),
        parameters=[
            OpenApiParameter(
                "group_by",
                str,
                enum=list(GROUP_BYS),
                default="department",
                description="分组方式：department 责任单位、kind 清单类别、district 区市、"
                "level 层级、chain 产业链、month 月份、source 来源（工作组走访、企业自报、"
                "窗口代录）。",
            ),
            OpenApiParameter("since", dt.date, description="起始日期（含），YYYY-MM-DD。"),
            OpenApiParameter("until", dt.date, description="截止日期（含），YYYY-MM-DD。"),
        ],
        responses={
            200: ResolutionStatsSerializer,
            400: OpenApiResponse(ApiValidationErrorSerializer, description="分组方式或日期无效。"),
            401: OpenApiResponse(ApiErrorSerializer, description="未认证。"),
            403: OpenApiResponse(ApiErrorSerializer, description="无权查看统计（如企业账号）。"),
        },
        tags=["stats"],
    )
    def get(self, request):
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = resolution_stats(
            department_slice(request.user),
            group_by=query.validated_data["group_by"],
            period=query.period,
        )
        data = result.as_dict()
        data["scope"] = scope_label(request.user)
        return Response(data)
