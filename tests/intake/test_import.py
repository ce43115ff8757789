"""A work group's 40-row list: the preview's exact counts and reasons, confirming creates
exactly the valid rows through the workflow (one submit event each, routing queued), and the
same file again creates nothing."""

import pytest
from celery.signals import after_task_publish

from enterprises.models import Enterprise
from intake import services, similarity
from intake.models import ImportBatch, ImportRow
from tests.intake.conftest import NOW, workbook
from tickets import effects
from tickets.models import Source, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(intake_world):
    return intake_world.world.coordinator_user


@pytest.fixture
def published():
    sent = []

    def record(sender=None, body=None, **kwargs):
        sent.append((sender, body[0] if body else None))

    after_task_publish.connect(record, weak=False)
    yield sent
    after_task_publish.disconnect(record)


def reasons(batch):
    return {
        row.row_number: [(e["column"], e["rule"]) for e in row.errors]
        for row in batch.rows.filter(status=ImportRow.Status.ERROR)
    }


def test_preview_classifies_every_row_with_its_reasons(intake_world, coordinator):
    w = intake_world
    tickets_before = Ticket.objects.count()

    batch = services.preview(
        w.content, file_name="环翠区走访清单.xlsx", user=coordinator, work_group="环翠区", now=NOW
    )

    assert (batch.total_rows, batch.new_rows, batch.duplicate_rows, batch.error_rows) == (
        40,
        30,
        2,
        8,
    )
    assert batch.status == ImportBatch.Status.PREVIEW
    assert Ticket.objects.count() == tickets_before  # a preview creates nothing
    assert reasons(batch) == {
        32: [("统一社会信用代码", "checksum")],
        33: [("统一社会信用代码", "checksum")],
        34: [("清单类别", "unknown_kind")],
        35: [("标题", "required")],
        36: [("金额（万元）", "amount_not_allowed")],
        37: [("企业名称", "name_mismatch")],
        38: [("细类", "unknown_category")],
        41: [("企业名称", "required")],
    }
    rows = {row.row_number: row for row in batch.rows.all()}
    good = bad = w.a.uscc
    bad = rows[32].values["uscc"]
    assert rows[32].errors[0]["message"] == (
        f"统一社会信用代码校验位错误：第18位应为 {good[17]}，实际为 {bad[17]}。"
    )
    assert rows[34].errors[0]["message"].startswith("清单类别“人才需求”无效")
    assert rows[36].errors[0]["message"] == "只有资金需求可以填写金额，技术需求不填。"
    assert rows[37].errors[0]["message"] == (
        f"企业名称“威海某某有限公司”与该信用代码登记的名称“{w.b.name}”不一致。"
    )
    # The duplicates: an earlier row of the file, and enterprise A's open ticket.
    assert (rows[39].status, rows[39].duplicate_of_row, rows[39].decision) == (
        "duplicate",
        2,
        "merge",
    )
    assert (rows[40].status, rows[40].duplicate_of_id, rows[40].decision) == (
        "duplicate",
        w.existing.pk,
        "skip",
    )
    assert min(rows[39].similarity, rows[40].similarity) >= similarity.DUPLICATE_THRESHOLD
    # English kind values and category keys are read as the Chinese labels are.
    assert (rows[20].values["kind"], rows[20].values["category"]) == ("funding", "other")
    assert (rows[25].values["kind"], rows[25].values["category"]) == ("supply_chain", "buyer")
    assert rows[20].values["amount"] == "300.50"
    # The enterprise not yet registered: a valid row that registers it.
    assert rows[31].status == "new" and rows[31].registers_enterprise
    assert not Enterprise.objects.filter(uscc=w.unregistered).exists()


def test_confirm_creates_exactly_the_valid_rows_through_the_workflow(
    intake_world, coordinator, published, django_capture_on_commit_callbacks
):
    w = intake_world
    batch = services.preview(w.content, file_name="list.xlsx", user=coordinator, now=NOW)
    events_before = TicketEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        batch = services.confirm(batch, user=coordinator, now=NOW)

    assert batch.status == ImportBatch.Status.CONFIRMED
    assert (batch.created_count, batch.merged_count, batch.skipped_count) == (30, 1, 9)
    assert batch.enterprises_created == 1
    created = Ticket.objects.filter(import_batch=batch)
    assert created.count() == 30
    assert set(created.values_list("source", flat=True)) == {Source.WORK_GROUP}
    assert set(created.values_list("status", flat=True)) == {Status.SUBMITTED}
    assert set(created.values_list("work_group", flat=True)) == {"", "环翠区第3工作组"}
    # One submit event per ticket, and the in-file duplicate's words on row 2's ticket.
    new_events = TicketEvent.objects.order_by("pk")[events_before:]
    actions = [e.action for e in new_events]
    assert actions.count("submit") == 30 and actions.count("absorb") == 1 and len(actions) == 31
    assert all(
        list(t.events.values_list("action", flat=True)) in (["submit"], ["submit", "absorb"])
        for t in created
    )
    first = ImportRow.objects.get(batch=batch, row_number=2).ticket
    absorbed = first.events.get(action="absorb")
    assert "大约40亩" in absorbed.reply and f"导入批次 #{batch.pk} 第 39 行" in absorbed.reply
    # The duplicate of the open ticket was skipped: that ticket is untouched.
    assert list(w.existing.events.values_list("action", flat=True)) == ["route"]
    # Routing queued after commit: one task for the chunk, naming every new ticket.
    routed = [args for name, args in published if name == effects.ROUTE_TICKETS]
    assert len(routed) == 1 and sorted(routed[0][0]) == sorted(created.values_list("pk", flat=True))
    # The unregistered enterprise is registered, and staff are told.
    newcomer = Enterprise.objects.get(uscc=w.unregistered)
    assert newcomer.name == "威海新起点智能科技有限公司"
    assert created.filter(enterprise=newcomer).count() == 1
    assert ImportRow.objects.get(batch=batch, row_number=31).registers_enterprise
    assert any(name == effects.ALERT_STAFF for name, _args in published)


def test_the_same_file_again_creates_nothing(
    intake_world, coordinator, django_capture_on_commit_callbacks
):
    w = intake_world
    batch = services.preview(w.content, file_name="list.xlsx", user=coordinator, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm(batch, user=coordinator, now=NOW)
    tickets = Ticket.objects.count()

    with pytest.raises(services.ImportRefused) as refused:
        services.preview(w.content, file_name="list (1).xlsx", user=coordinator, now=NOW)

    assert f"导入批次 #{batch.pk}" in refused.value.message
    assert Ticket.objects.count() == tickets


def test_the_same_rows_in_another_file_are_all_flagged_and_skipped(
    intake_world, coordinator, django_capture_on_commit_callbacks
):
    w = intake_world
    batch = services.preview(w.content, file_name="list.xlsx", user=coordinator, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm(batch, user=coordinator, now=NOW)
    tickets = Ticket.objects.count()
    resaved = workbook([*w.rows, {}])  # other bytes, the same rows

    again = services.preview(resaved, file_name="list-v2.xlsx", user=coordinator, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        again = services.confirm(again, user=coordinator, now=NOW)

    assert (again.new_rows, again.duplicate_rows, again.error_rows) == (0, 32, 8)
    assert again.created_count == 0
    assert Ticket.objects.count() == tickets


def test_staff_choose_per_flagged_row(
    intake_world, coordinator, django_capture_on_commit_callbacks
):
    w = intake_world
    batch = services.preview(w.content, file_name="list.xlsx", user=coordinator, now=NOW)
    rows = {r.row_number: r for r in batch.rows.all()}
    services.set_decisions(batch, {rows[40].pk: "merge", rows[39].pk: "import"})

    with django_capture_on_commit_callbacks(execute=True):
        batch = services.confirm(batch, user=coordinator, now=NOW)

    assert (batch.created_count, batch.merged_count) == (31, 1)
    absorbed = w.existing.events.get(action="absorb")
    assert absorbed.reply.endswith("新厂房用电增容需要协调供电公司，尽快完成800千伏安的增容。")
    assert Ticket.objects.filter(enterprise=w.a, status=Status.SUBMITTED).count() == 11


def test_an_error_row_can_only_be_skipped(intake_world, coordinator):
    batch = services.preview(intake_world.content, file_name="list.xlsx", user=coordinator, now=NOW)
    row = batch.rows.get(row_number=32)
    with pytest.raises(services.ImportRefused):
        services.set_decisions(batch, {row.pk: "import"})
    assert batch.rows.get(row_number=32).decision == "skip"


def test_a_batch_is_confirmed_once(intake_world, coordinator, django_capture_on_commit_callbacks):
    batch = services.preview(intake_world.content, file_name="list.xlsx", user=coordinator, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm(batch, user=coordinator, now=NOW)
    with pytest.raises(services.ImportRefused):
        services.confirm(batch, user=coordinator, now=NOW)
    assert Ticket.objects.filter(import_batch=batch).count() == 30


def test_only_coordinators_import(intake_world):
    with pytest.raises(services.ImportRefused):
        services.preview(
            intake_world.content, file_name="x.xlsx", user=intake_world.world.handler, now=NOW
        )


def test_an_unreadable_file_is_refused_with_a_message(coordinator):
    with pytest.raises(services.ImportRefused) as refused:
        services.preview(b"not a workbook", file_name="x.xlsx", user=coordinator, now=NOW)
    assert "无法读取文件" in refused.value.message
    with pytest.raises(services.ImportRefused) as refused:
        services.preview(workbook([]), file_name="x.xlsx", user=coordinator, now=NOW)
    assert "没有数据行" in refused.value.message
