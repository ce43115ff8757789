"""Create or reset the demo superuser ``admin`` and print how to log in (used by scripts/run)."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "创建或重置演示超级用户 admin（随机密码或 --password）。"
        " / Create or reset the demo superuser `admin` with a random password (or --password)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help="使用此密码而不是随机密码 / use this password instead of a random one",
        )
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000/admin/",
            help="打印的后台地址 / admin URL to print (default: %(default)s)",
        )

    def handle(self, *args, password=None, url, **options):
        if password is None:
            password = secrets.token_urlsafe(9)
        elif not password.strip():
            raise CommandError("密码不能为空 / --password must not be empty.")

        user_model = get_user_model()
        _user, created = user_model.objects.update_or_create(
            **{user_model.USERNAME_FIELD: USERNAME},
            defaults={
                "is_active": True,
                "is_staff": True,
                "is_superuser": True,
                "password": make_password(password),
            },
        )
        if created:
            self.stdout.write(f"已创建超级用户 {USERNAME} / created superuser {USERNAME}")
        else:
            self.stdout.write(f"已重置超级用户 {USERNAME} 的密码 / reset superuser {USERNAME}")
        # Last line, so scripts can pick it up with `tail -n 1`.
        self.stdout.write(
            f"管理员登录 / admin login: {url}  "
            f"用户名 / user: {USERNAME}  密码 / password: {password}"
        )
