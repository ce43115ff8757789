"""manage.py import_needs FILE [--work-group …] [--dry-run]."""

import io

import pytest
from django.core.management import CommandError, call_command

from intake.models import ImportBatch
from tests.intake.conftest import NOW
from tickets.models import Source, Ticket

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_needs", *args, "--now", NOW.isoformat(), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_dry_run_previews_and_keeps_nothing(intake_world, tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_bytes(intake_world.content)
    tickets = Ticket.objects.count()

    out = run(str(path), "--dry-run")

    assert "共 40 行，新诉求 30，疑似重复 2，有错误 8" in out
    assert "第 32 行 有错误：统一社会信用代码：统一社会信用代码校验位错误" in out
    assert "第 39 行 与第 2 行重复" in out
    assert f"第 40 行 疑似重复于 {intake_world.existing.number}" in out
    assert "未创建诉求" in out
    assert Ticket.objects.count() == tickets
    assert not ImportBatch.objects.exists()


def test_import_creates_the_valid_rows_once(
    intake_world, tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "list.xlsx"
    path.write_bytes(intake_world.content)

    with django_capture_on_commit_callbacks(execute=True):
        out = run(str(path), "--work-group", "荣成市第2工作组", "--user", "coordinator")

    assert "新建 30，并入 1，跳过 9，新登记企业 1" in out
    created = Ticket.objects.filter(source=Source.WORK_GROUP)
    assert created.count() == 30
    assert created.filter(work_group="荣成市第2工作组").count() == 15
    assert set(created.values_list("submitted_by__username", flat=True)) == {"coordinator"}
    with pytest.raises(CommandError, match="该文件已于"):
        run(str(path))
    assert Ticket.objects.filter(source=Source.WORK_GROUP).count() == 30


def test_a_missing_file_or_user_is_a_clear_error(intake_world, tmp_path):
    with pytest.raises(CommandError, match="无法读取文件"):
        run(str(tmp_path / "none.xlsx"))
    path = tmp_path / "list.xlsx"
    path.write_bytes(intake_world.content)
    with pytest.raises(CommandError, match="用户 nobody 不存在"):
        run(str(path), "--user", "nobody")
