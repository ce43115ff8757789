"""Work-group spreadsheet intake: one ImportBatch per uploaded file, one ImportRow per line.

A batch is created when a file is previewed (every row checked and classified, nothing else
written) and confirmed later; confirming creates the rows' tickets through
tickets.workflow (submit_many), so the batch and its rows are the import's audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.models import Enterprise
from tickets.models import Ticket


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        PREVIEW = "preview", _("待确认")  # checked, nothing created yet
        CONFIRMING = "confirming", _("导入中")  # claimed by one confirm; rows done chunk by chunk
        CONFIRMED = "confirmed", _("已导入")
        CANCELLED = "cancelled", _("已放弃")

    file_name = models.CharField(_("文件名"), max_length=200)
    sha256 = models.CharField(_("文件哈希（SHA-256）"), max_length=64)
    work_group = models.CharField(_("工作组"), max_length=100, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PREVIEW
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    # The preview's classification …
    total_rows = models.PositiveIntegerField(_("行数"), default=0)
    new_rows = models.PositiveIntegerField(_("新诉求"), default=0)
    duplicate_rows = models.PositiveIntegerField(_("疑似重复"), default=0)
    error_rows = models.PositiveIntegerField(_("有错误"), default=0)
    # … and what confirming did.
    created_count = models.PositiveIntegerField(_("已创建"), default=0)
    merged_count = models.PositiveIntegerField(_("已合并"), default=0)
    skipped_count = models.PositiveIntegerField(_("已跳过"), default=0)
    enterprises_created = models.PositiveIntegerField(_("新登记企业"), default=0)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["preview", "confirming", "confirmed", "cancelled"]),
                name="importbatch_status_valid",
            ),
            # The same file is imported once: a second confirm of identical bytes is refused
            # by the database even if two staff confirm at the same instant.
            models.UniqueConstraint(
                fields=["sha256"],
                condition=Q(status__in=["confirming", "confirmed"]),
                name="importbatch_file_imported_once",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.file_name}"


class ImportRow(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("新诉求")
        DUPLICATE = "duplicate", _("疑似重复")
        ERROR = "error", _("有错误")

    class Decision(models.TextChoices):
        IMPORT = "import", _("导入")
        SKIP = "skip", _("跳过")
        MERGE = "merge", _("并入已有诉求")

    class Outcome(models.TextChoices):
        PENDING = "", _("未处理")
        CREATED = "created", _("已创建")
        MERGED = "merged", _("已并入")
        SKIPPED = "skipped", _("已跳过")

    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("导入批次"), on_delete=models.CASCADE, related_name="rows"
    )
    row_number = models.PositiveIntegerField(_("行号"))
    # The row's cells as read (column header → text) and as normalised for submission.
    cells = models.JSONField(_("原始内容"), default=dict)
    values = models.JSONField(_("规范化内容"), default=dict)
    status = models.CharField(_("检查结果"), max_length=10, choices=Status.choices)
    # [{"column": "统一社会信用代码", "rule": "checksum", "message": "…"}]
    errors = models.JSONField(_("错误"), default=list, blank=True)
    # A possible duplicate: an open ticket of the same enterprise, or an earlier row.
    duplicate_of = models.ForeignKey(
        Ticket,
        verbose_name=_("疑似重复于"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    duplicate_of_row = models.PositiveIntegerField(
        _("疑似重复于本文件第几行"), null=True, blank=True
    )
    similarity = models.FloatField(_("相似度"), null=True, blank=True)
    decision = models.CharField(_("处理方式"), max_length=8, choices=Decision.choices)
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("企业"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The enterprise is not registered yet: confirming registers it (staff see this flag).
    registers_enterprise = models.BooleanField(_("新登记企业"), default=False)
    outcome = models.CharField(
        _("导入结果"), max_length=8, choices=Outcome.choices, blank=True, default=""
    )
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("诉求"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("创建的诉求，或并入的已有诉求。"),
    )

    class Meta:
        verbose_name = _("导入行")
        verbose_name_plural = _("导入行")
        ordering = ["batch", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "row_number"], name="importrow_once"),
            models.CheckConstraint(
                condition=Q(status__in=["new", "duplicate", "error"]),
                name="importrow_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(decision__in=["import", "skip", "merge"]),
                name="importrow_decision_valid",
            ),
            # An erroneous row is never imported.
            models.CheckConstraint(
                condition=~Q(status="error") | Q(decision="skip"),
                name="importrow_error_skipped",
            ),
        ]

    def __str__(self):
        return f"{self.batch_id}:{self.row_number}"
