"""Emails: right recipients, Chinese subjects, each notification at most once."""

import pytest

from tests.tickets.conftest import T0, at, make_ticket
from tickets import notifications, tasks, workflow
from tickets.escalation import escalate_overdue
from tickets.models import NotificationLog, Status


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from tickets import effects

    monkeypatch.setattr(effects, "publish", lambda *args: True)


def test_assignment_emails_the_department_and_tells_the_enterprise(world, mailoutbox):
    ticket = make_ticket(world, Status.SUBMITTED, department=None)
    workflow.route_ticket(ticket_id=ticket.pk, now=T0)
    event = ticket.events.get(action="route")
    assert tasks.notify_event(event.pk) == 2
    department_mail, enterprise_mail = sorted(
        mailoutbox, key=lambda m: m.to[0] != world.local.email
    )
    assert department_mail.to == [world.local.email]
    assert department_mail.subject == f"【企业诉求直通车】新分派诉求 {ticket.number}：用电增容审批"
    assert "签收时限：2026-06-04 09:00" in department_mail.body
    assert enterprise_mail.to == [world.enterprise.contact_email]
    assert enterprise_mail.subject == f"【企业诉求直通车】您的诉求 {ticket.number} 已分派"


def test_a_redelivered_notification_task_sends_nothing_twice(world, mailoutbox):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    workflow.resolve_ticket(
        ticket_id=ticket.pk, actor=world.handler, outcome="solved", reply="已解决", now=T0
    )
    event = ticket.events.get(action="resolve")
    assert tasks.notify_event(event.pk) == 1
    assert tasks.notify_event(event.pk) == 0  # acks_late redelivery
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == f"【企业诉求直通车】您的诉求 {ticket.number} 已办结"
    assert "办理结果：已解决" in mailoutbox[0].body
    assert (
        NotificationLog.objects.filter(key=f"event:{event.pk}:enterprise")
        .exclude(sent_at=None)
        .count()
        == 1
    )


def test_a_negative_answer_goes_to_the_tier_above_not_yet_to_the_enterprise(world, mailoutbox):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    workflow.resolve_ticket(
        ticket_id=ticket.pk, actor=world.handler, outcome="explained", reply="无法", now=T0
    )
    tasks.notify_event(ticket.events.get(action="resolve").pk)
    assert [m.to for m in mailoutbox] == [[world.city.email]]
    assert mailoutbox[0].subject.startswith("【企业诉求直通车】待审核")


def test_internal_steps_send_no_event_email(world, mailoutbox):
    ticket = make_ticket(world, Status.RESOLVED)
    workflow.rate_ticket(ticket_id=ticket.pk, actor=world.owner, score=5, now=T0)
    assert tasks.notify_event(ticket.events.get(action="rate").pk) == 0
    assert mailoutbox == []


def test_failed_send_can_be_retried(world, mailoutbox, monkeypatch):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    workflow.resolve_ticket(
        ticket_id=ticket.pk, actor=world.handler, outcome="solved", reply="好", now=T0
    )
    event = ticket.events.get(action="resolve")

    def broken(*args, **kwargs):
        raise OSError("smtp down")

    monkeypatch.setattr(notifications, "send_mail", broken)
    with pytest.raises(OSError, match="smtp down"):
        notifications.notify_event(event.pk)
    assert not NotificationLog.objects.exists()
    monkeypatch.undo()
    assert notifications.notify_event(event.pk) == 1


def test_one_digest_per_department_per_sweep_and_never_twice(world, mailoutbox):
    for _ in range(3):
        make_ticket(world, Status.IN_PROGRESS)  # will be escalated local → city
    make_ticket(world, Status.IN_PROGRESS, department=world.city)  # due in 10 days: untouched
    result = escalate_overdue(now=at(2026, 6, 11, 9), notify=False)
    assert dict(result.counts) == {"escalate": 3}
    assert tasks.send_digest(result.sweep_id, result.event_ids) == 2
    assert tasks.send_digest(result.sweep_id, result.event_ids) == 0
    by_recipient = {m.to[0]: m for m in mailoutbox}
    assert set(by_recipient) == {world.local.email, world.city.email}
    city_mail = by_recipient[world.city.email]
    assert city_mail.subject == "【企业诉求直通车】时限提醒：市工业和信息化局 升级（红牌）3件"
    assert city_mail.body.count("[升级（红牌）]") == 3
    assert by_recipient[world.local.email].body.count("[升级（红牌）]") == 3
