"""The intake in a real browser: a coordinator downloads the template from the admin, fills
it in, uploads it, reads the preview (new / duplicate / error with the reasons), chooses what
to do with the duplicate and confirms."""

import io

import pytest
import time_machine
from openpyxl import load_workbook

from intake.workbook import COLUMNS, SHEET
from tests.browser import log_in
from tests.intake.conftest import NOW, bad_checksum

pytestmark = pytest.mark.browser


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def coordinator(clock, transactional_db, intake_world):
    """Before the browser starts (no ORM while Playwright's loop runs)."""
    user = intake_world.world.coordinator_user
    user.is_staff = True
    user.set_password("s3cret-pass")
    user.save(update_fields=["is_staff", "password"])
    return intake_world


def fill(template: bytes, w) -> bytes:
    book = load_workbook(io.BytesIO(template))
    sheet = book[SHEET]
    header = {c.header: i for i, c in enumerate(COLUMNS, start=1)}
    rows = [
        (w.a.name, w.a.uscc, "技术需求", "产学研合作", "校企联合实验室", "拟与高校共建实验室。"),
        (w.b.name, w.b.uscc, "资金需求", "流动资金贷款", "流动资金周转", "采购需贷款。", "500"),
        (w.b.name, bad_checksum(w.b.uscc), "企业困难问题", "", "消防验收排期", "排队时间长。"),
        (w.a.name, w.a.uscc, "企业困难问题", "能耗指标与用能", "用电增容审批事项",
         "新厂房用电增容需要协调供电公司，尽快完成800千伏安的增容。"),
    ]  # fmt: skip
    keys = ["企业名称", "统一社会信用代码", "清单类别", "细类", "标题", "诉求内容", "金额（万元）"]
    for number, values in enumerate(rows, start=2):
        for key, value in zip(keys, values, strict=False):
            sheet.cell(row=number, column=header[key], value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_coordinator_uploads_previews_and_confirms(
    live_server, coordinator, browser_page, screenshot, tmp_path
):
    w = coordinator
    page = browser_page()
    log_in(page, live_server.url, "coordinator", "s3cret-pass")
    page.goto(f"{live_server.url}/admin/intake/importbatch/")
    with page.expect_download() as download:
        page.click("text=下载导入模板")
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)
    filled = tmp_path / "环翠区走访清单.xlsx"
    filled.write_bytes(fill(template.read_bytes(), w))

    page.click("text=上传清单")
    page.set_input_files("#id_file", str(filled))
    page.fill("#id_work_group", "环翠区第3工作组")
    screenshot(page, "upload")
    page.click("text=上传并预览")

    page.wait_for_selector("#import-rows")
    assert page.inner_text("#count-new") == "2"
    assert page.inner_text("#count-duplicate") == "1"
    assert page.inner_text("#count-error") == "1"
    assert "校验位错误" in page.inner_text("#row-4")
    duplicate = page.inner_text("#row-5")
    assert "疑似重复于" in duplicate and w.existing.number in duplicate
    page.select_option("#row-5 select", "merge")
    screenshot(page, "preview")

    page.click("#confirm-import")
    page.wait_for_selector(".messagelist .success")
    assert "导入完成：新建诉求 2 件，并入已有诉求 1 件，跳过 1 行，新登记企业 0 家。" in (
        page.inner_text(".messagelist")
    )
    assert page.inner_text("#batch-status") == "已导入"
    assert "已并入" in page.inner_text("#row-5")
    screenshot(page, "confirmed")

    # The survivor's page shows the work group's words in its timeline.
    page.click(f"#row-5 a:has-text('{w.existing.number}') >> nth=-1")
    page.wait_for_selector("#ticket-actions")
    assert "新厂房用电增容需要协调供电公司，尽快完成800千伏安的增容。" in page.content()
