"""Celery is configured for at-least-once delivery of idempotent tasks."""

import logging

from django.conf import settings

from tickets import effects, tasks


def test_late_acks_with_redelivery_on_worker_loss():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def test_time_limits_stay_below_the_visibility_timeout():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT < visibility


def test_visibility_timeout_fits_every_task_and_is_far_below_an_hour():
    """After a whole-worker SIGKILL an unacked task waits this long to run again: above the
    longest a healthy message stays unacked (a retry's countdown + the task's hard limit),
    well below kombu's 3,600 s default."""
    from weihai.celery import app

    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    ours = {
        name: task for name, task in app.tasks.items() if name.startswith(("tickets.", "reports."))
    }
    assert len(ours) >= 8
    longest = 0
    for name, task in ours.items():
        time_limit = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        countdown = task.retry_backoff_max if getattr(task, "autoretry_for", ()) else 0
        assert countdown <= settings.CELERY_TASK_RETRY_BACKOFF_MAX, name
        longest = max(longest, time_limit + countdown)
    assert longest < visibility <= 1800


def test_beat_runs_from_the_database_scheduler_with_the_schedule_in_code():
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["escalation-sweep"]["task"] == "tickets.escalation_sweep"
    assert schedule["reroute-sweep"]["task"] == "tickets.reroute_sweep"
    # Frequent ticks expire before the next one instead of piling up.
    for name in ("escalation-sweep", "reroute-sweep"):
        assert schedule[name]["options"]["expires"] < schedule[name]["schedule"]


def test_every_published_task_name_has_a_task():
    from weihai.celery import app

    for name in (
        effects.ROUTE_TICKET,
        effects.NOTIFY_EVENT,
        effects.SEND_DIGEST,
        effects.ALERT_STAFF,
    ):
        assert name in app.tasks
        assert app.tasks[name].acks_late is True
    assert tasks.route_ticket.name == effects.ROUTE_TICKET


def test_a_failing_publish_is_logged_not_raised(monkeypatch, caplog):
    from weihai.celery import app

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(app, "send_task", refuse)
    with caplog.at_level(logging.ERROR, logger="tickets.effects"):
        assert effects.publish(effects.ROUTE_TICKET, 42) is False
    assert "could not publish tickets.route_ticket(42,)" in caplog.text
