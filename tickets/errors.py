"""Domain errors raised by the workflow. Every interface maps them to a clear message:
the API answers IllegalTransition with 409, NotPermitted with 403 (or 404 when the ticket
is not visible), InvalidInput with 400, IdempotencyConflict with 422, CalendarUnavailable
with 503; the admin shows the message; tasks log it."""

from django.utils.translation import gettext as _


class WorkflowError(Exception):
    code = "workflow_error"
    # The HTTP status every web face (API, portal) answers this error with.
    http_status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class IllegalTransition(WorkflowError):
    """The action is not allowed from the ticket's current status (or was already done)."""

    code = "illegal_transition"
    http_status = 409

    def __init__(self, action: str, status: str, message: str | None = None):
        from tickets.models import Status

        self.action = action
        self.status = status
        label = Status(status).label if status in Status.values else status
        super().__init__(
            message
            or _("诉求当前状态为“%(status)s”，不能执行“%(action)s”。")
            % {"status": label, "action": action_label(action)}
        )


class NotPermitted(WorkflowError):
    code = "not_permitted"
    http_status = 403


class InvalidInput(WorkflowError):
    code = "invalid_input"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class IdempotencyConflict(WorkflowError):
    """The same Idempotency-Key was used before with a different request body."""

    code = "idempotency_conflict"
    http_status = 422


class CalendarUnavailable(WorkflowError):
    """A deadline falls in a year with no working-calendar data; staff have been alerted."""

    code = "calendar_unavailable"
    http_status = 503

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            _("工作日历缺少 %(year)s 年的数据，暂时无法计算办理时限，已通知管理人员补录。")
            % {"year": year}
        )


def action_label(action: str) -> str:
    from tickets.models import TicketEvent

    try:
        return str(TicketEvent.Action(action).label)
    except ValueError:
        return action
