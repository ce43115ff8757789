"""Statistics configuration and stored report snapshots."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tickets.models import Status


def default_taken_in_excludes() -> list[str]:
    return [Status.WITHDRAWN.value]


class StatsConfig(models.Model):
    """The formulas' options and the target, one row (pk 1) edited by staff in the admin."""

    SINGLETON_PK = 1

    target = models.DecimalField(
        _("目标值"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.900"),
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("1"))],
        help_text=_("解决率、按时办结率、满意率的目标，如 0.900 表示 90%。"),
    )
    count_basically_solved = models.BooleanField(
        _("“基本解决”计入已解决"),
        default=True,
        help_text=_("关闭后只有办理结果为“已解决”的诉求计入解决率的分子。"),
    )
    taken_in_excludes = models.JSONField(
        _("不计入受理的状态"),
        default=default_taken_in_excludes,
        blank=True,
        help_text=_("这些状态的诉求不计入受理量（默认：已撤回）。"),
    )
    satisfied_min_score = models.PositiveSmallIntegerField(
        _("满意的最低分"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("回访评分不低于此分计为满意（默认 4，即 4–5 分）。"),
    )
    ranking_min_taken_in = models.PositiveIntegerField(
        _("红黑榜最低受理量"),
        default=5,
        help_text=_("受理量低于此数的单位不参加红黑榜排名，避免个别诉求左右名次。"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("统计口径与目标")
        verbose_name_plural = _("统计口径与目标")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="statsconfig_singleton"),
            models.CheckConstraint(
                condition=Q(target__gt=0, target__lte=1), name="statsconfig_target_0_1"
            ),
            models.CheckConstraint(
                condition=Q(satisfied_min_score__gte=1, satisfied_min_score__lte=5),
                name="statsconfig_satisfied_1_to_5",
            ),
        ]

    def __str__(self):
        return str(_("统计口径与目标"))

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    def clean(self):
        excludes = self.taken_in_excludes
        if not isinstance(excludes, list) or not all(isinstance(s, str) for s in excludes):
            raise ValidationError({"taken_in_excludes": _("请填写状态值的列表。")})
        unknown = sorted(set(excludes) - set(Status.values))
        if unknown:
            raise ValidationError(
                {"taken_in_excludes": _("未知的状态：%(s)s。") % {"s": "、".join(unknown)}}
            )

    @classmethod
    def load(cls) -> "StatsConfig":
        config, _created = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return config


class ReportSnapshot(models.Model):
    """A report as it was built and sent: figures, headline and files never change afterwards.

    The unique constraints make building a period idempotent: a second run (a beat overlap, a
    redelivered task, an operator re-running the command) finds the stored snapshot instead of
    creating and sending another one.
    """

    class PeriodKind(models.TextChoices):
        WEEK = "week", _("周报")
        MONTH = "month", _("月报")
        CUSTOM = "custom", _("自定义期间")

    period_kind = models.CharField(_("报表类型"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"), help_text=_("含当日。"))
    as_of = models.DateTimeField(_("统计时点"), help_text=_("“当前超期”按此时点计算。"))
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    headline = models.CharField(_("摘要"), max_length=300)
    figures = models.JSONField(_("统计数据"), default=dict)
    # The files live in the row (not under MEDIA_ROOT): snapshot and files are written in one
    # transaction, every web process can serve them without a shared volume, and a report is a
    # few hundred kilobytes at most. List views must defer these two columns.
    xlsx = models.BinaryField(_("XLSX 文件"), editable=False)
    csv = models.BinaryField(_("CSV 文件"), editable=False)
    # Who it was sent to: filled in when (and only when) the mail server took the message.
    recipients = models.JSONField(_("收件人"), default=list, blank=True)
    # Asked to be emailed (a scheduled report, `manage.py report` without --no-email): the
    # re-send sweep (reports.tasks.resend_unsent_reports) sends it until it goes out.
    email_wanted = models.BooleanField(_("需发送"), default=False)
    # Claimed before sending (compare-and-set), so two workers never both send one report.
    email_claimed_at = models.DateTimeField(_("开始发送时间"), null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(_("发送尝试次数"), default=0)
    email_error = models.CharField(_("最近发送错误"), max_length=300, blank=True)
    emailed_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("报表")
        verbose_name_plural = _("报表")
        ordering = ["-period_start", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["period_kind", "period_start"],
                condition=Q(period_kind__in=["week", "month"]),
                name="report_one_per_period",
            ),
            models.UniqueConstraint(
                fields=["period_kind", "period_start", "period_end"],
                condition=Q(period_kind="custom"),
                name="report_one_per_custom_range",
            ),
            models.CheckConstraint(
                condition=Q(period_kind__in=["week", "month", "custom"]),
                name="report_period_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="report_period_end_after_start",
            ),
        ]
        indexes = [
            # The re-send sweep's "wanted, never sent" (reports.reporting.resend_unsent).
            models.Index(
                fields=["created_at"],
                condition=Q(email_wanted=True, emailed_at__isnull=True),
                name="report_unsent",
            ),
        ]

    def __str__(self):
        return f"{self.get_period_kind_display()} {self.period_start}～{self.period_end}"

    @property
    def title(self) -> str:
        templates = {
            "week": gettext("企业诉求办理周报（%(start)s至%(end)s）"),
            "month": gettext("企业诉求办理月报（%(start)s至%(end)s）"),
        }
        template = templates.get(self.period_kind) or gettext(
            "企业诉求办理情况报告（%(start)s至%(end)s）"
        )
        return template % {"start": self.period_start, "end": self.period_end}

    @property
    def file_stem(self) -> str:
        return f"weihai-report-{self.period_kind}-{self.period_start}-{self.period_end}"
