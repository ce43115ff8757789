"""The intake in the admin: the template, upload → preview → confirm, and who may use it."""

import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from intake.models import ImportBatch
from intake.workbook import COLUMNS, SHEET, read_rows
from tests.intake.conftest import NOW
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff_client(client, intake_world):
    user = intake_world.world.coordinator_user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    return client


def test_the_template_has_the_columns_and_drop_downs(staff_client, intake_world):
    response = staff_client.get("/admin/intake/importbatch/template/")

    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book[SHEET]
    assert [c.value for c in sheet[1]] == [
        "企业名称",
        "统一社会信用代码",
        "清单类别",
        "细类",
        "标题",
        "诉求内容",
        "金额（万元）",
        "产业链",
        "联系人",
        "联系电话",
        "走访日期",
        "工作组",
    ]
    lists = {str(v.sqref).split(":")[0]: v for v in sheet.data_validations.dataValidation}
    assert lists["C2"].type == "list" and lists["C2"].formula1 == "'选项'!$A$2:$A$5"
    assert lists["D2"].type == "list" and lists["H2"].type == "list"
    assert lists["G2"].type == "decimal"
    options = book["选项"]
    assert [options.cell(row=r, column=1).value for r in range(2, 6)] == [
        "企业困难问题",
        "技术需求",
        "资金需求",
        "产业链配套",
    ]
    assert options.cell(row=2, column=3).value == intake_world.world.chain.name
    # An empty template reads as a file without rows, not as broken.
    assert read_rows(b"".join(staff_client.get("/admin/intake/importbatch/template/"))) == []
    assert len(COLUMNS) == 12


def test_upload_preview_confirm(staff_client, intake_world, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("工作组清单.xlsx", intake_world.content)

    uploaded = staff_client.post(
        "/admin/intake/importbatch/upload/", {"file": upload, "work_group": "文登区第1工作组"}
    )

    batch = ImportBatch.objects.get()
    assert uploaded.status_code == 302
    assert uploaded["Location"] == f"/admin/intake/importbatch/{batch.pk}/preview/"
    page = staff_client.get(uploaded["Location"]).content.decode()
    assert 'id="count-new">30<' in page
    assert 'id="count-duplicate">2<' in page
    assert 'id="count-error">8<' in page
    assert "统一社会信用代码：统一社会信用代码校验位错误" in page
    assert (
        f'疑似重复于\n        <a href="/admin/tickets/ticket/{intake_world.existing.pk}/change/"'
        in page
    )
    assert "新登记企业" in page

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = staff_client.post(
            f"/admin/intake/importbatch/{batch.pk}/confirm/", {"do": "confirm"}, follow=True
        )

    batch.refresh_from_db()
    assert batch.status == "confirmed"
    assert Ticket.objects.filter(import_batch=batch).count() == 30
    text = confirmed.content.decode()
    assert "导入完成：新建诉求 30 件，并入已有诉求 1 件，跳过 9 行，新登记企业 1 家。" in text
    assert "有 1 家企业此前未登记，已自动登记" in text
    assert set(Ticket.objects.filter(import_batch=batch).values_list("work_group", flat=True)) == {
        "文登区第1工作组",
        "环翠区第3工作组",
    }


def test_a_wrong_file_is_refused_on_the_form(staff_client):
    response = staff_client.post(
        "/admin/intake/importbatch/upload/",
        {"file": SimpleUploadedFile("list.xlsx", b"garbage")},
    )
    assert response.status_code == 200
    assert "无法读取文件" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_department_handlers_cannot_import(client, intake_world):
    handler = intake_world.world.handler
    handler.is_staff = True
    handler.save(update_fields=["is_staff"])
    client.force_login(handler)
    assert client.get("/admin/intake/importbatch/upload/").status_code == 403
    assert client.get("/admin/intake/importbatch/").status_code == 403
