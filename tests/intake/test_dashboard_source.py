"""The dashboard's source split: 工作组走访 / 企业自报 / 窗口代录, and each channel's default."""

import pytest
import time_machine
from django.contrib.auth import get_user_model

from intake import services
from tests.intake.conftest import NOW
from tickets import workflow
from tickets.models import Source

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_each_channel_records_its_source(intake_world):
    w = intake_world.world
    own, _ = workflow.submit_ticket(
        enterprise=w.enterprise,
        kind="difficulty",
        title="自报",
        description="企业自己提交",
        actor=w.owner,
    )
    window, _ = workflow.submit_ticket(
        enterprise=w.enterprise,
        kind="difficulty",
        title="窗口",
        description="电话反映，窗口代录",
        actor=w.coordinator_user,
    )
    assert (own.source, window.source) == (Source.SELF, Source.WINDOW)


def test_the_dashboard_shows_the_source_split(
    intake_world, client, django_capture_on_commit_callbacks
):
    w = intake_world
    coordinator = w.world.coordinator_user
    batch = services.preview(w.content, file_name="list.xlsx", user=coordinator, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm(batch, user=coordinator, now=NOW)
    workflow.submit_ticket(
        enterprise=w.a, kind="funding", title="窗口代录", description="来电", actor=coordinator
    )
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(superuser)

    html = client.get("/admin/dashboard/", {"since": "2026-01-01", "until": "2026-06-30"})

    text = html.content.decode()
    split = text[text.index('id="source-split"') : text.index("各责任单位解决率")]
    # 30 imported, the existing ticket of the fixture (an enterprise's own), one at the window.
    assert '<tr class="source-work_group">' in split
    rows = {
        key: split[split.index(f'source-{key}"') :].split("</tr>")[0]
        for key in ("work_group", "self", "window")
    }
    assert '<td class="num">30</td>' in rows["work_group"] and "94%" in rows["work_group"]
    assert '<td class="num">1</td>' in rows["self"] and "3%" in rows["self"]
    assert '<td class="num">1</td>' in rows["window"] and "3%" in rows["window"]
