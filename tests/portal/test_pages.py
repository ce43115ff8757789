"""The portal's pages as an enterprise uses them: the list with badges, departments,
deadlines, overdue marks, filters and pages; submitting one need (a double submit makes one
ticket); the detail page's actions; the profile."""

import datetime as dt
import json
import re

import pytest

from tests.factories import ChainFactory
from tests.portal.conftest import NOW, make_ticket, signed_in
from tickets import categories
from tickets.models import Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def _key(response) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', _text(response)).group(1)


# --- 我的诉求 -----------------------------------------------------------------------------------


def test_the_list_shows_status_department_next_deadline_and_overdue(world):
    waiting = make_ticket(world, Status.ASSIGNED, title="等待签收的诉求")
    late = make_ticket(
        world,
        Status.IN_PROGRESS,
        title="超期的诉求",
        resolve_due_at=NOW - dt.timedelta(days=2, hours=1),
    )
    new = make_ticket(world, Status.SUBMITTED, title="刚提交的诉求")

    page = _text(signed_in(world.owner).get("/portal/"))

    def row(ticket):
        start = page.rindex("<li", 0, page.index(f'data-number="{ticket.number}"'))
        return page[start : page.index("</li>", start)]

    assert "badge-assigned" in row(waiting) and "已分派" in row(waiting)
    assert "文登区工业和信息化局" in row(waiting)
    assert "签收 2026-06-04 09:00" in row(waiting)
    assert "is-late" in row(late) and "已超期3天" in row(late)
    assert "办结" in row(late)
    assert "待分派" in row(new) and "is-late" not in row(new) and "—" in row(new)


def test_the_list_filters_by_kind_and_status_and_pages(world):
    for i in range(23):
        make_ticket(world, Status.ASSIGNED, title=f"困难{i}")
    make_ticket(world, Status.RESOLVED, title="已办结的那条")
    make_ticket(world, Status.SUBMITTED, kind="funding", title="资金那条", amount=100)
    client = signed_in(world.owner)

    first = _text(client.get("/portal/"))
    assert first.count("data-number=") == 20
    assert "第 1 / 2 页" in first
    second = _text(client.get("/portal/?page=2"))
    assert second.count("data-number=") == 5

    funding = _text(client.get("/portal/?kind=funding"))
    assert funding.count("data-number=") == 1 and "资金那条" in funding
    resolved = _text(client.get("/portal/?status=resolved&kind=difficulty"))
    assert resolved.count("data-number=") == 1 and "已办结的那条" in resolved
    filtered_pages = _text(client.get("/portal/?status=assigned"))
    assert "status=assigned&amp;page=2" in filtered_pages

    bad = client.get("/portal/?status=nonsense")
    assert bad.status_code == 400
    assert "筛选条件无效" in _text(bad)


def test_pages_cost_a_fixed_number_of_queries(world, django_assert_num_queries):
    tickets = [make_ticket(world, Status.RESOLVED, title=f"诉求{i}") for i in range(25)]
    client = signed_in(world.owner)
    # The session, the user, the account's enterprise; then the count and the page, or the
    # ticket and its events: the same five for 25 tickets as for one.
    for path in ["/portal/", "/portal/?page=2", f"/portal/tickets/{tickets[0].pk}/"]:
        with django_assert_num_queries(5):
            assert client.get(path).status_code == 200


# --- 提交诉求 -----------------------------------------------------------------------------------


def test_each_kind_has_its_own_fields(world):
    world.enterprise.chains.add(world.chain)
    client = signed_in(world.owner)
    for kind in categories.CATEGORIES:
        page = _text(client.get(f"/portal/submit/{kind}/"))
        for code in categories.CATEGORIES[kind]:
            assert f'value="{code}"' in page
        assert ('name="amount"' in page) == (kind == "funding")
        assert 'name="chain"' in page
    assert "一、技术难题或需求描述" in _text(client.get("/portal/submit/technology/"))


def test_the_description_templates_come_from_python_as_json(world):
    page = _text(signed_in(world.owner).get("/portal/submit/difficulty/"))
    data = re.search(
        r'<script id="description-templates" type="application/json">(.*?)</script>', page, re.S
    ).group(1)
    assert json.loads(data) == categories.description_templates("difficulty")
    assert json.loads(data)["energy"].startswith("一、现有用能情况")
    assert 'src="/static/portal/portal.js"' in page


def test_submitting_twice_with_one_form_makes_one_ticket(world, django_capture_on_commit_callbacks):
    client = signed_in(world.owner)
    key = _key(client.get("/portal/submit/funding/"))
    body = {
        "idempotency_key": key,
        "category": "loan",
        "title": "流动资金贷款",
        "amount": "300",
        "description": "需要 300 万元流动资金。",
    }

    with django_capture_on_commit_callbacks():
        first = client.post("/portal/submit/funding/", body)
    second = client.post("/portal/submit/funding/", body)

    ticket = Ticket.objects.get()
    assert (ticket.kind, ticket.category, ticket.amount) == ("funding", "loan", 300)
    assert ticket.submitted_by == world.owner and ticket.enterprise == world.enterprise
    assert ticket.source == "self"  # 企业自报
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/portal/tickets/{ticket.pk}/"
    assert TicketEvent.objects.filter(ticket=ticket, action="submit").count() == 1
    followed = client.get(first["Location"])
    assert "该诉求已提交（重复提交只保存一次）" in _text(followed)
    # A new rendering of the form is a new key: a second need is a second ticket.
    assert _key(client.get("/portal/submit/funding/")) != key


def test_the_same_form_sent_again_with_other_content_is_refused_with_a_new_key(world):
    client = signed_in(world.owner)
    key = _key(client.get("/portal/submit/difficulty/"))
    body = {"idempotency_key": key, "category": "land", "title": "用地", "description": "内容"}
    client.post("/portal/submit/difficulty/", body)

    again = client.post("/portal/submit/difficulty/", {**body, "title": "另一个诉求"})

    assert again.status_code == 422
    assert "该表单已提交过其他内容" in _text(again)
    assert _key(again) != key
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "body", "field_error"),
    [
        ("funding", {"category": "loan", "title": "贷款", "description": "x"}, "amount"),
        (
            "funding",
            {"category": "loan", "title": "贷款", "description": "x", "amount": "-1"},
            "amount",
        ),
        ("difficulty", {"category": "loan", "title": "x", "description": "x"}, "category"),
        ("difficulty", {"category": "land", "title": "", "description": "x"}, "title"),
        ("technology", {"category": "other", "title": "x", "description": " "}, "description"),
    ],
)
def test_bad_input_is_a_400_on_the_form_and_saves_nothing(world, kind, body, field_error):
    client = signed_in(world.owner)
    key = _key(client.get(f"/portal/submit/{kind}/"))
    response = client.post(f"/portal/submit/{kind}/", {"idempotency_key": key, **body})
    assert response.status_code == 400
    assert field_error in response.context["form"].errors
    assert Ticket.objects.count() == 0


def test_a_chain_that_is_not_the_enterprise_s_is_refused(world):
    world.enterprise.chains.add(world.chain)
    other_chain = ChainFactory(chief_office=world.chief, lead_department=world.city)
    client = signed_in(world.owner)
    key = _key(client.get("/portal/submit/supply_chain/"))
    response = client.post(
        "/portal/submit/supply_chain/",
        {
            "idempotency_key": key,
            "category": "supplier",
            "title": "配套",
            "description": "x",
            "chain": str(other_chain.pk),
        },
    )
    assert response.status_code == 400
    assert "chain" in response.context["form"].errors
    assert Ticket.objects.count() == 0


# --- the detail page and its actions ------------------------------------------------------------


def test_the_detail_shows_deadlines_and_only_the_department_name(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    page = _text(signed_in(world.owner).get(f"/portal/tickets/{ticket.pk}/"))
    assert "文登区工业和信息化局" in page
    assert "签收时限" in page and "办结时限" in page and "2026-06-10 09:00" in page
    assert "local-handler" not in page
    assert 'id="action-withdraw"' in page
    assert 'id="action-confirm"' not in page


def test_an_enterprise_withdraws_with_a_reason(world):
    ticket = make_ticket(world, Status.ASSIGNED)
    client = signed_in(world.owner)

    path = f"/portal/tickets/{ticket.pk}/withdraw/"
    response = client.post(path, {"withdraw-reason": "已自行解决"})

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.WITHDRAWN
    event = ticket.events.get(action="withdraw")
    assert (event.actor, event.reply, event.note) == (world.owner, "已自行解决", "")
    page = _text(client.get(response["Location"]))
    assert "已撤回。" in page and "已自行解决" in page and "（本企业）" in page


def test_an_unsatisfied_rating_offers_reopening_and_reopening_needs_a_reason(world):
    ticket = make_ticket(world, Status.RESOLVED)
    client = signed_in(world.owner)
    assert 'id="offer-reopen"' not in _text(client.get(f"/portal/tickets/{ticket.pk}/"))

    client.post(f"/portal/tickets/{ticket.pk}/rate/", {"rate-score": "2", "rate-note": "没解决"})
    page = _text(client.get(f"/portal/tickets/{ticket.pk}/"))
    assert 'id="offer-reopen"' in page
    assert re.search(r'<details class="card action" id="action-reopen"\s+open', page)
    assert 'id="action-rate"' not in page  # rated once

    empty = client.post(f"/portal/tickets/{ticket.pk}/reopen/", {"reopen-reason": ""})
    assert empty.status_code == 400
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED

    client.post(f"/portal/tickets/{ticket.pk}/reopen/", {"reopen-reason": "供电仍未增容"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count, ticket.satisfaction) == (Status.IN_PROGRESS, 1, 2)


def test_a_satisfied_rating_offers_no_reopening(world):
    ticket = make_ticket(world, Status.RESOLVED)
    client = signed_in(world.owner)
    client.post(f"/portal/tickets/{ticket.pk}/confirm/", {})
    client.post(f"/portal/tickets/{ticket.pk}/rate/", {"rate-score": "5"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.satisfaction) == (Status.CLOSED, 5)
    page = _text(client.get(f"/portal/tickets/{ticket.pk}/"))
    assert 'id="offer-reopen"' not in page and "5 / 5" in page


@pytest.mark.parametrize("score", ["0", "6", "abc", ""])
def test_a_bad_score_is_a_400_and_changes_nothing(world, score):
    ticket = make_ticket(world, Status.RESOLVED)
    response = signed_in(world.owner).post(
        f"/portal/tickets/{ticket.pk}/rate/", {"rate-score": score}
    )
    assert response.status_code == 400
    assert Ticket.objects.get(pk=ticket.pk).satisfaction is None


def test_an_action_the_status_no_longer_allows_is_a_409_with_the_reason(world):
    ticket = make_ticket(world, Status.CLOSED)
    response = signed_in(world.owner).post(f"/portal/tickets/{ticket.pk}/withdraw/", {})
    assert response.status_code == 409
    assert "不能执行“撤回”" in _text(response)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


def test_an_action_that_is_not_the_enterprise_s_is_a_403(world):
    ticket = make_ticket(world, Status.ASSIGNED)
    response = signed_in(world.owner).post(f"/portal/tickets/{ticket.pk}/accept/", {})
    assert response.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).status == Status.ASSIGNED


def test_a_negative_answer_under_review_is_not_shown(world):
    ticket = make_ticket(world, Status.PENDING_REVIEW)
    page = _text(signed_in(world.owner).get(f"/portal/tickets/{ticket.pk}/"))
    assert "政策不允许" not in page
    assert 'id="ticket-answer"' not in page


# --- 企业信息 -----------------------------------------------------------------------------------


def test_the_profile_shows_the_record_and_changes_only_the_contact(world):
    client = signed_in(world.owner)
    page = _text(client.get("/portal/profile/"))
    assert world.enterprise.uscc in page and world.enterprise.name in page

    response = client.post(
        "/portal/profile/",
        {
            "contact_name": "李四",
            "contact_phone": "0631-5200000",
            "contact_email": "li@enterprise.example",
            "name": "改名企业",
            "credit_grade": "A",
        },
    )

    assert response.status_code == 302
    world.enterprise.refresh_from_db()
    assert (world.enterprise.contact_name, world.enterprise.contact_email) == (
        "李四",
        "li@enterprise.example",
    )
    assert world.enterprise.contact_phone == "0631-5200000"
    assert world.enterprise.name != "改名企业" and world.enterprise.credit_grade == "B"


def test_a_bad_contact_is_a_400_and_saves_nothing(world):
    response = signed_in(world.owner).post(
        "/portal/profile/",
        {"contact_name": "李四", "contact_phone": "call me", "contact_email": "not-an-email"},
    )
    assert response.status_code == 400
    world.enterprise.refresh_from_db()
    assert world.enterprise.contact_name == "张经理"


# --- languages -----------------------------------------------------------------------------------


def test_the_language_switch_turns_the_portal_english(world):
    client = signed_in(world.owner)
    assert "我的诉求" in _text(client.get("/portal/"))
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/portal/"})
    assert response.status_code == 302
    english = client.get("/portal/")
    assert english.status_code == 200
    assert '<html lang="en">' in _text(english)
