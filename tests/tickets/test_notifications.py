"""Emails: right recipients, Chinese subjects, each notification at most once."""

import datetime as dt

import pytest
from django.db import OperationalError
from django.db.models.query import QuerySet
from django.utils import timezone

from tests.factories import EnterpriseFactory
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
    # The log says what happened: claimed once, released, not sent, and why.
    log = NotificationLog.objects.get()
    assert (log.sent_at, log.claimed_at, log.attempts) == (None, None, 1)
    assert log.last_error == "OSError: smtp down"
    monkeypatch.undo()
    assert notifications.notify_event(event.pk) == 1
    log.refresh_from_db()
    assert log.sent_at is not None
    assert (log.attempts, log.last_error, log.body) == (2, "", "")
    assert len(mailoutbox) == 1


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


# --- claim, send, mark: recoverable, and the log tells the truth ------------------------------


class WorkerKilled(BaseException):
    """What the process sees of a SIGKILL: nothing after this line runs, no handler included."""


def resolved_event(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    workflow.resolve_ticket(
        ticket_id=ticket.pk, actor=world.handler, outcome="solved", reply="好", now=T0
    )
    return ticket.events.get(action="resolve")


def after_claim_timeout():
    return timezone.now() + notifications.CLAIM_TIMEOUT + dt.timedelta(minutes=1)


def test_a_mark_that_fails_after_the_mail_went_out_leaves_a_claim_the_redrive_honours(
    world, mailoutbox, monkeypatch
):
    event = resolved_event(world)
    real_update = QuerySet.update

    def database_gone(self, **kwargs):
        if self.model is NotificationLog and "sent_at" in kwargs:
            raise OperationalError("server closed the connection unexpectedly")
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", database_gone)
    monkeypatch.setattr(notifications, "MARK_RETRY_PAUSES", ())
    with pytest.raises(OperationalError):
        notifications.notify_event(event.pk)
    monkeypatch.setattr(QuerySet, "update", real_update)
    assert len(mailoutbox) == 1  # the mail went out …
    log = NotificationLog.objects.get(key=f"event:{event.pk}:enterprise")
    # … and the row does not claim otherwise: claimed, outcome unknown (not "free", not "sent").
    assert log.sent_at is None and log.claimed_at is not None and log.attempts == 1
    # The task's retry leaves a fresh claim alone: nothing sent twice within the timeout.
    assert notifications.notify_event(event.pk) == 0
    assert notifications.redrive(now=timezone.now())["resent"] == 0
    # Past the claim timeout the re-drive sends it again: at-least-once, as documented.
    assert notifications.redrive(now=after_claim_timeout())["resent"] == 1
    log.refresh_from_db()
    assert log.sent_at is not None and log.attempts == 2
    assert [m.subject for m in mailoutbox] == [mailoutbox[0].subject] * 2
    assert notifications.redrive(now=after_claim_timeout())["resent"] == 0


def test_a_worker_killed_between_claim_and_send_loses_no_mail(world, mailoutbox, monkeypatch):
    event = resolved_event(world)

    def killed(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(notifications, "send_mail", killed)
    with pytest.raises(WorkerKilled):
        notifications.notify_event(event.pk)
    monkeypatch.undo()
    log = NotificationLog.objects.get()
    assert log.sent_at is None and log.claimed_at is not None and log.body
    assert mailoutbox == []
    # A redelivery within the timeout cannot tell a dead claim from a slow one: it waits.
    assert notifications.notify_event(event.pk) == 0
    # Once expired, the redelivered task (or the re-drive) takes the claim over and sends.
    assert notifications.redrive(now=after_claim_timeout()) == {
        "resent": 1,
        "events": 0,
        "digests": 0,
    }
    assert len(mailoutbox) == 1
    assert "办理结果：已解决" in mailoutbox[0].body
    log.refresh_from_db()
    assert log.sent_at is not None and log.attempts == 2 and log.body == ""


def test_an_expired_claim_is_retried_by_the_redelivered_task(world, mailoutbox, monkeypatch):
    event = resolved_event(world)
    monkeypatch.setattr(
        notifications, "send_mail", lambda *a, **k: (_ for _ in ()).throw(WorkerKilled)
    )
    with pytest.raises(WorkerKilled):
        notifications.notify_event(event.pk)
    monkeypatch.undo()
    NotificationLog.objects.update(claimed_at=timezone.now() - notifications.CLAIM_TIMEOUT)
    assert notifications.notify_event(event.pk) == 1
    assert notifications.notify_event(event.pk) == 0
    assert len(mailoutbox) == 1


def test_the_redrive_notifies_events_whose_task_never_ran_once_each(world, mailoutbox):
    ticket = make_ticket(world, Status.SUBMITTED, department=None)
    workflow.route_ticket(ticket_id=ticket.pk, now=T0)  # its notify task was never published
    rated = make_ticket(world, Status.RESOLVED, now=T0 - dt.timedelta(days=7))
    workflow.rate_ticket(ticket_id=rated.pk, actor=world.owner, score=5, now=T0)  # no mail
    silent = make_ticket(
        world,
        Status.ASSIGNED,
        now=T0 - dt.timedelta(days=7),
        enterprise=EnterpriseFactory(district=world.district, contact_email=""),
    )
    workflow.accept_ticket(ticket_id=silent.pk, actor=world.handler, now=T0)  # nobody to tell
    # Young events are left to their own task.
    assert notifications.redrive(now=T0 + dt.timedelta(minutes=5))["events"] == 0
    assert notifications.redrive(now=T0 + dt.timedelta(minutes=11))["events"] == 2
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [world.local.email, world.enterprise.contact_email]
    )
    # The step with nothing to tell is recorded as such and not looked at again.
    marker = NotificationLog.objects.get(key__endswith=":none")
    assert marker.event.action == "accept" and marker.sent_at is not None
    assert notifications.redrive(now=T0 + dt.timedelta(minutes=20)) == {
        "resent": 0,
        "events": 0,
        "digests": 0,
    }
    assert len(mailoutbox) == 2
    # Past the horizon nothing is re-driven any more.
    late = make_ticket(world, Status.SUBMITTED, department=None)
    workflow.route_ticket(ticket_id=late.pk, now=T0)
    assert notifications.redrive(now=T0 + dt.timedelta(days=3))["events"] == 0


def test_the_redrive_sends_the_digest_a_killed_sweep_never_sent_and_the_late_task_adds_none(
    world, mailoutbox
):
    for _ in range(3):
        make_ticket(world, Status.IN_PROGRESS)
    now = at(2026, 6, 11, 9)
    result = escalate_overdue(now=now, notify=False)  # as if killed before publishing
    assert dict(result.counts) == {"escalate": 3}
    assert notifications.redrive(now=now + dt.timedelta(minutes=11))["digests"] == 2
    by_recipient = {m.to[0]: m for m in mailoutbox}
    assert set(by_recipient) == {world.local.email, world.city.email}
    for mail in by_recipient.values():
        assert mail.body.count("[升级（红牌）]") == 3
    assert notifications.redrive(now=now + dt.timedelta(minutes=20))["digests"] == 0
    # The sweep's own digest task, arriving late, finds every step told already.
    assert tasks.send_digest(result.sweep_id, result.event_ids) == 0
    assert len(mailoutbox) == 2


def test_the_redrive_of_a_killed_sweep_tells_the_enterprise_of_supervision_once(world, mailoutbox):
    ticket = make_ticket(world, Status.IN_PROGRESS, department=world.leader)
    now = at(2026, 7, 1, 9)
    result = escalate_overdue(now=now, notify=False)  # killed before publishing its digest
    assert dict(result.counts) == {"supervise": 1}
    assert notifications.redrive(now=now + dt.timedelta(minutes=11))["digests"] == 2
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [world.leader.email, world.enterprise.contact_email]
    )
    assert any(m.subject.endswith(f"{ticket.number} 已列入督办") for m in mailoutbox)
    assert notifications.redrive(now=now + dt.timedelta(minutes=20))["digests"] == 0
    assert tasks.send_digest(result.sweep_id, result.event_ids) == 0  # the late task
    assert len(mailoutbox) == 2


def test_a_mark_that_fails_once_is_retried_and_the_row_says_sent(world, mailoutbox, monkeypatch):
    event = resolved_event(world)
    real_update = QuerySet.update
    failures = []

    def blip(self, **kwargs):
        if self.model is NotificationLog and "sent_at" in kwargs and not failures:
            failures.append(1)
            raise OperationalError("server closed the connection unexpectedly")
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", blip)
    monkeypatch.setattr(notifications, "MARK_RETRY_PAUSES", (0,))
    assert notifications.notify_event(event.pk) == 1
    log = NotificationLog.objects.get(key=f"event:{event.pk}:enterprise")
    assert failures == [1] and log.sent_at is not None and log.attempts == 1
    assert notifications.redrive(now=after_claim_timeout())["resent"] == 0
    assert len(mailoutbox) == 1
