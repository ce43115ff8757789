"""manage.py issue_token and add_staff."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from knox.models import AuthToken
from rest_framework.test import APIClient

from enterprises.models import DepartmentMembership, EnterpriseAccount

pytestmark = pytest.mark.django_db
User = get_user_model()


def issue(*args) -> tuple[str, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_token", *args, stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    return lines[-1], lines


def works(token: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/v1/tickets/").status_code == 200


def test_issue_token_for_an_enterprise_creates_its_api_user_once(world):
    uscc = world.enterprise.uscc

    first, lines = issue("--enterprise", uscc.lower())
    second, _ = issue("--enterprise", uscc)

    user = User.objects.get(username=f"ent-{uscc}")
    assert EnterpriseAccount.objects.get(user=user).enterprise == world.enterprise
    assert not user.has_usable_password()
    assert not user.is_staff
    assert len(first) == 64 and first != second
    assert f"ent-{uscc}" in lines[0]
    assert works(first) and works(second)
    assert AuthToken.objects.filter(user=user).count() == 2
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert me.get("/api/v1/enterprises/me/").json()["uscc"] == uscc


def test_issue_token_for_a_staff_user(world):
    token, _ = issue("--user", "local-handler")

    assert works(token)
    assert AuthToken.objects.get().user == world.handler


def test_issue_token_with_ttl_zero_never_expires(world):
    issue("--user", "local-handler", "--ttl-days", "0")

    assert AuthToken.objects.get().expiry is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--enterprise", "91371002000000001X"], "统一社会信用代码校验位错误"),
        (["--enterprise", "123"], "统一社会信用代码应为18位"),
        (
            ["--enterprise", "914403001922038216"],
            "没有统一社会信用代码为 914403001922038216 的企业",
        ),
        (["--user", "ghost"], "用户 ghost 不存在"),
        (["--user", "plain"], "既不是企业账号，也不属于任何责任单位"),
        (["--user", "local-handler", "--ttl-days", "-1"], "--ttl-days 不能为负数"),
    ],
)
def test_issue_token_refuses_clearly(world, args, message):
    User.objects.create(username="plain")

    with pytest.raises(CommandError, match=message):
        issue(*args)
    assert AuthToken.objects.count() == 0


def test_issue_token_needs_exactly_one_target(world):
    with pytest.raises(CommandError):
        issue()


def test_add_staff_creates_a_staff_member_of_the_department(world):
    out = io.StringIO()

    call_command(
        "add_staff",
        "zhang.san",
        "--department",
        str(world.city.pk),
        "--role",
        "handler",
        "--password",
        "Weihai-2026-strong",
        stdout=out,
    )

    user = User.objects.get(username="zhang.san")
    assert user.is_staff and user.is_active
    assert user.check_password("Weihai-2026-strong")
    membership = DepartmentMembership.objects.get(user=user)
    assert (membership.department, membership.role) == (world.city, "handler")
    assert "已创建工作人员 zhang.san" in out.getvalue()


def test_add_staff_updates_the_role_and_accepts_a_department_code(world):
    call_command(
        "add_staff", "li.si", "--department", "city-gxj", "--role", "handler", stdout=io.StringIO()
    )
    call_command(
        "add_staff", "li.si", "--department", "city-gxj", "--role", "leader", stdout=io.StringIO()
    )

    user = User.objects.get(username="li.si")
    assert list(DepartmentMembership.objects.filter(user=user).values_list("role", flat=True)) == [
        "leader"
    ]
    assert not user.has_usable_password()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--department", "999999", "--role", "handler"], "责任单位 “999999” 不存在"),
        (["--department", "no-such", "--role", "handler"], "责任单位 “no-such” 不存在"),
        (["--department", "city-gxj", "--role", "boss"], "角色 “boss” 无效"),
        (["--department", "city-gxj", "--role", "handler", "--password", "123"], "密码不符合要求"),
    ],
)
def test_add_staff_refuses_clearly(world, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("add_staff", "wang.wu", *args, stdout=io.StringIO())
    assert not User.objects.filter(username="wang.wu").exists()


def test_the_user_admin_page_edits_department_memberships(world):
    from django.test import Client

    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    user = world.handler

    page = admin.get(f"/admin/auth/user/{user.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "department_memberships-TOTAL_FORMS" in html
    assert "enterprise_account-TOTAL_FORMS" in html
    assert world.local.name in html
