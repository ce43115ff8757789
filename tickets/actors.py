"""Who is acting: an enterprise account, department staff, a coordinator, a leader, the system."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from enterprises.models import DepartmentMembership


@dataclass(frozen=True)
class Actor:
    user: object | None
    enterprise_id: int | None = None
    department_ids: frozenset[int] = frozenset()
    # Coordinators (市企业服务中心) re-dispatch and see everything; superusers act as one.
    is_coordinator: bool = False
    # Leaders approve at the top tier and see everything.
    is_leader: bool = False

    @property
    def is_system(self) -> bool:
        return self.user is None

    @property
    def sees_everything(self) -> bool:
        return self.is_system or self.is_coordinator or self.is_leader

    @property
    def is_staff_member(self) -> bool:
        return bool(self.department_ids) or self.is_coordinator or self.is_leader


SYSTEM = Actor(user=None)


def actor_for(user) -> Actor:
    """Resolve (and memoise on the user object) what this user may act as."""
    if user is None:
        return SYSTEM
    if isinstance(user, Actor):
        return user
    cached = getattr(user, "_weihai_actor", None)
    if cached is not None:
        return cached
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        actor = Actor(user=user)
    else:
        # One query: the enterprise the account acts for, and a row per membership.
        users = get_user_model().objects.filter(pk=user.pk)
        rows = list(
            users.values_list(
                "enterprise_account__enterprise_id",
                "department_memberships__department_id",
                "department_memberships__role",
                "department_memberships__department__is_active",
            )
        )
        enterprise_id = rows[0][0] if rows else None
        # Staff of a deactivated department act for it no longer: no tickets, no actions,
        # no coordinator or leader role through it (API and admin alike).
        memberships = [(d, role) for _, d, role, active in rows if d is not None and active]
        roles = {role for _, role in memberships}
        actor = Actor(
            user=user,
            enterprise_id=enterprise_id,
            department_ids=frozenset(d for d, _ in memberships),
            is_coordinator=user.is_superuser or DepartmentMembership.Role.COORDINATOR in roles,
            is_leader=DepartmentMembership.Role.LEADER in roles,
        )
    user._weihai_actor = actor
    return actor
