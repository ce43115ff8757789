"""An internal note (内部备注) written by staff, over every action that takes one, reaches
staff and never the portal; nor does a staff member's name. The cases are the API's
(tests/api/test_visibility.py), so a new action with a note is covered in both faces."""

import pytest

from tests.api.test_actions import with_survivor
from tests.api.test_visibility import INTERNAL, NOTE_CASES, REPLY, SECRET
from tests.portal.conftest import make_ticket, signed_in
from tickets import actions
from tickets.models import TicketEvent
from tickets.selectors import STAFF_ONLY_ACTIONS, timeline_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("endpoint", "start", "fields", "who", "body", "after", "event"),
    NOTE_CASES,
    ids=[f"{c[0]}-{(c[4] or {}).get('outcome', '')}" for c in NOTE_CASES],
)
def test_an_internal_note_reaches_staff_and_never_the_portal(
    world, endpoint, start, fields, who, body, after, event
):
    ticket = make_ticket(world, start, **fields)
    spec = next(s for s in actions.ACTIONS.values() if s.slug == endpoint)
    values = with_survivor(world, dict(body or {"department": world.other_city.pk}))
    for name in INTERNAL[endpoint]:
        values[name] = SECRET
    if any(f.name == "reply" for f in spec.fields) and not values.get("reply"):
        values["reply"] = REPLY
    actor = getattr(world, who)

    actions.perform(spec, ticket_id=ticket.pk, actor=actor, values=values)

    ticket.refresh_from_db()
    assert ticket.status == after
    staff_sees = [e.note for e in timeline_for(actor, ticket)]
    assert any(SECRET in note for note in staff_sees)

    client = signed_in(world.owner)
    pages = [
        client.get(f"/portal/tickets/{ticket.pk}/"),
        client.get("/portal/"),
        client.get(f"/portal/?status={ticket.status}"),
    ]
    for page in pages:
        assert page.status_code == 200
        text = page.content.decode()
        assert SECRET not in text
        for user in (world.handler, world.leader_user, world.coordinator_user, actor):
            assert user.username not in text
    # The step itself shows unless it is one between departments (tickets.selectors).
    label = f"<strong>{TicketEvent.Action(event).label}</strong>"
    assert (label in pages[0].content.decode()) == (event not in STAFF_ONLY_ACTIONS)
