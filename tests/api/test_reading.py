"""GET /api/v1/tickets/ and /api/v1/tickets/{id}/: what each party sees, filters, ordering,
the timeline, and a query count that does not grow with the data."""

import datetime as dt

import pytest

from tests.api.conftest import NOW, T0, client_for, make_ticket
from tests.factories import EnterpriseFactory
from tickets import workflow
from tickets.models import Status, TicketEvent

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def tickets(world, parties):
    """Tickets of enterprise A (local department, city department, submitted) and of B."""
    own_local = make_ticket(world, Status.IN_PROGRESS, title="本地")
    own_city = make_ticket(world, Status.ASSIGNED, department=world.city)
    own_new = make_ticket(world, Status.SUBMITTED)
    foreign = make_ticket(
        world, Status.ASSIGNED, enterprise=parties.other_enterprise, department=world.other_city
    )
    return own_local, own_city, own_new, foreign


def test_enterprise_lists_only_its_own_tickets_newest_first(world, tickets):
    own_local, own_city, own_new, _foreign = tickets

    response = client_for(world.owner).get("/api/v1/tickets/")

    assert ids(response) == [own_new.pk, own_city.pk, own_local.pk]
    assert response.json()["count"] == 3


def test_department_staff_list_their_departments_tickets(world, parties, tickets):
    own_local, _own_city, _own_new, foreign = tickets

    assert ids(client_for(parties.staff_x).get("/api/v1/tickets/")) == [own_local.pk]
    assert ids(client_for(parties.staff_y).get("/api/v1/tickets/")) == [foreign.pk]


def test_department_staff_keep_seeing_a_ticket_that_passed_through_them(world, parties):
    ticket = make_ticket(world, Status.ASSIGNED)
    TicketEvent.objects.create(
        ticket=ticket,
        action="route",
        to_status="assigned",
        to_department=world.local,
        level="district",
    )
    workflow.return_ticket(ticket_id=ticket.pk, actor=world.handler, reason="非本单位职责")

    ticket.refresh_from_db()
    assert ticket.department == world.coordinator
    assert ids(client_for(parties.staff_x).get("/api/v1/tickets/")) == [ticket.pk]
    assert client_for(parties.staff_x).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 200


def test_coordinator_lists_every_ticket(world, parties, tickets):
    assert sorted(ids(client_for(parties.coordinator).get("/api/v1/tickets/"))) == sorted(
        t.pk for t in tickets
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=funding", ["funding"]),
        ("status=assigned", ["city"]),
        ("status=assigned&status=submitted", ["new", "city", "funding"]),
        ("level=city", ["city"]),
        ("overdue=true", ["late"]),
        ("overdue=false", ["new", "city", "local", "funding"]),
        ("supervised=true", ["local"]),
        ("number=WH-2026-000002", ["city"]),
        ("created_after=2026-06-01&created_before=2026-06-01", ["funding"]),
        ("created_after=2026-06-02", ["new", "city", "local", "late"]),
        ("ordering=resolve_due_at&status=in_progress", ["late", "local"]),
        ("ordering=-resolve_due_at&status=in_progress", ["local", "late"]),
    ],
)
def test_list_filters(world, query, expected):
    rows = {
        "local": make_ticket(world, Status.IN_PROGRESS, supervised=True),
        "city": make_ticket(world, Status.ASSIGNED, department=world.city),
        "late": make_ticket(
            world,
            Status.IN_PROGRESS,
            now=T0 - dt.timedelta(days=20),
            created_at=T0 - dt.timedelta(hours=2),
        ),
        "funding": make_ticket(
            world, Status.SUBMITTED, kind="funding", created_at=T0 - dt.timedelta(days=2)
        ),
        "new": make_ticket(world, Status.SUBMITTED),
    }
    assert rows["late"].resolve_due_at < NOW
    name = {ticket.pk: key for key, ticket in rows.items()}

    response = client_for(world.coordinator_user).get(f"/api/v1/tickets/?{query}")

    assert [name[pk] for pk in ids(response)] == expected


def test_department_filter(world):
    city = make_ticket(world, Status.ASSIGNED, department=world.city)
    make_ticket(world, Status.ASSIGNED)

    response = client_for(world.coordinator_user).get(
        f"/api/v1/tickets/?department={world.city.pk}"
    )

    assert ids(response) == [city.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=lottery", "kind"),
        ("status=nope", "status"),
        ("department=abc", "department"),
        ("department=99999999999999999999999", "department"),
        ("created_after=yesterday", "created_after"),
        ("created_after=0001-01-01", "created_after"),
        ("created_before=9999-12-31", "created_before"),
        ("number=" + "9" * 21, "number"),
    ],
)
def test_bad_filters_answer_400_naming_the_parameter(world, query, field):
    response = client_for(world.coordinator_user).get(f"/api/v1/tickets/?{query}")

    assert response.status_code == 400
    assert response.json()["field"] == field


def test_pages_are_stable_and_bounded(world):
    made = [make_ticket(world, Status.SUBMITTED) for _ in range(5)]
    client = client_for(world.coordinator_user)

    first = client.get("/api/v1/tickets/?page_size=2")
    third = client.get("/api/v1/tickets/?page_size=2&page=3")
    beyond = client.get("/api/v1/tickets/?page=4&page_size=2")

    # All five share created_at: id breaks the tie.
    assert ids(first) == [made[4].pk, made[3].pk]
    assert ids(third) == [made[0].pk]
    assert first.json()["count"] == 5
    assert beyond.status_code == 404
    assert beyond.json()["code"] == "not_found"
    assert len(ids(client.get("/api/v1/tickets/?page_size=100000"))) == 5


def test_detail_shows_the_timeline_deadlines_department_and_level(world):
    ticket, _ = workflow.submit_ticket(
        enterprise=world.enterprise,
        kind="difficulty",
        title="用地",
        description="需要用地",
        actor=world.owner,
    )
    workflow.route_ticket(ticket_id=ticket.pk)
    workflow.accept_ticket(ticket_id=ticket.pk, actor=world.handler)

    response = client_for(world.owner).get(f"/api/v1/tickets/{ticket.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["department"] == {"id": world.local.pk, "name": "文登区工业和信息化局"}
    assert (body["status"], body["level"]) == ("in_progress", "district")
    assert body["accept_due_at"] == "2026-06-04T10:00:00+08:00"
    assert body["resolve_due_at"] == "2026-06-10T10:00:00+08:00"
    assert [
        (e["action"], e["from_status"], e["to_status"], e["actor"], e["level"])
        for e in body["events"]
    ] == [
        ("submit", None, "submitted", "本企业", "district"),
        ("route", "submitted", "assigned", None, "district"),
        ("accept", "assigned", "in_progress", "工作人员", "district"),
    ]
    assert body["events"][1]["to_department"] == {"id": world.local.pk, "name": world.local.name}
    # Staff read who acted by name.
    staff = client_for(world.handler).get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert [e["actor"] for e in staff["events"]] == ["enterprise-a", None, "local-handler"]


@pytest.mark.parametrize("path", ["abc", "0", "-1", "1.5", "99999999999999999999", "%E4%B8%AD"])
def test_malformed_or_unknown_ids_answer_404(world, path):
    response = client_for(world.coordinator_user).get(f"/api/v1/tickets/{path}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "诉求不存在。", "code": "not_found", "field": None}


def test_unknown_api_paths_answer_json_404(world):
    response = client_for(world.owner).get("/api/v1/tickets/1/nothing/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def _fill(world, count: int, events_each: int) -> None:
    enterprises = [EnterpriseFactory(district=world.district) for _ in range(3)]
    for index in range(count):
        ticket = make_ticket(
            world,
            Status.IN_PROGRESS,
            enterprise=world.enterprise if index % 2 else enterprises[index % 3],
            department=[world.local, world.city][index % 2],
        )
        for _ in range(events_each):
            TicketEvent.objects.create(
                ticket=ticket,
                actor=world.handler,
                action="route",
                to_status="assigned",
                to_department=world.local,
                level="district",
            )


# token with its user, the user's other tokens (knox's expiry housekeeping), the actor
# (enterprise account and memberships), count, page; a department's count is one statement
# however it is answered (api.pagination).
@pytest.mark.parametrize(
    ("user", "queries"), [("owner", 5), ("handler", 5), ("coordinator_user", 5)]
)
def test_list_query_count_does_not_grow_with_the_data(
    world, user, queries, django_assert_max_num_queries
):
    client = client_for(getattr(world, user))
    _fill(world, 3, 1)
    with django_assert_max_num_queries(queries):
        small = client.get("/api/v1/tickets/")
    _fill(world, 40, 3)
    with django_assert_max_num_queries(queries):
        large = client.get("/api/v1/tickets/?page_size=100&status=in_progress&overdue=false")

    assert len(ids(small)) < len(ids(large))


def test_detail_query_count_does_not_grow_with_the_timeline(world, django_assert_num_queries):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    client = client_for(world.handler)
    # token with its user, the user's other tokens, the actor, ticket, events (with their
    # actors and departments)
    with django_assert_num_queries(5):
        assert len(client.get(f"/api/v1/tickets/{ticket.pk}/").json()["events"]) == 1
    for _ in range(30):
        TicketEvent.objects.create(
            ticket=ticket,
            actor=world.handler,
            action="route",
            to_department=world.local,
            level="district",
        )
    with django_assert_num_queries(5):
        assert len(client.get(f"/api/v1/tickets/{ticket.pk}/").json()["events"]) == 31


def test_count_stops_at_the_cap_and_says_so(world, monkeypatch):
    from api.pagination import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    for _ in range(5):
        make_ticket(world, Status.SUBMITTED)
    client = client_for(world.coordinator_user)

    capped = client.get("/api/v1/tickets/?page_size=2").json()
    exact = client.get("/api/v1/tickets/?page_size=2&status=submitted&kind=funding").json()
    last = client.get("/api/v1/tickets/?page_size=2&page=2")
    beyond = client.get("/api/v1/tickets/?page_size=2&page=3")

    assert (capped["count"], capped["count_exact"]) == (3, False)
    assert (exact["count"], exact["count_exact"]) == (0, True)
    assert len(last.json()["results"]) == 1  # pages cover exactly the first `cap` rows
    assert last.json()["next"] is None
    assert beyond.status_code == 404


def _passed_through(world, department) -> None:
    """A ticket that was assigned to `department` and is now elsewhere (escalated)."""
    ticket = make_ticket(world, Status.IN_PROGRESS, department=world.city)
    TicketEvent.objects.create(
        ticket=ticket,
        action="route",
        to_status="assigned",
        to_department=department,
        level="district",
    )


@pytest.mark.parametrize(
    ("current", "passed_through", "expected"),
    [
        (2, 0, (2, True)),  # the floor is under the cap: the full count answers, exactly
        (1, 1, (2, True)),  # a ticket only in the history still counts
        (2, 2, (3, False)),  # over the cap only with the history
        (4, 0, (3, False)),  # the tickets assigned now alone pass the cap
    ],
)
def test_a_department_count_includes_its_history_and_stops_at_the_cap(
    world, monkeypatch, current, passed_through, expected
):
    from api.pagination import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    for _ in range(current):
        make_ticket(world, Status.IN_PROGRESS, department=world.local)
    for _ in range(passed_through):
        _passed_through(world, world.local)
    make_ticket(world, Status.IN_PROGRESS, department=world.other_city)  # never theirs

    page = client_for(world.handler).get("/api/v1/tickets/?status=in_progress").json()

    assert (page["count"], page["count_exact"]) == expected
    assert len(page["results"]) == min(current + passed_through, 3)


def test_overdue_filter_ordered_by_deadline_lists_both_open_statuses(world):
    late = NOW - dt.timedelta(days=30)
    accept_late = make_ticket(world, Status.ASSIGNED, accept_due_at=late, resolve_due_at=late)
    resolve_later = make_ticket(
        world, Status.IN_PROGRESS, resolve_due_at=late + dt.timedelta(hours=1)
    )
    make_ticket(world, Status.IN_PROGRESS)  # not overdue
    make_ticket(world, Status.CLOSED, resolve_due_at=late)  # closed: never overdue

    response = client_for(world.handler).get(
        "/api/v1/tickets/?overdue=true&ordering=resolve_due_at"
    )

    assert ids(response) == [accept_late.pk, resolve_later.pk]
    assert response.json()["count"] == 2


def test_several_statuses_list_each_ticket_once(world):
    tickets = [make_ticket(world, status) for status in (Status.ASSIGNED, Status.IN_PROGRESS)]

    response = client_for(world.coordinator_user).get(
        "/api/v1/tickets/?status=assigned&status=in_progress&status=closed"
    )

    assert sorted(ids(response)) == sorted(t.pk for t in tickets)
    assert response.json()["count"] == 2
