"""Who is acting: an enterprise account, department staff, a coordinator, a leader, the system."""

from __future__ import annotations

from dataclasses import dataclass

from enterprises.models import DepartmentMembership, EnterpriseAccount


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
        memberships = list(
            DepartmentMembership.objects.filter(user=user).values_list("department_id", "role")
        )
        enterprise_id = (
            EnterpriseAccount.objects.filter(user=user)
            .values_list("enterprise_id", flat=True)
            .first()
        )
        actor = _actor(user, enterprise_id, memberships)
    user._weihai_actor = actor
    return actor


def remember_actor(user, *, enterprise_id: int | None, has_memberships: bool) -> Actor:
    """Resolve the actor from facts the caller loaded with the user in the same query (the
    API's token lookup): the enterprise account's enterprise, and whether any department
    membership exists — only then are the memberships read."""
    if not user.is_active:
        return actor_for(user)
    memberships = (
        list(DepartmentMembership.objects.filter(user=user).values_list("department_id", "role"))
        if has_memberships
        else []
    )
    actor = _actor(user, enterprise_id, memberships)
    user._weihai_actor = actor
    return actor


def _actor(user, enterprise_id: int | None, memberships: list[tuple[int, str]]) -> Actor:
    roles = {role for _, role in memberships}
    return Actor(
        user=user,
        enterprise_id=enterprise_id,
        department_ids=frozenset(d for d, _ in memberships),
        is_coordinator=user.is_superuser or DepartmentMembership.Role.COORDINATOR in roles,
        is_leader=DepartmentMembership.Role.LEADER in roles,
    )
