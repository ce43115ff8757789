"""The controlled vocabulary of categories (细类) per kind; routing rules match on these keys."""

from django.utils.translation import gettext_lazy as _

CATEGORIES: dict[str, dict[str, str]] = {
    "difficulty": {
        "land": _("用地规划"),
        "energy": _("能耗指标与用能"),
        "permit": _("审批手续"),
        "labour": _("用工与人才"),
        "environment": _("环保与排放"),
        "logistics": _("物流与运输"),
        "market": _("市场开拓与外贸"),
        "finance_policy": _("政策兑现与财政补助"),
        "other": _("其他困难"),
    },
    "technology": {
        "new_materials": _("碳纤维与新材料"),
        "medical": _("医药与医疗器械"),
        "equipment": _("装备制造与智能化"),
        "electronics": _("电子信息与软件"),
        "marine_food": _("海洋生物与食品"),
        "rd_cooperation": _("产学研合作"),
        "other": _("其他技术需求"),
    },
    "funding": {
        "loan": _("流动资金贷款"),
        "project_loan": _("项目贷款"),
        "guarantee": _("融资担保"),
        "equity": _("股权融资"),
        "other": _("其他资金需求"),
    },
    "supply_chain": {
        "supplier": _("寻找配套供应商"),
        "buyer": _("产品推广与采购对接"),
        "local_sourcing": _("本地配套替代"),
        "other": _("其他配套需求"),
    },
}


def choices_for(kind: str) -> list[tuple[str, str]]:
    return list(CATEGORIES.get(kind, {}).items())


def is_valid(kind: str, category: str) -> bool:
    return category == "" or category in CATEGORIES.get(kind, {})


def label(kind: str, category: str) -> str:
    """The category's name (用地规划) for its key (land); the key itself if unknown."""
    if not category:
        return ""
    return str(CATEGORIES.get(kind, {}).get(category, category))


# The description template (诉求内容模板) the portal fills into the form for a chosen category:
# what a department needs to act without calling back. One per kind ("" key) and per category
# where that category needs more. Defined once here; the portal renders them as JSON.
DESCRIPTION_TEMPLATES: dict[str, dict[str, str]] = {
    "difficulty": {
        "": _("一、问题描述：\n二、已做的努力：\n三、希望政府协调的事项：\n四、期望完成时间："),
        "land": _(
            "一、项目名称及位置：\n二、用地面积（亩）与规划用途：\n三、目前卡在哪个环节：\n"
            "四、希望协调的事项："
        ),
        "energy": _(
            "一、现有用能情况（年耗能、用电负荷）：\n二、新增需求（指标、增容容量）：\n"
            "三、对应项目及投产时间：\n四、希望协调的事项："
        ),
        "permit": _(
            "一、办理的审批事项名称：\n二、受理部门及受理时间：\n三、目前进展与遇到的问题：\n"
            "四、希望协调的事项："
        ),
        "labour": _(
            "一、岗位与人数（普工/技工/研发）：\n二、薪资待遇与工作地点：\n"
            "三、需要的支持（招聘、培训、住房等）："
        ),
        "logistics": _(
            "一、货物与运输方式：\n二、线路与频次：\n三、遇到的问题：\n四、希望协调的事项："
        ),
    },
    "technology": {
        "": _(
            "一、技术难题或需求描述：\n二、目前技术水平与已做的研发：\n三、期望的合作方式"
            "（委托研发、联合攻关、成果转让、人才引进）：\n四、可投入的资金与时间："
        ),
    },
    "funding": {
        "": _(
            "一、资金用途：\n二、期望期限与利率：\n三、可提供的担保或抵押：\n"
            "四、近一年营业收入与纳税情况："
        ),
        "guarantee": _(
            "一、融资金额与用途：\n二、合作银行：\n三、需要担保的原因：\n四、企业资产与经营情况："
        ),
        "equity": _(
            "一、融资轮次与出让股权比例：\n二、资金用途：\n三、企业核心竞争力：\n四、已接触的投资机构："
        ),
    },
    "supply_chain": {
        "": _(
            "一、需要配套的产品或服务（名称、规格、用量）：\n二、目前采购来源与问题：\n"
            "三、对供应商的要求（资质、交期、价格）："
        ),
        "buyer": _(
            "一、推广的产品（名称、规格、产能）：\n二、目标客户或链主企业：\n三、已有的应用案例："
        ),
    },
}


def description_template(kind: str, category: str = "") -> str:
    """The template for `category` of `kind`, else the kind's own, else ""."""
    templates = DESCRIPTION_TEMPLATES.get(kind, {})
    return str(templates.get(category) or templates.get("", ""))


def description_templates(kind: str) -> dict[str, str]:
    """Every category of `kind` (and "") → its template, as plain strings for a page's JSON."""
    return {code: description_template(kind, code) for code in ["", *CATEGORIES.get(kind, {})]}
