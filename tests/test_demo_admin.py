import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

LOGIN_LINE = re.compile(
    r"管理员登录 / admin login: (?P<url>\S+)  "
    r"用户名 / user: (?P<user>\S+)  密码 / password: (?P<password>\S+)"
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default PBKDF2 costs ~0.5 s a hash; these tests check behaviour, not strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def demo_admin(*args: str) -> list[str]:
    out = StringIO()
    call_command("demo_admin", *args, stdout=out)
    return out.getvalue().splitlines()


def login(lines: list[str]) -> dict[str, str]:
    match = LOGIN_LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    return match.groupdict()


def test_creates_superuser_admin_and_prints_how_to_log_in_as_last_line():
    lines = demo_admin()

    assert lines[0] == "已创建超级用户 admin / created superuser admin"
    shown = login(lines)
    assert shown["url"] == "http://127.0.0.1:8000/admin/"
    assert shown["user"] == "admin"
    assert len(shown["password"]) == 12  # secrets.token_urlsafe(9)
    user = get_user_model().objects.get(username="admin")
    assert (user.is_active, user.is_staff, user.is_superuser) == (True, True, True)
    assert user.check_password(shown["password"])


def test_second_run_resets_the_password_of_the_same_user():
    first = login(demo_admin())["password"]

    lines = demo_admin()

    second = login(lines)["password"]
    assert lines[0] == "已重置超级用户 admin 的密码 / reset superuser admin"
    assert second != first
    user = get_user_model().objects.get(username="admin")
    assert user.check_password(second)
    assert not user.check_password(first)
    assert get_user_model().objects.filter(username="admin").count() == 1


def test_given_password_is_used_and_printed():
    shown = login(demo_admin("--password", "weihai-demo-2026"))

    assert shown["password"] == "weihai-demo-2026"
    assert get_user_model().objects.get(username="admin").check_password("weihai-demo-2026")


def test_existing_plain_user_named_admin_becomes_an_active_superuser():
    get_user_model().objects.create_user("admin", password="old", is_active=False)

    shown = login(demo_admin())

    user = get_user_model().objects.get(username="admin")
    assert (user.is_active, user.is_staff, user.is_superuser) == (True, True, True)
    assert user.check_password(shown["password"])
    assert not user.check_password("old")


def test_printed_url_follows_the_port_the_server_runs_on():
    shown = login(demo_admin("--url", "http://127.0.0.1:8080/admin/"))

    assert shown["url"] == "http://127.0.0.1:8080/admin/"


def test_empty_password_is_refused_and_nothing_is_created():
    with pytest.raises(CommandError, match="--password must not be empty"):
        demo_admin("--password", " ")

    assert not get_user_model().objects.filter(username="admin").exists()
