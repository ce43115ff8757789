"""A year of plausible tickets for looking at the dashboard (the browser test's data)."""

import datetime as dt
import random

from django.utils import timezone

from enterprises.models import Department, District, Enterprise, IndustryChain, Tier
from tests.factories import next_uscc
from tickets.models import Ticket

KINDS = ["difficulty", "technology", "funding", "supply_chain"]
TOPICS = ["用地审批", "技术攻关", "流动资金贷款", "配套供应商对接"]
# (name, tier, chance a ticket ends solved/basically solved, chance it was on time)
DEPARTMENTS = [
    ("市工业和信息化局", Tier.CITY, 0.95, 0.92),
    ("市自然资源和规划局", Tier.CITY, 0.82, 0.70),
    ("市地方金融监督管理局", Tier.CITY, 0.93, 0.95),
    ("市科学技术局", Tier.CITY, 0.97, 0.90),
    ("市人力资源和社会保障局", Tier.CITY, 0.88, 0.85),
    ("环翠区工业和信息化局", Tier.DISTRICT, 0.92, 0.88),
    ("文登区工业和信息化局", Tier.DISTRICT, 0.86, 0.80),
    ("荣成市工业和信息化局", Tier.DISTRICT, 0.96, 0.94),
    ("乳山市工业和信息化局", Tier.DISTRICT, 0.78, 0.65),
]


def build_showcase(*, tickets: int = 900, seed: int = 7) -> dict:
    rng = random.Random(seed)
    now = timezone.now()
    districts = [
        District.objects.create(code=f"37100{i}", name=name, kind="county", order=i)
        for i, name in enumerate(["环翠区", "文登区", "荣成市", "乳山市"], start=1)
    ]
    leader = Department.objects.create(
        code="leader", name="市政府分管副市长办公室", kind="leader_office", tier=Tier.LEADER,
        email="leader@gov.example",
    )  # fmt: skip
    departments = []
    for i, (name, tier, _solve, _on_time) in enumerate(DEPARTMENTS):
        fields = {"escalates_to": leader}
        if tier == Tier.DISTRICT:
            district = next(d for d in districts if name.startswith(d.name))
            fields = {"district": district, "escalates_to": departments[0]}
        departments.append(
            Department.objects.create(
                code=f"dept-{i}", name=name, kind="bureau", tier=tier, **fields
            )
        )
    chains = [
        IndustryChain.objects.create(
            code=code, name=name, chief_office=leader, lead_department=departments[0]
        )
        for code, name in [("marine", "海洋食品"), ("medical", "医药医疗器械"), ("print", "打印机")]
    ]
    enterprises = [
        Enterprise.objects.create(
            uscc=next_uscc(), name=f"威海{n}科技有限公司", district=rng.choice(districts)
        )
        for n in ("海元", "华东", "蓝创", "金鼎", "明珠", "瑞祥", "森达", "天润", "新北洋", "远航")
    ]
    rows = []
    for n in range(1, tickets + 1):
        created = now - dt.timedelta(days=rng.uniform(1, 360))
        index = rng.randrange(len(DEPARTMENTS))
        _name, tier, solve, on_time = DEPARTMENTS[index]
        department = departments[index]
        level = tier if rng.random() > 0.12 else Tier.LEADER
        kind = rng.choices(KINDS, weights=[5, 2, 3, 2])[0]
        due = created + dt.timedelta(days=7 if level == Tier.DISTRICT else 10)
        values = {
            "status": "in_progress",
            "resolve_due_at": due,
            "accepted_at": created + dt.timedelta(hours=6),
        }
        age = (now - created).days
        if age > 14 and rng.random() < solve or age > 30 and rng.random() < 0.5:
            resolved = due - dt.timedelta(days=rng.uniform(0, 4))
            if rng.random() > on_time:
                resolved = due + dt.timedelta(days=rng.uniform(0.5, 6))
            values.update(
                status="closed",
                outcome=rng.choice(["solved", "solved", "basically_solved"]),
                resolved_at=resolved,
                closed_at=resolved + dt.timedelta(days=1),
                satisfaction=rng.choices([5, 4, 3, 2], weights=[12, 5, 2, 1])[0],
            )
        elif age > 14 and rng.random() < 0.3:
            resolved = due - dt.timedelta(days=1)
            values.update(
                status="closed", outcome="explained", resolved_at=resolved,
                closed_at=resolved + dt.timedelta(days=1),
            )  # fmt: skip
        elif age < 60 and rng.random() < 0.25:
            values = {"status": "assigned", "accept_due_at": created + dt.timedelta(days=1)}
        escalated = rng.random() < (0.15 if values["status"] != "closed" else 0.04)
        rows.append(
            Ticket(
                number=f"WH-2026-{n:06d}",
                enterprise=rng.choice(enterprises),
                kind=kind,
                title=f"{TOPICS[KINDS.index(kind)]}诉求{n}",
                description="—",
                department=department,
                level=level,
                chain=rng.choice(chains) if kind == "supply_chain" else None,
                created_at=created,
                return_count=1 if rng.random() < 0.05 else 0,
                reopen_count=1 if rng.random() < 0.04 else 0,
                escalation_count=1 if escalated else 0,
                supervised=escalated and rng.random() < 0.4,
                supervised_at=created + dt.timedelta(days=8) if escalated else None,
                **values,
            )
        )
    Ticket.objects.bulk_create(rows)
    return {"departments": departments, "leader": leader}
