"""End to end over HTTP: an enterprise submits one need of each of the four kinds, a real
Celery worker routes them by the reference routing rules, each department accepts and
resolves, the enterprise confirms and rates, and each timeline shows every step.

The worker is a subprocess on the test database and the test Redis (TEST_REDIS_URL). Both
processes run on the same 2026 clock (time-machine, ticking from one anchor), so deadlines
fall inside the working calendar whatever today's date is.
"""

import datetime as dt
import io
import itertools
import os
import subprocess
import sys
import time

import pytest
import requests
import time_machine
from django.core.management import call_command
from django.db import connection

from enterprises.models import Department, District, Enterprise, IndustryChain
from tests import broker
from tests.api.conftest import T0
from tests.broker import ROOT, wait_for
from tests.factories import next_uscc
from tickets.models import Status, Ticket

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

# Real time at which the shared clock reads T0; set when the clock starts.
CLOCK = {"anchor": None}
START = T0 - dt.timedelta(minutes=30)

# A child process that starts a Celery worker with its clock at START + (now - anchor).
WORKER = """
import datetime as dt, sys, time, time_machine
elapsed = dt.timedelta(seconds=time.time() - float(sys.argv[2]))
time_machine.travel(dt.datetime.fromisoformat(sys.argv[1]) + elapsed, tick=True).start()
from celery.__main__ import main
sys.argv = ["celery", *sys.argv[3:]]
main()
"""


celery_broker = broker.celery_broker  # Redis at TEST_REDIS_URL, flushed; restored afterwards


@pytest.fixture(autouse=True)
def _pinned_clock():
    """Overrides the package's frozen clock: this test needs one that ticks, shared with
    the worker."""
    CLOCK["anchor"] = time.time()
    with time_machine.travel(START, tick=True):
        yield


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def clocked_worker(celery_broker, tmp_path):
    from weihai.celery import app

    assert connection.vendor == "postgresql"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": celery_broker,
        "DEBUG": "1",
        "DOTENV_FILE": "",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    log = tmp_path / "worker.log"
    command = [
        sys.executable,
        "-c",
        WORKER,
        START.isoformat(),
        str(CLOCK["anchor"]),
        "-A",
        "weihai",
        "worker",
        "--pool=solo",
        "-l",
        "info",
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"api-e2e-{os.getpid()}@%h",
    ]
    with log.open("wb") as output:
        worker = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not start:\n{log.read_text()}")
        yield log
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        connection.close()


def _last_line(command: str, *args) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().splitlines()[-1]


class Api:
    def __init__(self, base: str, token: str):
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def get(self, path: str) -> dict:
        response = self.session.get(self.base + path, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: dict | None = None, expect: int = 200, **headers) -> dict:
        response = self.session.post(self.base + path, json=body or {}, headers=headers, timeout=30)
        assert response.status_code == expect, (path, response.status_code, response.text)
        return response.json()


@pytest.fixture
def reference(db):
    call_command("load_reference_data", stdout=io.StringIO())
    chain = IndustryChain.objects.get(code="carbon-fibre-composites")
    enterprise = Enterprise.objects.create(
        uscc=next_uscc(),
        name="威海拓展纤维有限公司",
        district=District.objects.get(code="371003"),  # 文登区
        credit_grade="A",
    )
    enterprise.chains.add(chain)
    return enterprise, chain


NEEDS = [
    {
        "kind": "difficulty",
        "category": "permit",
        "title": "新厂房施工许可",
        "description": "需要加快审批。",
    },
    {
        "kind": "technology",
        "category": "new_materials",
        "title": "碳纤维预浸料工艺",
        "description": "需要研发合作。",
    },
    {
        "kind": "funding",
        "category": "loan",
        "amount": "300",
        "title": "流动资金贷款",
        "description": "需要 300 万元。",
    },
    {
        "kind": "supply_chain",
        "category": "supplier",
        "title": "寻找树脂供应商",
        "description": "本地配套。",
    },
]


def test_four_needs_go_from_submission_to_rating_through_a_real_worker(
    reference, clocked_worker, live_server
):
    enterprise, chain = reference
    owner = Api(live_server.url, _last_line("issue_token", "--enterprise", enterprise.uscc))

    submitted = [
        owner.post("/api/v1/tickets/", need, expect=201, **{"Idempotency-Key": f"e2e-{i}"})
        for i, need in enumerate(NEEDS)
    ]
    ids = [ticket["id"] for ticket in submitted]
    assert {t["status"] for t in submitted} == {"submitted"}

    wait_for(
        lambda: not Ticket.objects.filter(pk__in=ids, status=Status.SUBMITTED).exists(),
        timeout=60,
        message="the worker to route the four tickets",
    )
    routed = [owner.get(f"/api/v1/tickets/{pk}/") for pk in ids]
    codes = {t["kind"]: Department.objects.get(pk=t["department"]["id"]).code for t in routed}
    assert codes == {
        "difficulty": "wendeng-xzspj",  # 文登区行政审批服务局: permits, district counterpart
        "technology": "platform-carbon-fibre",
        "funding": "wendeng-whccb",  # credit A, ordinary loan: the bank's district branch
        "supply_chain": "city-gxj",  # the chain's lead department
    }
    assert {t["status"] for t in routed} == {"assigned"}
    assert all(t["accept_due_at"] and t["resolve_due_at"] for t in routed)

    for ticket in routed:
        department_id = ticket["department"]["id"]
        username = f"handler-{department_id}"
        call_command(
            "add_staff",
            username,
            "--department",
            str(department_id),
            "--role",
            "handler",
            stdout=io.StringIO(),
        )
        handler = Api(live_server.url, _last_line("issue_token", "--user", username))
        path = f"/api/v1/tickets/{ticket['id']}"
        assert handler.post(f"{path}/accept/")["status"] == "in_progress"
        resolved = handler.post(f"{path}/resolve/", {"outcome": "solved", "reply": "已协调解决。"})
        assert (resolved["status"], resolved["outcome"]) == ("resolved", "solved")
        assert owner.post(f"{path}/confirm/", {"note": "确认"})["status"] == "closed"
        rated = owner.post(f"{path}/rate/", {"score": 5, "note": "满意"})
        assert rated["satisfaction"] == 5

    for pk in ids:
        detail = owner.get(f"/api/v1/tickets/{pk}/")
        steps = [(e["action"], e["from_status"], e["to_status"]) for e in detail["events"]]
        assert steps == [
            ("submit", None, "submitted"),
            ("route", "submitted", "assigned"),
            ("accept", "assigned", "in_progress"),
            ("resolve", "in_progress", "resolved"),
            ("confirm", "resolved", "closed"),
            ("rate", "closed", "closed"),
        ], [(e["action"], e["created_at"]) for e in detail["events"]]
        actors = [e["actor"] for e in detail["events"]]
        # As the enterprise reads it: itself, the system, and staff without their names.
        assert actors[0] == actors[4] == actors[5] == "本企业"
        assert actors[1] is None  # routed by the system (the worker)
        assert actors[2] == actors[3] == "工作人员"
        times = [dt.datetime.fromisoformat(e["created_at"]) for e in detail["events"]]
        # Two processes, two clocks ticking from one anchor: on a loaded 2-core machine the
        # worker's start-up can skew them by a few seconds, never by minutes.
        assert all(b > a - dt.timedelta(seconds=5) for a, b in itertools.pairwise(times)), [
            (e["action"], e["created_at"]) for e in detail["events"]
        ]
        assert {t.date() for t in times} == {dt.date(2026, 6, 3)}
    listed = owner.get("/api/v1/tickets/?status=closed")
    assert sorted(row["id"] for row in listed["results"]) == sorted(ids)
