"""The parties: enterprises, the departments that answer them, and the industry chains."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from enterprises import uscc as uscc_rules

USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"


def validate_uscc(value: str) -> None:
    try:
        uscc_rules.validate(value)
    except uscc_rules.USCCError as error:
        raise ValidationError(str(error), code=f"uscc_{error.code}") from None


class USCCField(models.CharField):
    """An 18-character 统一社会信用代码, normalised to upper case and checksum-validated."""

    default_validators = [validate_uscc]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 18)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 18:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def to_python(self, value):
        value = super().to_python(value)
        return uscc_rules.normalise(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return uscc_rules.normalise(value) if value else value


class Tier(models.TextChoices):
    """The three levels of the escalation ladder; also a ticket's level."""

    DISTRICT = "district", _("区市级")
    CITY = "city", _("市级")
    LEADER = "leader", _("市领导")

    @classmethod
    def above(cls, tier: str) -> str | None:
        order = [cls.DISTRICT, cls.CITY, cls.LEADER]
        index = order.index(tier)
        return order[index + 1] if index + 1 < len(order) else None


class District(models.Model):
    """区市 (county-level divisions) and the functional zones (高区/经区/临港区)."""

    class Kind(models.TextChoices):
        COUNTY = "county", _("区市")
        ZONE = "zone", _("功能区")

    code = models.CharField(_("代码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=40, unique=True)
    kind = models.CharField(_("类别"), max_length=8, choices=Kind.choices)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("区市")
        verbose_name_plural = _("区市")
        ordering = ["order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["county", "zone"]), name="district_kind_valid"
            ),
        ]

    def __str__(self):
        return self.name


class IndustryCluster(models.Model):
    """One of the seven 产业集群 the city reports on."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40, unique=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("产业集群")
        verbose_name_plural = _("产业集群")
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class Department(models.Model):
    """责任单位: anyone who handles tickets — a bureau, a bank, a platform, a leader's office."""

    class Kind(models.TextChoices):
        BUREAU = "bureau", _("政府部门")
        BANK = "bank", _("金融机构")
        PLATFORM = "platform", _("创新平台")
        UNIVERSITY = "university", _("高校院所")
        SERVICE_CENTRE = "service_centre", _("企业服务中心")
        LEADER_OFFICE = "leader_office", _("领导办公室")

    code = models.SlugField(_("代码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    tier = models.CharField(_("层级"), max_length=10, choices=Tier.choices)
    district = models.ForeignKey(
        District,
        verbose_name=_("所属区市"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="departments",
    )
    escalates_to = models.ForeignKey(
        "self",
        verbose_name=_("上级（升级对象）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalated_from",
        help_text=_("超期时诉求升级到的上一层级单位：区市级→市级→市领导。"),
    )
    email = models.EmailField(_("通知邮箱"), blank=True)
    is_coordinator = models.BooleanField(
        _("统筹协调单位"),
        default=False,
        help_text=_("市企业服务中心：接收退单与兜底分派的诉求。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("责任单位")
        verbose_name_plural = _("责任单位")
        ordering = ["tier", "district__order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tier__in=["district", "city", "leader"]), name="department_tier_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "bureau",
                        "bank",
                        "platform",
                        "university",
                        "service_centre",
                        "leader_office",
                    ]
                ),
                name="department_kind_valid",
            ),
            # Only district-tier departments belong to a district.
            models.CheckConstraint(
                condition=(Q(tier="district") & Q(district__isnull=False))
                | (~Q(tier="district") & Q(district__isnull=True)),
                name="department_district_iff_district_tier",
            ),
            # The ladder has no dead ends below the top and nothing above the top.
            # (That the target is exactly one tier up is enforced by a trigger: see
            # migration 0002_department_escalation_trigger.)
            models.CheckConstraint(
                condition=(Q(tier="leader") & Q(escalates_to__isnull=True))
                | (~Q(tier="leader") & Q(escalates_to__isnull=False)),
                name="department_escalates_below_top_only",
            ),
            models.UniqueConstraint(
                fields=["is_coordinator"],
                condition=Q(is_coordinator=True),
                name="department_single_coordinator",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.escalates_to_id and self.tier:
            expected = Tier.above(self.tier)
            if self.escalates_to.tier != expected:
                raise ValidationError(
                    {
                        "escalates_to": _("上级单位必须高一个层级（%(expected)s）。")
                        % {"expected": Tier(expected).label if expected else "—"}
                    }
                )


class IndustryChain(models.Model):
    """重点产业链 under the 链长制: a city leader chairs it through the chief's office."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40, unique=True)
    cluster = models.ForeignKey(
        IndustryCluster,
        verbose_name=_("所属产业集群"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="chains",
    )
    chief_office = models.ForeignKey(
        Department,
        verbose_name=_("链长办公室"),
        on_delete=models.PROTECT,
        related_name="chains_chaired",
        limit_choices_to={"tier": Tier.LEADER},
    )
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("牵头部门"),
        on_delete=models.PROTECT,
        related_name="chains_led",
        limit_choices_to={"tier": Tier.CITY},
        help_text=_("承接产业链配套诉求的市级牵头部门；超期后升级到链长办公室。"),
    )
    is_example = models.BooleanField(
        _("示例数据"),
        default=False,
        help_text=_("城市报告未点名的产业链，为可编辑的示例。"),
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("重点产业链")
        verbose_name_plural = _("重点产业链")
        ordering = ["order", "code"]

    def __str__(self):
        return self.name

    @property
    def leader_enterprises(self):
        """链主企业 of this chain."""
        return self.enterprises.filter(is_chain_leader=True)


class Enterprise(models.Model):
    class Programme(models.TextChoices):
        NONE = "", _("无")
        LEADING = "leading", _("示范领跑")
        FOLLOWING = "following", _("后备跟进")

    class CreditGrade(models.TextChoices):
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"
        D = "D", "D"

    uscc = USCCField(_("统一社会信用代码"), unique=True)
    name = models.CharField(_("企业名称"), max_length=120)
    district = models.ForeignKey(
        District, verbose_name=_("区市"), on_delete=models.PROTECT, related_name="enterprises"
    )
    cluster = models.ForeignKey(
        IndustryCluster,
        verbose_name=_("产业集群"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enterprises",
    )
    chains = models.ManyToManyField(
        IndustryChain, verbose_name=_("产业链"), blank=True, related_name="enterprises"
    )
    is_chain_leader = models.BooleanField(_("链主企业"), default=False)
    programme = models.CharField(
        _("双百工程"), max_length=10, choices=Programme.choices, blank=True, default=""
    )
    credit_grade = models.CharField(
        _("信用等级"), max_length=1, choices=CreditGrade.choices, default=CreditGrade.B
    )
    contact_name = models.CharField(_("联系人"), max_length=40, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(uscc__regex=USCC_PATTERN), name="enterprise_uscc_format"
            ),
            models.CheckConstraint(
                condition=Q(credit_grade__in=["A", "B", "C", "D"]),
                name="enterprise_credit_grade_valid",
            ),
            models.CheckConstraint(
                condition=Q(programme__in=["", "leading", "following"]),
                name="enterprise_programme_valid",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_priority(self) -> bool:
        """链主企业 and 双百工程 members: resources follow their projects."""
        return self.is_chain_leader or bool(self.programme)


class DepartmentMembership(models.Model):
    """A staff user working in a department, with a role."""

    class Role(models.TextChoices):
        HANDLER = "handler", _("经办人")
        COORDINATOR = "coordinator", _("统筹协调员")
        LEADER = "leader", _("领导")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="department_memberships",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("责任单位"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("角色"), max_length=12, choices=Role.choices, default=Role.HANDLER)

    class Meta:
        verbose_name = _("单位成员")
        verbose_name_plural = _("单位成员")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department"], name="membership_unique_user_department"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["handler", "coordinator", "leader"]),
                name="membership_role_valid",
            ),
        ]

    def __str__(self):
        return f"{self.user} @ {self.department} ({self.get_role_display()})"


class EnterpriseAccount(models.Model):
    """A login that acts for one enterprise (submits, confirms, rates its own tickets)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="enterprise_account",
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="accounts"
    )

    class Meta:
        verbose_name = _("企业账号")
        verbose_name_plural = _("企业账号")

    def __str__(self):
        return f"{self.user} → {self.enterprise}"
