"""Issue an API token (django-rest-knox: only its digest is stored). The token is printed
once, as the last line of the output, so scripts can take it with `| tail -n 1`."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import knox_settings

from enterprises import uscc as uscc_rules
from enterprises.models import Enterprise, EnterpriseAccount
from tickets.actors import actor_for


def api_username(code: str) -> str:
    return f"ent-{code}"


class Command(BaseCommand):
    help = (
        "签发接口令牌：--enterprise <统一社会信用代码> 为企业签发（没有接口账号时创建 "
        "ent-<代码> 账号），或 --user <用户名> 为已有用户签发。令牌只显示一次，在最后一行。"
    )

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--enterprise", metavar="USCC", help="企业的统一社会信用代码")
        who.add_argument("--user", metavar="USERNAME", help="已有用户的用户名")
        parser.add_argument(
            "--ttl-days",
            type=int,
            default=None,
            help="有效天数（默认取 API_TOKEN_TTL_DAYS；0 表示永不过期）",
        )

    def handle(self, *args, enterprise=None, user=None, ttl_days=None, **options):
        if ttl_days is not None and ttl_days < 0:
            raise CommandError("--ttl-days 不能为负数。")
        with transaction.atomic():
            account = self._enterprise_user(enterprise) if enterprise else self._user(user)
            if ttl_days is None:
                expiry = knox_settings.TOKEN_TTL
            else:
                expiry = dt.timedelta(days=ttl_days) if ttl_days else None
            instance, token = AuthToken.objects.create(user=account, expiry=expiry)
        until = (
            timezone.localtime(instance.expiry).strftime("%Y-%m-%d %H:%M")
            if instance.expiry
            else "永不过期"
        )
        self.stdout.write(
            f"已为用户 {account.get_username()} 签发令牌（有效期至 {until}）。"
            "令牌只显示这一次，请妥善保存；撤销：管理后台“Auth tokens”中删除。"
        )
        self.stdout.write(token)

    def _enterprise_user(self, raw: str):
        try:
            code = uscc_rules.validate(raw)
        except uscc_rules.USCCError as error:
            raise CommandError(str(error)) from None
        enterprise = Enterprise.objects.filter(uscc=code).first()
        if enterprise is None:
            raise CommandError(f"没有统一社会信用代码为 {code} 的企业。")
        User = get_user_model()
        username = api_username(code)
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, is_active=True)
            user.set_unusable_password()
            user.save()
            self.stderr.write(f"已创建企业“{enterprise.name}”的接口账号 {username}。")
        account = EnterpriseAccount.objects.filter(user=user).first()
        if account is None:
            EnterpriseAccount.objects.create(user=user, enterprise=enterprise)
        elif account.enterprise_id != enterprise.pk:
            raise CommandError(f"用户 {username} 已绑定另一家企业（{account.enterprise}）。")
        if not user.is_active:
            raise CommandError(f"用户 {username} 已停用，请先在管理后台启用。")
        return user

    def _user(self, username: str):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户 {username} 不存在。")
        if not user.is_active:
            raise CommandError(f"用户 {username} 已停用。")
        actor = actor_for(user)
        if actor.enterprise_id is None and not actor.is_staff_member:
            raise CommandError(
                f"用户 {username} 既不是企业账号，也不属于任何责任单位，令牌没有可用之处。"
                "请先用 add_staff 加入责任单位，或用 --enterprise 为企业签发。"
            )
        return user
