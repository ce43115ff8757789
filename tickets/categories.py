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
