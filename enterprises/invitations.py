"""Inviting an enterprise's contact to the portal: make sure the enterprise has a login, and
mail the contact a link (a password-reset token, Django's) to set its password."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from enterprises.models import DepartmentMembership, Enterprise, EnterpriseAccount


class InvitationError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Invitation:
    username: str
    email: str
    created: bool  # a new login was made for the enterprise


def _login_for(enterprise: Enterprise):
    """The enterprise's login (its first account), or a new one named by its USCC."""
    account = enterprise.accounts.select_related("user").order_by("pk").first()
    if account is not None:
        return account.user, False
    User = get_user_model()
    if User.objects.filter(username=enterprise.uscc).exists():
        raise InvitationError(
            _("用户名 %(username)s 已被其他账号使用，请在“企业账号”中手动关联。")
            % {"username": enterprise.uscc}
        )
    user = User.objects.create_user(username=enterprise.uscc, email=enterprise.contact_email)
    user.set_unusable_password()  # until the contact sets one from the invitation
    user.save(update_fields=["password"])
    EnterpriseAccount.objects.create(user=user, enterprise=enterprise)
    return user, True


def invite(enterprise: Enterprise, *, base_url: str) -> Invitation:
    """Mail the enterprise's contact an invitation to set the login's password.

    `base_url` is the site's address (https://weihai.example). The login's email becomes the
    contact email, so a later "forgot password" reaches the same person. Sent again, it
    sends a fresh link (the older one stays valid until used or expired)."""
    email = (enterprise.contact_email or "").strip()
    if not email:
        raise InvitationError(
            _("%(name)s 没有联系邮箱，请先填写联系邮箱。") % {"name": enterprise.name}
        )
    with transaction.atomic():
        user, created = _login_for(enterprise)
        member = DepartmentMembership.objects.filter(user=user).exists()
        if user.is_staff or user.is_superuser or member:
            raise InvitationError(
                _("%(name)s 关联的账号 %(username)s 是工作人员账号，不能用于企业服务。")
                % {"name": enterprise.name, "username": user.get_username()}
            )
        if user.email != email:
            user.email = email
            user.save(update_fields=["email"])
    path = reverse(
        "portal:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "enterprise": enterprise,
        "username": user.get_username(),
        "link": base_url.rstrip("/") + path,
        "login": base_url.rstrip("/") + reverse("portal:login"),
        "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    with translation.override("zh-hans"):
        subject = _("【企业诉求直通车】企业服务账号开通邀请")
        body = render_to_string("enterprises/email/invitation.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
    return Invitation(username=user.get_username(), email=email, created=created)
