"""Provision a staff user from scripts: create or update the user (is_staff) and put them in
a department with a role."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from enterprises.models import Department, DepartmentMembership

ROLES = [role for role, _label in DepartmentMembership.Role.choices]


class Command(BaseCommand):
    help = (
        "添加或更新工作人员：add_staff 用户名 --department 单位ID（或代码） "
        "--role handler|coordinator|leader [--password 密码] [--email 邮箱]。"
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--department", required=True, help="责任单位 id 或代码（见管理后台“责任单位”）"
        )
        parser.add_argument(
            "--role",
            required=True,
            help="handler 经办人、coordinator 统筹协调员、leader 领导",
        )
        parser.add_argument("--password", default=None, help="登录密码（不填则不修改）")
        parser.add_argument("--email", default=None)

    def handle(self, *args, username, department, role, password=None, email=None, **options):
        username = username.strip()
        if not username:
            raise CommandError("用户名不能为空。")
        if role not in ROLES:
            raise CommandError(f"角色 “{role}” 无效，应为 {' / '.join(ROLES)} 之一。")
        unit = _department(department)
        User = get_user_model()
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=username)
            if password is not None:
                try:
                    validate_password(password, user)
                except ValidationError as error:
                    raise CommandError("密码不符合要求：" + " ".join(error.messages)) from None
                user.set_password(password)
            elif created:
                user.set_unusable_password()
            user.is_staff = True
            user.is_active = True
            if email is not None:
                user.email = email
            user.save()
            membership, joined = DepartmentMembership.objects.update_or_create(
                user=user, department=unit, defaults={"role": role}
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{'已创建' if created else '已更新'}工作人员 {username}："
                f"{unit.name}（#{unit.pk}），{membership.get_role_display()}。"
            )
        )


def _department(value: str) -> Department:
    value = value.strip()
    found = (
        Department.objects.filter(pk=int(value)).first()
        if value.isdigit() and len(value) < 19
        else Department.objects.filter(code=value).first()
    )
    if found is None:
        raise CommandError(f"责任单位 “{value}” 不存在（请填写单位 id 或代码）。")
    if not found.is_active:
        raise CommandError(f"责任单位 “{found.name}” 已停用。")
    return found
