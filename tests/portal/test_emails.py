"""Mail to the enterprise's contact when its need is accepted, resolved (with the reply) or
put under supervision (督办) after a missed deadline: one mail per event, however often the
task runs (NotificationLog keys, like the departments' mails)."""

import pytest

from tests.tickets.conftest import T0, at, make_ticket
from tickets import tasks, workflow
from tickets.escalation import escalate_overdue
from tickets.models import NotificationLog, Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch, settings):
    from tickets import effects

    monkeypatch.setattr(effects, "publish", lambda *args: True)
    settings.SITE_URL = "https://weihai.example"


def _to_enterprise(world, outbox):
    return [m for m in outbox if m.to == [world.enterprise.contact_email]]


def test_accepted_once(world, mailoutbox):
    ticket = make_ticket(world, Status.ASSIGNED)
    workflow.accept_ticket(ticket_id=ticket.pk, actor=world.handler, reply="已安排专人对接", now=T0)
    event = ticket.events.get(action="accept")

    assert tasks.notify_event(event.pk) == 1
    assert tasks.notify_event(event.pk) == 0

    [mail] = _to_enterprise(world, mailoutbox)
    assert mail.subject == f"【企业诉求直通车】您的诉求 {ticket.number} 已签收"
    assert "说明：已安排专人对接" in mail.body
    assert "办结时限：2026-06-10 09:00" in mail.body
    assert f"https://weihai.example/portal/tickets/{ticket.pk}/" in mail.body
    assert NotificationLog.objects.filter(key=f"event:{event.pk}:enterprise").count() == 1


def test_resolved_once_with_the_reply_and_never_the_internal_note(world, mailoutbox):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    workflow.resolve_ticket(
        ticket_id=ticket.pk,
        actor=world.handler,
        outcome="solved",
        reply="已协调供电公司 & 园区增容 200 千伏安",
        note="内部：等待领导批示",
        now=T0,
    )
    event = ticket.events.get(action="resolve")

    assert tasks.notify_event(event.pk) == 1
    assert tasks.notify_event(event.pk) == 0

    [mail] = _to_enterprise(world, mailoutbox)
    assert mail.subject == f"【企业诉求直通车】您的诉求 {ticket.number} 已办结"
    assert "办理说明：已协调供电公司 & 园区增容 200 千伏安" in mail.body  # plain text, not &amp;
    assert "内部" not in mail.body and "local-handler" not in mail.body


def test_supervised_after_a_missed_deadline_once_per_event(world, mailoutbox):
    # At the top tier there is no one to escalate to: past the deadline it is supervised.
    ticket = make_ticket(world, Status.IN_PROGRESS, department=world.leader)
    now = at(2026, 7, 1, 9)

    result = escalate_overdue(now=now, notify=False)
    assert dict(result.counts) == {"supervise": 1}
    again = escalate_overdue(now=now, notify=False)
    assert dict(again.counts) == {}

    sent = tasks.send_digest(result.sweep_id, result.event_ids)
    assert tasks.send_digest(result.sweep_id, result.event_ids) == 0  # redelivered
    event = ticket.events.get(action="supervise")
    [mail] = _to_enterprise(world, mailoutbox)
    assert mail.subject == f"【企业诉求直通车】您的诉求 {ticket.number} 已列入督办"
    assert "已超过办理时限，已列入督办" in mail.body
    assert sent == 2  # the leader office's digest and the enterprise
    assert [m.to for m in mailoutbox if m is not mail] == [[world.leader.email]]
    assert NotificationLog.objects.filter(key=f"event:{event.pk}:enterprise").count() == 1
    # The supervise step sends no per-event mail of its own (the sweep's digest does).
    assert tasks.notify_event(event.pk) == 0


@pytest.mark.parametrize("step", ["withdraw", "confirm", "reopen"])
def test_the_enterprise_s_own_steps_mail_it_nothing(world, mailoutbox, step):
    start = Status.ASSIGNED if step == "withdraw" else Status.RESOLVED
    ticket = make_ticket(world, start)
    function = {
        "withdraw": workflow.withdraw_ticket,
        "confirm": workflow.confirm_ticket,
        "reopen": lambda **kw: workflow.reopen_ticket(reason="没解决", **kw),
    }[step]
    function(ticket_id=ticket.pk, actor=world.owner, now=T0)
    assert tasks.notify_event(ticket.events.get(action=step).pk) == 0
    assert mailoutbox == []
