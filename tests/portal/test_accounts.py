"""Accounts: staff invite an enterprise's contact from the admin (发送邀请: the login is made
if needed and a link to set the password is mailed); the contact sets a password and signs
in; "forgot password" mails enterprise accounts only."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from enterprises.models import EnterpriseAccount
from tests.factories import EnterpriseFactory, UserFactory
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Weihai-portal-2026"


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def _invite(client, *enterprises):
    return client.post(
        reverse("admin:enterprises_enterprise_changelist"),
        {"action": "send_invitation", "_selected_action": [e.pk for e in enterprises]},
        follow=True,
    )


def _link(message) -> str:
    return re.search(r"http://testserver(/portal/reset/\S+/)", message.body).group(1)


def _set_password(link: str) -> Client:
    client = Client()
    form = client.get(link, follow=True)  # Django swaps the token for a session and redirects
    assert form.status_code == 200 and "new_password1" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302 and done["Location"] == "/portal/reset/done/"
    return client


def test_an_invitation_makes_the_login_and_its_link_sets_the_password(world, superuser):
    enterprise = EnterpriseFactory(district=world.district, contact_email="boss@firm.example")

    page = _invite(signed_in(superuser), enterprise)

    assert "已发送 1 份邀请" in page.content.decode()
    account = EnterpriseAccount.objects.get(enterprise=enterprise)
    user = account.user
    assert (user.username, user.email, user.has_usable_password()) == (
        enterprise.uscc,
        "boss@firm.example",
        False,
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["boss@firm.example"]
    assert "企业服务账号开通邀请" in message.subject
    assert f"用户名：{enterprise.uscc}" in message.body

    _set_password(_link(message))
    login = Client().post("/portal/login/", {"username": enterprise.uscc, "password": NEW_PASSWORD})
    assert login.status_code == 302 and login["Location"] == "/portal/"
    # The link is spent once the password is set.
    assert "链接无效或已过期" in Client().get(_link(message), follow=True).content.decode()


def test_inviting_again_reuses_the_login(world, superuser):
    client = signed_in(superuser)
    _invite(client, world.enterprise)  # already has world.owner
    _invite(client, world.enterprise)
    assert EnterpriseAccount.objects.filter(enterprise=world.enterprise).count() == 1
    assert get_user_model().objects.filter(username=world.enterprise.uscc).count() == 0
    assert [m.to for m in mail.outbox] == [[world.enterprise.contact_email]] * 2
    world.owner.refresh_from_db()
    assert world.owner.email == world.enterprise.contact_email


def test_an_enterprise_without_a_contact_email_gets_a_message_and_no_login(world, superuser):
    enterprise = EnterpriseFactory(district=world.district, contact_email="")
    page = _invite(signed_in(superuser), enterprise)
    assert "没有联系邮箱" in page.content.decode()
    assert not EnterpriseAccount.objects.filter(enterprise=enterprise).exists()
    assert mail.outbox == []


def test_department_staff_cannot_send_invitations(world):
    response = _invite(signed_in(world.handler), world.enterprise)
    assert mail.outbox == []
    assert response.status_code in (200, 403)


def test_forgot_password_mails_the_account_s_address(world):
    world.owner.email = "owner@firm.example"
    world.owner.set_password("old-password-1234")
    world.owner.save()

    response = Client().post("/portal/password-reset/", {"email": "owner@firm.example"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@firm.example"]
    _set_password(_link(mail.outbox[0]))
    assert (
        Client()
        .post("/portal/login/", {"username": "enterprise-a", "password": NEW_PASSWORD})
        .status_code
        == 302
    )


def test_forgot_password_sends_staff_nothing(world):
    world.handler.set_password("old-password-1234")
    world.handler.save()
    response = Client().post("/portal/password-reset/", {"email": world.handler.email})
    assert response.status_code == 302  # the same answer: nothing to learn from it
    assert mail.outbox == []


def test_a_coordinator_sees_and_sends_the_invitation(world):
    client = signed_in(world.coordinator_user)
    changelist = client.get(reverse("admin:enterprises_enterprise_changelist"))
    assert 'value="send_invitation"' in changelist.content.decode()
    enterprise = EnterpriseFactory(district=world.district, contact_email="new@firm.example")

    page = _invite(client, enterprise)

    assert "已发送 1 份邀请" in page.content.decode()
    assert [m.to for m in mail.outbox] == [["new@firm.example"]]
    assert EnterpriseAccount.objects.get(enterprise=enterprise).user.username == enterprise.uscc


def test_a_staff_login_linked_to_an_enterprise_is_not_invited(world, superuser):
    EnterpriseAccount.objects.filter(user=world.owner).update(user=world.handler)
    page = _invite(signed_in(superuser), world.enterprise)
    assert "是工作人员账号，不能用于企业服务" in page.content.decode()
    assert mail.outbox == []


def test_the_invitation_link_uses_site_url_when_set(world, superuser, settings):
    settings.SITE_URL = "https://weihai.example"
    _invite(signed_in(superuser), world.enterprise)
    assert "https://weihai.example/portal/reset/" in mail.outbox[0].body
    assert "https://weihai.example/portal/login/" in mail.outbox[0].body
