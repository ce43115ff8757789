from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from tickets.actors import actor_for


class IsEnterpriseAccount(BasePermission):
    message = _("只有企业账号可以执行此操作。")

    def has_permission(self, request, view):
        return actor_for(request.user).enterprise_id is not None


class CanReadApiDocs(BasePermission):
    """The schema and Swagger UI: everyone when API_DOCS_PUBLIC, else the API's own callers —
    staff, and enterprise integrators with their token (they generate clients from the
    schema)."""

    message = _("接口文档仅对工作人员和企业账号开放。")

    def has_permission(self, request, view):
        if settings.API_DOCS_PUBLIC:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        actor = actor_for(user)
        return user.is_staff or actor.enterprise_id is not None or actor.is_staff_member
