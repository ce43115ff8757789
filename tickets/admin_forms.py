"""Admin forms: register a need on an enterprise's behalf, and act on one ticket."""

from django import forms
from django.utils.translation import gettext_lazy as _

from enterprises.models import Department, Enterprise, IndustryChain
from tickets import workflow
from tickets.categories import CATEGORIES
from tickets.models import Kind, Outcome, Ticket, TicketEvent

Action = TicketEvent.Action

# Admin action → (workflow function, the form fields it takes → keyword arguments)
ADMIN_ACTIONS = {
    Action.DISPATCH: (workflow.dispatch_ticket, {"department": "department_id", "note": "note"}),
    Action.ACCEPT: (workflow.accept_ticket, {}),
    Action.RETURN: (workflow.return_ticket, {"note": "reason"}),
    Action.HOLD: (workflow.hold_ticket, {"note": "reason"}),
    Action.RESUME: (workflow.resume_ticket, {"note": "note"}),
    Action.REQUEST_EXTENSION: (workflow.request_extension, {"days": "days", "note": "reason"}),
    Action.APPROVE_EXTENSION: (workflow.approve_extension, {"note": "note"}),
    Action.DENY_EXTENSION: (workflow.deny_extension, {"note": "note"}),
    Action.RESOLVE: (workflow.resolve_ticket, {"outcome": "outcome", "note": "note"}),
    Action.APPROVE_EXPLANATION: (workflow.approve_explanation, {"note": "note"}),
    Action.REJECT_EXPLANATION: (workflow.reject_explanation, {"note": "note"}),
    Action.CONFIRM: (workflow.confirm_ticket, {"note": "note"}),
    Action.REOPEN: (workflow.reopen_ticket, {"note": "reason"}),
    Action.WITHDRAW: (workflow.withdraw_ticket, {"note": "reason"}),
    Action.RATE: (workflow.rate_ticket, {"score": "score", "note": "note"}),
}


class TicketActionForm(forms.Form):
    action = forms.ChoiceField(label=_("操作"))
    note = forms.CharField(
        label=_("理由 / 说明"),
        required=False,
        max_length=workflow.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )
    outcome = forms.ChoiceField(
        label=_("办理结果"),
        required=False,
        choices=[("", "—")] + [c for c in Outcome.choices if c[0]],
    )
    days = forms.IntegerField(label=_("延期工作日"), required=False, min_value=1, max_value=30)
    department = forms.ModelChoiceField(
        label=_("分派至"), required=False, queryset=Department.objects.filter(is_active=True)
    )
    score = forms.IntegerField(label=_("满意度（1–5）"), required=False, min_value=1, max_value=5)

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = set(workflow.allowed_actions(ticket.status))
        self.fields["action"].choices = [
            (action, Action(action).label) for action in ADMIN_ACTIONS if action in allowed
        ]

    def call(self, *, ticket: Ticket, actor):
        """Run the chosen workflow function; domain errors propagate to the caller."""
        action = self.cleaned_data["action"]
        function, mapping = ADMIN_ACTIONS[action]
        kwargs = {}
        for field, argument in mapping.items():
            value = self.cleaned_data.get(field)
            if field == "department":
                value = value.pk if value else None
            if value in (None, "") and field != "note":
                raise workflow.InvalidInput(
                    _("请填写“%(field)s”。") % {"field": self.fields[field].label}, field=field
                )
            kwargs[argument] = value or ""
        return function(ticket_id=ticket.pk, actor=actor, **kwargs)


class SubmitOnBehalfForm(forms.ModelForm):
    """一窗受理: staff register a need an enterprise reported by phone or on a visit."""

    enterprise = forms.ModelChoiceField(label=_("企业"), queryset=Enterprise.objects.all())
    kind = forms.ChoiceField(label=_("清单类别"), choices=Kind.choices)
    category = forms.ChoiceField(
        label=_("细类"),
        required=False,
        choices=[("", "—")]
        + [
            (str(Kind(kind).label), [(key, label) for key, label in entries.items()])
            for kind, entries in CATEGORIES.items()
        ],
    )
    chain = forms.ModelChoiceField(
        label=_("产业链"), required=False, queryset=IndustryChain.objects.all()
    )

    class Meta:
        model = Ticket
        fields = ["enterprise", "kind", "category", "title", "description", "amount", "chain"]
