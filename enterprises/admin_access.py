"""Admin access by role rather than by Django model permissions.

Staff users belong to departments with a role (DepartmentMembership). Anyone with a
membership may view the reference data and the tickets scoped to them; coordinators (and
superusers) maintain reference data. Model permissions still work for other users.
"""

from enterprises.models import DepartmentMembership


def memberships(request) -> set[str]:
    user = request.user
    cached = getattr(request, "_weihai_roles", None)
    if cached is None:
        cached = set()
        if user.is_authenticated and user.is_active and user.is_staff:
            # A deactivated department's staff keep their accounts but lose its role.
            cached = set(
                DepartmentMembership.objects.filter(
                    user=user, department__is_active=True
                ).values_list("role", flat=True)
            )
        request._weihai_roles = cached
    return cached


def is_member(request) -> bool:
    return request.user.is_superuser or bool(memberships(request))


def is_coordinator(request) -> bool:
    return request.user.is_superuser or DepartmentMembership.Role.COORDINATOR in memberships(
        request
    )


class MemberViewsCoordinatorEdits:
    """Members may look; coordinators and superusers may change."""

    def has_module_permission(self, request):
        return is_member(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_member(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return is_coordinator(request) or super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return is_coordinator(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
