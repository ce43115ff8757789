"""Importing a work group's spreadsheet: preview (check and classify every row), then confirm
(create the tickets through the workflow). The admin and `manage.py import_needs` call these.

Why not django-import-export: its import creates model instances itself (Resource.import_row
saves each row through the model, its "confirm" replays that), so tickets would be born
outside tickets.workflow — without a number from the counter, a submit event, routing after
commit or the workflow's checks. Bending it (a Resource whose save_instance calls the
workflow) would save row by row — 287 s for 10,000 rows on the bench, where the workflow's
submit_many takes a fraction of that (bench/README.md "Import") — and keep its preview of
*model fields* but lose ours (a reason per cell, duplicates against open tickets, a decision
per row), so the library would carry nothing but the file parsing, which openpyxl does in a
few lines. The preview is stored instead
(ImportBatch/ImportRow), which also gives the batch its audit trail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import District, Enterprise, IndustryChain
from intake import checks, similarity
from intake.models import ImportBatch, ImportRow
from intake.workbook import WorkbookError, read_rows
from tickets import effects, workflow
from tickets.actors import actor_for
from tickets.errors import WorkflowError
from tickets.models import OPEN_STATUSES, Source, Ticket

logger = logging.getLogger(__name__)

# Rows confirmed per transaction. Each transaction holds the year's ticket-number counter
# (tickets.workflow._next_numbers) until it commits, so API submissions wait at most one
# chunk (bench/README.md "Import"); one routing task is published per chunk.
CHUNK = 500
# Ids per query when fetching enterprises and their recent tickets for the whole file.
LOOKUP_CHUNK = 1000


class ImportRefused(WorkflowError):
    """The file or the batch cannot be imported (already imported, unreadable, not allowed)."""

    code = "import_refused"


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _require_coordinator(user) -> None:
    actor = actor_for(user)
    if not (actor.is_system or actor.is_coordinator):
        raise ImportRefused(_("只有统筹协调单位（市企业服务中心）的工作人员可以导入清单。"))


def file_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def imported_before(sha256: str) -> ImportBatch | None:
    return (
        ImportBatch.objects.filter(
            sha256=sha256,
            status__in=[ImportBatch.Status.CONFIRMING, ImportBatch.Status.CONFIRMED],
        )
        .order_by("pk")
        .first()
    )


def _already_imported(batch: ImportBatch) -> ImportRefused:
    return ImportRefused(
        _("该文件已于 %(when)s 导入（导入批次 #%(batch)s），不会重复创建诉求。")
        % {
            "when": timezone.localtime(batch.confirmed_at or batch.created_at).strftime(
                "%Y-%m-%d %H:%M"
            ),
            "batch": batch.pk,
        }
    )


# --- preview -------------------------------------------------------------------------------


def _registered(codes: set[str]) -> dict[str, checks.Registered]:
    rows: dict[str, tuple[int, str]] = {}
    for part in _chunks(sorted(codes), LOOKUP_CHUNK):
        for pk, code, name in Enterprise.objects.filter(uscc__in=part).values_list(
            "pk", "uscc", "name"
        ):
            rows[code] = (pk, name)
    chain_ids: dict[int, set[int]] = defaultdict(set)
    ids = [pk for pk, _name in rows.values()]
    through = Enterprise.chains.through
    for part in _chunks(ids, LOOKUP_CHUNK):
        for enterprise_id, chain_id in through.objects.filter(enterprise_id__in=part).values_list(
            "enterprise_id", "industrychain_id"
        ):
            chain_ids[enterprise_id].add(chain_id)
    return {
        code: checks.Registered(pk, name, frozenset(chain_ids[pk]))
        for code, (pk, name) in rows.items()
    }


def _recent_open_tickets(enterprise_ids: list[int], now: dt.datetime) -> dict[int, list[dict]]:
    """The open tickets of these enterprises submitted in the last INTAKE_DUPLICATE_DAYS:
    the only tickets duplicates are looked for among (ticket_enterprise_recent walks them)."""
    since = now - dt.timedelta(days=settings.INTAKE_DUPLICATE_DAYS)
    found: dict[int, list[dict]] = defaultdict(list)
    for part in _chunks(sorted(enterprise_ids), LOOKUP_CHUNK):
        rows = (
            Ticket.objects.filter(
                enterprise_id__in=part, created_at__gte=since, status__in=OPEN_STATUSES
            )
            .order_by("enterprise_id", "-created_at")
            .values("pk", "enterprise_id", "kind", "category", "title", "description")
        )
        for row in rows:
            row["fp"] = similarity.fingerprint(row["title"], row["description"])
            found[row["enterprise_id"]].append(row)
    return found


def preview(
    content: bytes,
    *,
    file_name: str,
    user=None,
    work_group: str = "",
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportBatch:
    """Read the file, check every row and look for duplicates; store the batch and its rows
    (nothing else is written). Raises ImportRefused for a file imported before or one that
    cannot be read."""
    _require_coordinator(user)
    now = now or timezone.now()
    sha256 = file_hash(content)
    earlier = imported_before(sha256)
    if earlier is not None:
        raise _already_imported(earlier)
    try:
        lines = read_rows(content)
    except WorkbookError as error:
        raise ImportRefused(str(error)) from None
    if not lines:
        raise ImportRefused(_("文件中没有数据行。"))

    codes = set()
    for _number, cells in lines:
        code = (cells.get("uscc") or "").strip().upper()
        if code:
            codes.add(code)
    registered = _registered(codes)
    chains = dict(IndustryChain.objects.values_list("name", "pk"))
    kinds, categories = checks.kind_lookup(), checks.category_lookup()
    recent = _recent_open_tickets([r.id for r in registered.values()], now)

    batch = ImportBatch(
        file_name=file_name[:200],
        sha256=sha256,
        work_group=(work_group or "").strip()[:100],
        created_by=user,
        created_at=now,
    )
    rows: list[ImportRow] = []
    # Earlier valid rows by enterprise code, for duplicates inside the file.
    earlier_rows: dict[str, list[tuple[ImportRow, frozenset]]] = defaultdict(list)
    for done, (number, cells) in enumerate(lines, start=1):
        checked = checks.check_row(
            cells,
            registered=registered,
            chains=chains,
            kinds=kinds,
            categories=categories,
            work_group=batch.work_group,
        )
        row = ImportRow(
            row_number=number,
            cells=cells,
            values=checked.values,
            errors=checked.errors,
            enterprise_id=checked.enterprise_id,
            registers_enterprise=checked.registers_enterprise,
        )
        if not checked.ok:
            row.status, row.decision = ImportRow.Status.ERROR, ImportRow.Decision.SKIP
        else:
            _classify(row, recent.get(checked.enterprise_id, ()), earlier_rows)
        rows.append(row)
        if progress is not None:
            progress(done)

    batch.total_rows = len(rows)
    batch.new_rows = sum(r.status == ImportRow.Status.NEW for r in rows)
    batch.duplicate_rows = sum(r.status == ImportRow.Status.DUPLICATE for r in rows)
    batch.error_rows = sum(r.status == ImportRow.Status.ERROR for r in rows)
    with transaction.atomic():
        batch.save(force_insert=True)
        for row in rows:
            row.batch = batch
        ImportRow.objects.bulk_create(rows, batch_size=1000)
    return batch


def _classify(row: ImportRow, candidates, earlier_rows) -> None:
    """New, or a possible duplicate of an open ticket of the same enterprise (preferred: it
    is being handled already) or of an earlier row of the file."""
    values = row.values
    fp = similarity.fingerprint(values["title"], values["description"])
    best, best_score = None, 0.0
    for ticket in candidates:
        score = similarity.similarity(fp, ticket["fp"])
        if score > best_score and similarity.same_need(
            values["kind"], values["category"], ticket["kind"], ticket["category"], score
        ):
            best, best_score = ticket, score
    if best is not None:
        row.status, row.decision = ImportRow.Status.DUPLICATE, ImportRow.Decision.SKIP
        row.duplicate_of_id, row.similarity = best["pk"], round(best_score, 3)
    else:
        twin, twin_score = None, 0.0
        for other, other_fp in earlier_rows[values["uscc"]]:
            score = similarity.similarity(fp, other_fp)
            if score > twin_score and similarity.same_need(
                values["kind"],
                values["category"],
                other.values["kind"],
                other.values["category"],
                score,
            ):
                twin, twin_score = other, score
        if twin is not None:
            # The same need twice in one file: by default its words join the first row's
            # ticket, so nothing the work group wrote is lost and the request counts once.
            row.status, row.decision = ImportRow.Status.DUPLICATE, ImportRow.Decision.MERGE
            row.duplicate_of_row, row.similarity = twin.row_number, round(twin_score, 3)
        else:
            row.status, row.decision = ImportRow.Status.NEW, ImportRow.Decision.IMPORT
    earlier_rows[values["uscc"]].append((row, fp))


# --- decisions and confirm -----------------------------------------------------------------


def set_decisions(batch: ImportBatch, decisions: dict[int, str]) -> int:
    """Staff's choice for flagged rows ({row id: import|skip|merge}). An erroneous row can only
    be skipped; only a possible duplicate can be merged. Returns how many rows changed."""
    if batch.status != ImportBatch.Status.PREVIEW:
        raise ImportRefused(_("该批次已确认或已放弃，不能再修改处理方式。"))
    changed = 0
    rows = {r.pk: r for r in batch.rows.filter(pk__in=list(decisions))}
    for pk, decision in decisions.items():
        row = rows.get(pk)
        if row is None or decision == row.decision:
            continue
        if decision not in ImportRow.Decision.values:
            raise ImportRefused(_("处理方式无效：%(d)s。") % {"d": decision})
        if row.status == ImportRow.Status.ERROR and decision != ImportRow.Decision.SKIP:
            raise ImportRefused(
                _("第 %(row)s 行有错误，只能跳过；请改正文件后重新上传。") % {"row": row.row_number}
            )
        if decision == ImportRow.Decision.MERGE and row.status != ImportRow.Status.DUPLICATE:
            raise ImportRefused(
                _("第 %(row)s 行不是疑似重复，不能合并。") % {"row": row.row_number}
            )
        ImportRow.objects.filter(pk=pk).update(decision=decision)
        changed += 1
    return changed


def cancel(batch: ImportBatch) -> None:
    ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PREVIEW).update(
        status=ImportBatch.Status.CANCELLED
    )


def _district_for(code: str, districts: dict[str, District], fallback: District) -> District:
    """The district of a newly registered enterprise: the code's administrative division
    (characters 3–8) when it is one of the city's, else the first district (staff are told
    to check it)."""
    return districts.get(code[2:8], fallback)


def confirm(
    batch: ImportBatch,
    *,
    user=None,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportBatch:
    """Create the batch's tickets: rows decided `import` through workflow.submit_many
    (checked as submit_ticket checks one; source 工作组走访, the work group and the batch
    recorded; routed after commit, one task per chunk), rows decided `merge` added to the
    ticket they duplicate (workflow.absorb_request), the rest skipped. Enterprises not yet
    registered are created first. One transaction per CHUNK rows; a batch is confirmed
    once."""
    _require_coordinator(user)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            claimed = ImportBatch.objects.filter(
                pk=batch.pk, status=ImportBatch.Status.PREVIEW
            ).update(status=ImportBatch.Status.CONFIRMING, confirmed_at=now)
    except IntegrityError:
        earlier = imported_before(batch.sha256)
        refusal = _already_imported(earlier) if earlier else ImportRefused(_("该批次不能导入。"))
        raise refusal from None
    if claimed != 1:
        batch.refresh_from_db()
        raise ImportRefused(
            _("该批次当前状态为“%(status)s”，不能再次确认。")
            % {"status": batch.get_status_display()}
        )

    districts = {d.code: d for d in District.objects.all()}
    fallback = District.objects.order_by("order", "code").first()
    origin = _("工作组走访（导入批次 #%(batch)s 第 %(row)s 行）")
    # row number → the ticket it created or joined, for in-file duplicates merged into it.
    ticket_of_row: dict[int, int] = {}
    enterprise_of_code: dict[str, int] = {}
    created_enterprises = 0
    rows = list(batch.rows.order_by("row_number"))
    done = 0
    for part in _chunks(rows, CHUNK):
        with transaction.atomic():
            for row in part:
                values = row.values
                if row.registers_enterprise and row.decision != ImportRow.Decision.SKIP:
                    if values["uscc"] not in enterprise_of_code:
                        enterprise, made = _register(values, districts, fallback)
                        enterprise_of_code[values["uscc"]] = enterprise.pk
                        created_enterprises += made
                    row.enterprise_id = enterprise_of_code[values["uscc"]]
            _submit_rows(part, batch, user, now, ticket_of_row)
            for row in part:
                if row.decision == ImportRow.Decision.MERGE:
                    _merge_row(row, batch, user, now, origin, ticket_of_row)
                elif row.decision == ImportRow.Decision.SKIP:
                    row.outcome = ImportRow.Outcome.SKIPPED
            _store_outcomes(part)
        done += len(part)
        if progress is not None:
            progress(done)

    counts = defaultdict(int)
    for row in rows:
        counts[row.outcome] += 1
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.CONFIRMED,
        created_count=counts[ImportRow.Outcome.CREATED],
        merged_count=counts[ImportRow.Outcome.MERGED],
        skipped_count=counts[ImportRow.Outcome.SKIPPED],
        enterprises_created=created_enterprises,
    )
    if created_enterprises:
        effects.publish_on_commit(
            effects.ALERT_STAFF,
            f"intake-enterprises:{batch.pk}",
            _("清单导入新登记了 %(n)s 家企业") % {"n": created_enterprises},
            _(
                "导入批次 #%(batch)s（%(file)s）中的 %(n)s 家企业此前未登记，已按统一社会信用代码"
                "和企业名称自动登记，区市按信用代码推定。请在“导入行”中筛选“新登记企业”核实。"
            )
            % {"batch": batch.pk, "file": batch.file_name, "n": created_enterprises},
        )
    batch.refresh_from_db()
    return batch


def _register(values: dict, districts, fallback) -> tuple[Enterprise, bool]:
    existing = Enterprise.objects.filter(uscc=values["uscc"]).first()
    if existing is not None:  # registered meanwhile (another batch, the admin)
        return existing, False
    enterprise = Enterprise.objects.create(
        uscc=values["uscc"],
        name=values["enterprise_name"][:120],
        district=_district_for(values["uscc"], districts, fallback),
        contact_name=values.get("contact_name", ""),
        contact_phone=values.get("contact_phone", ""),
    )
    if values.get("chain_id"):
        enterprise.chains.add(values["chain_id"])
    return enterprise, True


def _store_outcomes(part: list[ImportRow]) -> None:
    """Write the chunk's rows back with what confirming did to each. Replaced rather than
    updated: the rows are this batch's own (nothing points to them) and each has other values,
    and bulk_update's CASE per field took 20 of 31 s of a 2,000-row confirm on the bench
    (bench/README.md "Import"); a DELETE and an INSERT of the chunk, in its transaction, take
    two queries."""
    ImportRow.objects.filter(pk__in=[row.pk for row in part]).delete()
    ImportRow.objects.bulk_create(part)


def _skip_with(row: ImportRow, error: WorkflowError) -> None:
    """Changed since the preview (the ticket to merge into was closed, …): the row is skipped
    with the reason; the rest of the batch goes on."""
    row.status, row.decision = ImportRow.Status.ERROR, ImportRow.Decision.SKIP
    row.outcome = ImportRow.Outcome.SKIPPED
    row.errors = [*row.errors, {"column": "", "rule": error.code, "message": error.message}]


def _submit_rows(part, batch, user, now, ticket_of_row) -> None:
    """The chunk's rows to import, submitted together (workflow.submit_many)."""
    rows = [row for row in part if row.decision == ImportRow.Decision.IMPORT]
    if not rows:
        return
    enterprises = Enterprise.objects.prefetch_related("chains").in_bulk(
        {row.enterprise_id for row in rows}
    )
    needs = [
        {
            "enterprise": enterprises[row.enterprise_id],
            "kind": row.values["kind"],
            "title": row.values["title"],
            "description": row.values["description"],
            "category": row.values["category"],
            "amount": row.values["amount"],
            "chain_id": row.values["chain_id"],
            "work_group": row.values["work_group"],
        }
        for row in rows
    ]
    results = workflow.submit_many(
        needs, actor=user, source=Source.WORK_GROUP, import_batch_id=batch.pk, now=now
    )
    for row, result in zip(rows, results, strict=True):
        if isinstance(result, WorkflowError):
            _skip_with(row, result)
        else:
            row.outcome, row.ticket_id = ImportRow.Outcome.CREATED, result.pk
            ticket_of_row[row.row_number] = result.pk


def _merge_row(row, batch, user, now, origin, ticket_of_row) -> None:
    """The row's words added to the ticket it repeats (an open ticket, or the ticket of the
    earlier row of the file); the request counts once."""
    target = row.duplicate_of_id or ticket_of_row.get(row.duplicate_of_row)
    if target is None:  # the earlier row it repeats was skipped
        row.outcome = ImportRow.Outcome.SKIPPED
        return
    try:
        with transaction.atomic():
            workflow.absorb_request(
                ticket_id=target,
                actor=user,
                title=row.values["title"],
                description=row.values["description"],
                origin=origin % {"batch": batch.pk, "row": row.row_number},
                now=now,
            )
    except WorkflowError as error:
        _skip_with(row, error)
        return
    row.outcome, row.ticket_id = ImportRow.Outcome.MERGED, target
    ticket_of_row[row.row_number] = target
