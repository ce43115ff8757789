"""Expected figures written as plain tuples, and their JSON form computed independently."""

from decimal import ROUND_HALF_UP, Decimal


def figures(
    taken, resolved, on_time, sat, returned, reopened, escalated, overdue, supervised, city
):
    """(taken in, resolved, (on time n, d), (satisfied n, d), returned, reopened, escalated,
    overdue, supervised, (city-level resolved n, d))."""
    return {
        "taken_in": taken,
        "resolved": resolved,
        "returned": returned,
        "reopened": reopened,
        "escalated": escalated,
        "overdue": overdue,
        "supervised": supervised,
        "city_level": city[1],
        "resolution_rate": rate(resolved, taken),
        "on_time_rate": rate(*on_time),
        "satisfaction_rate": rate(*sat),
        "city_level_resolution_rate": rate(*city),
    }


def rate(n, d, target_percent=90):
    if d == 0:
        return {"numerator": n, "denominator": 0, "rate": None, "display": "—",
                "below_target": False}  # fmt: skip
    percent = (Decimal(100 * n) / d).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return {
        "numerator": n,
        "denominator": d,
        "rate": round(n / d, 4),
        "display": f"{percent}%",
        "below_target": 100 * n < target_percent * d,
    }


def row(key, label, *args):
    return {"key": key, "label": label, **figures(*args)}


ZERO = (0, 0, (0, 0), (0, 0), 0, 0, 0, 0, 0, (0, 0))

OVERALL_ARGS = (10, 4, (2, 4), (2, 4), 1, 2, 2, 2, 2, (2, 5))
OVERALL = figures(*OVERALL_ARGS)


def expected_rows(world) -> dict[str, list[dict]]:
    a, b = str(world.a.pk), str(world.b.pk)
    return {
        # Department's default ordering puts the city tier before the district tier.
        "department": [
            row(b, "市工业和信息化局", 5, 2, (1, 2), (1, 2), 0, 1, 1, 1, 1, (2, 4)),
            row(a, "环翠区工业和信息化局", 4, 2, (1, 2), (1, 2), 1, 1, 1, 1, 1, (0, 1)),
            row(None, "（待分派）", 1, 0, (0, 0), (0, 0), 0, 0, 0, 0, 0, (0, 0)),
        ],
        "kind": [
            row("difficulty", "企业困难问题", 4, 2, (1, 2), (1, 2), 0, 1, 0, 0, 1, (0, 0)),
            row("technology", "技术需求", *ZERO),
            row("funding", "资金需求", 4, 1, (1, 1), (0, 0), 1, 0, 1, 2, 0, (1, 3)),
            row("supply_chain", "产业链配套", 2, 1, (0, 1), (1, 2), 0, 1, 1, 0, 1, (1, 2)),
        ],
        "district": [
            row(str(world.d1.pk), "环翠区", 6, 3, (1, 3), (2, 3), 0, 0, 1, 1, 1, (1, 2)),
            row(str(world.d2.pk), "文登区", 4, 1, (1, 1), (0, 1), 1, 2, 1, 1, 1, (1, 3)),
            row(str(world.d3.pk), "荣成市", *ZERO),
        ],
        "level": [
            row("district", "区市级", 5, 2, (1, 2), (1, 2), 0, 1, 0, 0, 1, (0, 0)),
            row("city", "市级", 4, 1, (1, 1), (0, 1), 1, 1, 1, 2, 0, (1, 4)),
            row("leader", "市领导", 1, 1, (0, 1), (1, 1), 0, 0, 1, 0, 1, (1, 1)),
        ],
        "chain": [
            row(str(world.x.pk), "海洋食品", 4, 2, (1, 2), (1, 2), 1, 1, 2, 1, 1, (2, 4)),
            row(str(world.y.pk), "医药医疗器械", *ZERO),
            row(None, "（未关联产业链）", 6, 2, (1, 2), (1, 2), 0, 1, 0, 1, 1, (0, 1)),
        ],
        "month": [
            row("2026-01", "2026年1月", 3, 3, (2, 3), (1, 2), 0, 0, 0, 0, 0, (1, 1)),
            row("2026-02", "2026年2月", 3, 1, (0, 1), (1, 2), 1, 1, 2, 1, 1, (1, 3)),
            row("2026-03", "2026年3月", 4, 0, (0, 0), (0, 0), 0, 1, 0, 1, 1, (0, 1)),
            row("2026-04", "2026年4月", *ZERO),
        ],
        # Every ticket of this world came in as the enterprise's own (the default source).
        "source": [
            row("work_group", "工作组走访", *ZERO),
            row("self", "企业自报", *OVERALL_ARGS),
            row("window", "窗口代录", *ZERO),
        ],
    }
