"""What an enterprise may read of its ticket: replies, statuses, departments and dates — never
an internal note (内部备注) nor a staff member's name. Staff read both."""

import json

import pytest

from tests.api.conftest import client_for, make_ticket
from tests.api.test_actions import CASES, with_survivor
from tickets import actions
from tickets.models import Status

pytestmark = pytest.mark.django_db

SECRET = "内部：等待领导批示"
REPLY = "请补充用电负荷证明"
# Every action whose fields include text the enterprise must not read.
INTERNAL = {
    spec.slug: [f.name for f in spec.fields if f.kind == actions.TEXT and not f.public]
    for spec in actions.ACTIONS.values()
}
NOTE_CASES = [case for case in CASES if INTERNAL[case[0]]]


def test_every_action_that_takes_an_internal_note_is_covered():
    covered = {case[0] for case in NOTE_CASES}
    assert covered == {slug for slug, names in INTERNAL.items() if names}
    assert covered == {
        "dispatch",
        "accept",
        "resolve",
        "return",
        "hold",
        "resume",
        "extend",
        "approve-extension",
        "deny-extension",
        "approve-explanation",
        "reject-explanation",
        "merge",
    }


@pytest.mark.parametrize(
    ("endpoint", "start", "fields", "who", "body", "after", "event"),
    NOTE_CASES,
    ids=[f"{c[0]}-{(c[4] or {}).get('outcome', '')}" for c in NOTE_CASES],
)
def test_an_internal_note_reaches_staff_and_never_the_enterprise(
    world, endpoint, start, fields, who, body, after, event
):
    ticket = make_ticket(world, start, **fields)
    body = with_survivor(world, dict(body or {"department": world.other_city.pk}))
    for name in INTERNAL[endpoint]:
        body[name] = SECRET
    spec = next(s for s in actions.ACTIONS.values() if s.slug == endpoint)
    if any(f.name == "reply" for f in spec.fields) and not body.get("reply"):
        body["reply"] = REPLY
    actor = getattr(world, who)

    acted = client_for(actor).post(f"/api/v1/tickets/{ticket.pk}/{endpoint}/", body)
    assert acted.status_code == 200, acted.json()

    staff = client_for(actor).get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert SECRET in staff["events"][-1]["note"]
    assert staff["events"][-1]["actor"] == actor.username

    seen = client_for(world.owner).get(f"/api/v1/tickets/{ticket.pk}/")
    assert seen.status_code == 200
    text = json.dumps(seen.json(), ensure_ascii=False)
    assert SECRET not in text
    for user in (world.handler, world.leader_user, world.coordinator_user, actor):
        assert f'"{user.username}"' not in text
    assert all(e["note"] is None for e in seen.json()["events"])
    listed = json.dumps(client_for(world.owner).get("/api/v1/tickets/").json(), ensure_ascii=False)
    assert SECRET not in listed


def test_the_enterprise_reads_a_reply_but_not_a_negative_answer_under_review(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    handler = client_for(world.handler)
    owner = client_for(world.owner)

    response = handler.post(
        f"/api/v1/tickets/{ticket.pk}/hold/", {"reason": SECRET, "reply": REPLY}
    )
    assert response.status_code == 200
    assert owner.get(f"/api/v1/tickets/{ticket.pk}/").json()["events"][-1]["reply"] == REPLY

    handler.post(f"/api/v1/tickets/{ticket.pk}/resume/", {})
    answer = "该事项不符合现行政策，已向企业说明"
    handler.post(f"/api/v1/tickets/{ticket.pk}/resolve/", {"outcome": "explained", "reply": answer})
    pending = owner.get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert pending["status"] == "pending_review"
    assert (pending["outcome"], pending["outcome_note"]) == (None, "")
    assert answer not in json.dumps(pending, ensure_ascii=False)

    client_for(world.leader_user).post(f"/api/v1/tickets/{ticket.pk}/approve-explanation/", {})
    approved = owner.get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert (approved["outcome"], approved["outcome_note"]) == ("explained", answer)
    assert approved["events"][-1]["action"] == "approve_explanation"
    assert approved["events"][-1]["reply"] == answer


def test_steps_between_departments_are_not_in_the_enterprise_timeline(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    client_for(world.handler).post(
        f"/api/v1/tickets/{ticket.pk}/extend/", {"days": 2, "reason": SECRET}
    )
    client_for(world.leader_user).post(f"/api/v1/tickets/{ticket.pk}/deny-extension/", {})

    staff = client_for(world.handler).get(f"/api/v1/tickets/{ticket.pk}/").json()
    seen = client_for(world.owner).get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert [e["action"] for e in staff["events"]][-2:] == ["request_extension", "deny_extension"]
    assert not {"request_extension", "deny_extension"} & {e["action"] for e in seen["events"]}
    assert seen["extension_requested_days"] is None
