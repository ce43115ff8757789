"""REST API v1 views: parse input, call one tickets.workflow function, present the result.

Every ticket queryset starts at tickets.selectors.visible_tickets(request.user), so a ticket
the caller may not see answers 404 — for reads and for every action alike.
"""

from __future__ import annotations

import re

from django.db.models import Prefetch, prefetch_related_objects
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.filters import TicketFilter, TicketOrdering
from api.pagination import TicketPagination
from api.parsers import check_content_length
from api.permissions import IsEnterpriseAccount
from api.schema import errors
from enterprises.models import Department, Enterprise
from tickets import actions, policy, workflow
from tickets.actors import actor_for
from tickets.models import Ticket, TicketEvent
from tickets.selectors import currently_assigned, visible_tickets

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,80}")
TICKET_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="诉求 id")


class ApiViewMixin:
    """The body-size limit checked before anything is read, and quotas before permissions.
    (The error format, api.errors.exception_handler, is the project-wide DRF setting.)"""

    def initial(self, request, *args, **kwargs):
        check_content_length(request)
        super().initial(request, *args, **kwargs)

    def check_permissions(self, request):
        # DRF checks permissions first and quotas after: an anonymous caller would be
        # answered 401 forever and never counted. Here the quota comes first.
        super().check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request):
        """Done by check_permissions, which APIView.initial calls just before this."""


def parse_id(raw) -> int:
    """A path id: a positive 64-bit integer, else 404 (never a 500 or a database error)."""
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        value = int(raw)
        if 1 <= value <= s.MAX_ID:
            return value
    raise NotFound(_("诉求不存在。"))


def _timeline() -> Prefetch:
    # In the order they were written: each transition locks the ticket row, so ids follow
    # the causal order. Timestamps come from the clock of whichever process acted (a web
    # worker, a Celery worker) and can disagree by a few milliseconds.
    return Prefetch(
        "events",
        queryset=TicketEvent.objects.select_related(
            "actor__enterprise_account", "from_department", "to_department"
        ).order_by("id"),
    )


def _detail_queryset():
    return Ticket.objects.select_related(
        "department", "enterprise", "chain", "merged_into"
    ).prefetch_related(_timeline())


class TicketViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """诉求：提交、查询与办理。"""

    pagination_class = TicketPagination
    filter_backends = [DjangoFilterBackend, TicketOrdering]
    filterset_class = TicketFilter
    ordering_fields = [
        "created_at",
        "updated_at",
        "accept_due_at",
        "resolve_due_at",
        "number",
        "id",
    ]
    ordering = ["-created_at", "-id"]
    lookup_value_regex = "[^/]+"

    def get_serializer_class(self):
        return s.TicketSerializer if self.action == "list" else s.TicketDetailSerializer

    def get_serializer_context(self):
        # One instant for a whole page: every row's `overdue` is judged at the same moment.
        return {**super().get_serializer_context(), "now": timezone.now()}

    def get_queryset(self):
        queryset = Ticket.objects.select_related("department", "enterprise")
        if self.action == "retrieve":
            queryset = queryset.select_related("chain", "merged_into").prefetch_related(_timeline())
        return visible_tickets(self.request.user, queryset)

    def count_floor(self):
        """For TicketPagination: part of the filtered list that is cheap to count — department
        staff's tickets currently assigned to them, under the same filters. None if the
        list itself is cheap to count."""
        subset = currently_assigned(self.request.user)
        return None if subset is None else self.filter_queryset(subset)

    def get_object(self) -> Ticket:
        pk = parse_id(self.kwargs.get("pk"))
        try:
            return self.get_queryset().get(pk=pk)
        except Ticket.DoesNotExist:
            raise NotFound(_("诉求不存在。")) from None

    def _detail(self, ticket_id: int, status_code=status.HTTP_200_OK, headers=None) -> Response:
        ticket = _detail_queryset().get(pk=ticket_id)
        return Response(self.get_serializer(ticket).data, status=status_code, headers=headers)

    # --- reads ----------------------------------------------------------------------------

    @extend_schema(
        summary="诉求列表",
        description="本人可见的诉求（企业：本企业的；责任单位：分派给本单位或经过本单位的；"
        "统筹协调员和领导：全部），分页、筛选、排序。",
        responses={200: s.TicketSerializer(many=True), **errors(400, 404)},
    )
    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset()).only(*s.LIST_COLUMNS)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="诉求详情",
        description="含办理记录（时间线）、时限、当前责任单位与层级。",
        parameters=[TICKET_ID],
        responses={200: s.TicketDetailSerializer, **errors(404)},
    )
    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    # --- submission -----------------------------------------------------------------------

    @extend_schema(
        summary="提交诉求（企业账号）",
        description=(
            "企业取自令牌，不取自请求体；状态、层级、责任单位、编号、时限等由系统决定，请求体"
            "中的这些字段被忽略。带 `Idempotency-Key` 请求头时，同一键、同一内容的重试返回"
            "同一诉求（200），同一键、不同内容返回 422。"
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="幂等键：1–80 个可见 ASCII 字符，如 UUID。",
                pattern=r"^[\x21-\x7e]{1,80}$",
            )
        ],
        request=s.TicketSubmitSerializer,
        responses={
            201: OpenApiResponse(s.TicketDetailSerializer, description="已创建。"),
            200: OpenApiResponse(
                s.TicketDetailSerializer, description="同一 Idempotency-Key 的重试：原诉求。"
            ),
            **errors(400, 403, 413, 415, 422, 503),
        },
    )
    def create(self, request):
        if not IsEnterpriseAccount().has_permission(request, self):
            self.permission_denied(request, message=IsEnterpriseAccount.message)
        key = request.headers.get("Idempotency-Key", "")
        if key and not IDEMPOTENCY_KEY.fullmatch(key):
            raise ValidationError(
                {"Idempotency-Key": [_("Idempotency-Key 应为 1–80 个可见 ASCII 字符。")]}
            )
        body = s.TicketSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        ticket, created = workflow.submit_ticket(
            enterprise=actor_for(request.user).enterprise_id,
            kind=data["kind"],
            title=data["title"],
            description=data["description"],
            category=data["category"],
            amount=data["amount"],
            chain_id=data["chain"],
            actor=request.user,
            idempotency_key=key,
        )
        headers = {"Location": f"{request.path}{ticket.pk}/"}
        if not created:
            headers["Idempotent-Replayed"] = "true"
            return self._detail(ticket.pk, status.HTTP_200_OK, headers)
        # The new row is in hand with its enterprise and chain, and no department yet.
        prefetch_related_objects([ticket], _timeline())
        return Response(
            self.get_serializer(ticket).data, status=status.HTTP_201_CREATED, headers=headers
        )

    # --- actions --------------------------------------------------------------------------

    def _act(self, request, spec: actions.ActionSpec, body_class) -> Response:
        ticket = self.get_object()
        # Permission before body validation and before the status check, so a party that
        # may never do this learns only that (403), whatever the body or the status.
        policy.require(actor_for(request.user), spec.name, ticket)
        values = {}
        if body_class is not None:
            body = body_class(data=request.data)
            body.is_valid(raise_exception=True)
            values = body.validated_data
        actions.perform(spec, ticket_id=ticket.pk, actor=request.user, values=values)
        return self._detail(ticket.pk)


def _action_endpoint(spec: actions.ActionSpec):
    """One POST /api/v1/tickets/{id}/<slug>/ per registry entry (tickets.actions)."""
    body_class = s.action_body(spec)

    def endpoint(self, request, pk=None):
        return self._act(request, spec, body_class)

    # Named before decorating (DRF maps the HTTP method to this name), and not the bare slug:
    # `return` is a keyword and `dispatch` is View.dispatch.
    endpoint.__name__ = f"{spec.slug.replace('-', '_')}_action"
    endpoint = action(detail=True, methods=["post"], url_path=spec.slug, url_name=spec.slug)(
        endpoint
    )
    return extend_schema(
        operation_id=f"tickets_{spec.slug.replace('-', '_')}",
        summary=f"{spec.label}（{spec.party}）",
        description=str(spec.description),
        parameters=[TICKET_ID],
        request=body_class,
        responses={200: s.TicketDetailSerializer, **errors(400, 403, 404, 409, 413, 415, 503)},
    )(endpoint)


for _spec in actions.ACTIONS.values():
    _endpoint = _action_endpoint(_spec)
    setattr(TicketViewSet, _endpoint.__name__, _endpoint)


class EnterpriseMeView(ApiViewMixin, APIView):
    @extend_schema(
        summary="本企业信息（企业账号）",
        responses={
            200: s.EnterpriseMeSerializer,
            **errors(404),
        },
        tags=["enterprises"],
    )
    def get(self, request):
        enterprise_id = actor_for(request.user).enterprise_id
        enterprise = (
            Enterprise.objects.select_related("district", "cluster")
            .prefetch_related("chains")
            .filter(pk=enterprise_id)
            .first()
            if enterprise_id is not None
            else None
        )
        if enterprise is None:
            raise NotFound(_("当前账号不是企业账号。"))
        return Response(s.EnterpriseMeSerializer(enterprise).data)


class DepartmentListView(ApiViewMixin, ListAPIView):
    serializer_class = s.DepartmentSerializer
    pagination_class = None
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["tier", "kind"]

    def get_queryset(self):
        return Department.objects.filter(is_active=True).select_related("district")

    @extend_schema(
        summary="责任单位（参考数据）",
        description="启用中的责任单位，可按 tier、kind 筛选。",
        responses={200: s.DepartmentSerializer(many=True), **errors(400)},
        tags=["reference"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CategoryListView(ApiViewMixin, APIView):
    @extend_schema(
        summary="清单类别与细类（参考数据）",
        description="提交诉求时 kind 与 category 的可选值。",
        responses={200: s.KindSerializer(many=True)},
        tags=["reference"],
    )
    def get(self, request):
        return Response(s.kinds_payload())


def not_found(request, *args, **kwargs):
    """Unknown paths under /api/ answer a JSON 404 like every other API error."""
    return JsonResponse(
        {
            "detail": _("接口不存在：%(path)s") % {"path": request.path},
            "code": "not_found",
            "field": None,
        },
        status=404,
        json_dumps_params={"ensure_ascii": False},
    )
