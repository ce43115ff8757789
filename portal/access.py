"""Who may use the portal: enterprise accounts, and nobody on the staff (they use the admin).

A staff user (is_staff, a superuser, or anyone with a department membership) acting as an
enterprise would blur the audit trail — the events would name a staff member as "本企业"."""

from __future__ import annotations

from django.contrib.auth.mixins import AccessMixin
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from tickets.actors import actor_for

STAFF_REFUSED = _("工作人员账号不能使用企业服务页面，请在管理后台办理。")
NOT_AN_ENTERPRISE = _("该账号未关联企业，不能使用企业服务。请联系市企业服务中心开通。")


def refusal(user) -> str | None:
    """Why this signed-in user may not use the portal (None: an enterprise account may)."""
    actor = actor_for(user)
    if user.is_staff or user.is_superuser or actor.is_staff_member:
        return str(STAFF_REFUSED)
    if actor.enterprise_id is None:
        return str(NOT_AN_ENTERPRISE)
    return None


class EnterpriseRequiredMixin(AccessMixin):
    """Signed in (else to the portal login) as an enterprise account (else 403)."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        reason = refusal(request.user)
        if reason is not None:
            return render(request, "portal/no_access.html", {"reason": reason}, status=403)
        self.enterprise_id = actor_for(request.user).enterprise_id
        return super().dispatch(request, *args, **kwargs)
