"""OpenAPI details drf-spectacular cannot infer: our token scheme, the error responses each
endpoint can give, and the Retry-After header on 429/503."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse

from api.errors import ApiConflictSerializer, ApiErrorSerializer, ApiValidationErrorSerializer


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _(
                "令牌认证：请求头 `Authorization: Token <令牌>`——值为前缀 `Token`、一个空格、"
                "再接令牌本身（64 位十六进制）。令牌由管理后台或 `manage.py issue_token` 签发，"
                "只在签发时显示一次。"
            ),
            # Not part of OpenAPI's apiKey scheme; generated clients read the description.
            "x-token-prefix": "Token",
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.StaffSessionAuthentication"
    name = "staffSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": _("工作人员的管理后台会话；非 GET 请求须带 X-CSRFToken 请求头。"),
        }


ERROR_DESCRIPTIONS = {
    400: (
        ApiValidationErrorSerializer,
        _("输入无效：detail 说明原因，field 指出字段，errors 列出全部字段错误。"),
    ),
    401: (ApiErrorSerializer, _("未认证：缺少令牌、令牌无效或已过期。")),
    403: (ApiErrorSerializer, _("无权执行此操作（或会话请求缺少 CSRF 令牌）。")),
    404: (ApiErrorSerializer, _("不存在，或不在您的可见范围内。")),
    409: (
        ApiConflictSerializer,
        _("诉求当前状态不允许此操作（status 为当前状态），或已被他人抢先处理。"),
    ),
    413: (ApiErrorSerializer, _("请求体超过大小上限。")),
    415: (ApiErrorSerializer, _("请求体不是 application/json。")),
    422: (ApiErrorSerializer, _("Idempotency-Key 已用于另一内容不同的诉求。")),
    429: (ApiErrorSerializer, _("请求过于频繁；Retry-After 响应头给出需等待的秒数。")),
    503: (
        ApiErrorSerializer,
        _("工作日历缺少所需年份的数据，暂时无法计算办理时限；已通知管理人员。"),
    ),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(ERROR_DESCRIPTIONS[code][0], description=ERROR_DESCRIPTIONS[code][1])
        for code in codes
    }


RETRY_AFTER = {
    "Retry-After": {
        "description": "秒数 / seconds to wait before retrying",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}


def document_common_responses(result, generator, request, public):
    """Every API operation may answer 429 (throttled) and, unless it is public, 401; one with
    a body 411 (chunked, api.parsers); 429 and 503 carry Retry-After. Added here so an
    endpoint written elsewhere is documented too."""
    error_ref = {"$ref": "#/components/schemas/ApiError"}
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(
        "ApiError",
        {
            "type": "object",
            "properties": {
                "detail": {"type": "string"},
                "code": {"type": "string"},
                "field": {"type": "string", "nullable": True},
            },
            "required": ["detail"],
        },
    )
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            needs_auth = {} not in operation.get("security", [{}])
            codes = {"429": _("请求过于频繁；Retry-After 响应头给出需等待的秒数。")}
            if method in ("post", "put", "patch"):
                codes["411"] = _("请求体须带 Content-Length；不支持分块传输。")
            if needs_auth:
                codes["401"] = _("未认证：缺少令牌、令牌无效或已过期。")
            for code, description in codes.items():
                responses.setdefault(
                    code,
                    {
                        "description": str(description),
                        "content": {"application/json": {"schema": error_ref}},
                    },
                )
            for code in ("429", "503"):
                if code in responses:
                    responses[code].setdefault("headers", {}).update(RETRY_AFTER)
    return result


def share_query_enums(result, generator, request, public):
    """Query parameters' choices as the shared component enums (TicketStatusEnum …) instead of
    inline enums titled in Chinese, from which generated clients made one class per
    operation and parameter (`TicketsList状态`). Runs after postprocess_schema_enums, which
    names the components."""
    components = result.get("components", {}).get("schemas", {})
    by_values = {}
    for name, schema in components.items():
        values = schema.get("enum")
        if values and schema.get("type") == "string":
            by_values.setdefault(frozenset(values), name)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                target = schema["items"] if schema.get("type") == "array" else schema
                target.pop("title", None)
                values = target.get("enum")
                name = by_values.get(frozenset(values)) if values else None
                if name is None:
                    continue
                for key in ("enum", "type"):
                    target.pop(key)
                ref = {"$ref": f"#/components/schemas/{name}"}
                # OpenAPI 3.0 ignores a $ref's siblings (a default): keep them beside allOf.
                if target:
                    target["allOf"] = [ref]
                else:
                    target.update(ref)
    return result
