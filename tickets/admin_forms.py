"""Admin forms: register a need on an enterprise's behalf, and act on one ticket."""

from django import forms
from django.utils.translation import gettext_lazy as _

from enterprises.models import Department, Enterprise, IndustryChain
from tickets import actions, workflow
from tickets.categories import CATEGORIES
from tickets.models import Kind, Ticket


class TicketActionForm(forms.Form):
    """One ticket's workflow actions (tickets.actions): the choice offers only what this user
    may do now, and the fields are those of the registry; each action uses its own."""

    action = forms.ChoiceField(label=_("操作"))
    reason = forms.CharField(
        label=_("理由"),
        required=False,
        max_length=workflow.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )
    reply = forms.CharField(
        label=_("答复企业（企业可见）"),
        required=False,
        max_length=workflow.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )
    note = forms.CharField(
        label=_("内部备注（企业不可见）"),
        required=False,
        max_length=workflow.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )
    outcome = forms.ChoiceField(
        label=_("办理结果"), required=False, choices=[("", "—"), *actions.OUTCOME_CHOICES]
    )
    days = forms.IntegerField(label=_("延期工作日"), required=False, min_value=1, max_value=365)
    department = forms.ModelChoiceField(
        label=_("分派至"), required=False, queryset=Department.objects.filter(is_active=True)
    )
    score = forms.IntegerField(label=_("满意度（1–5）"), required=False, min_value=1, max_value=5)

    def __init__(self, *args, ticket: Ticket, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [
            (spec.name, spec.label) for spec in actions.available(user, ticket)
        ]

    def call(self, *, ticket: Ticket, actor):
        """Run the chosen action with its fields' values; the workflow validates them (a
        missing reason, outcome or department is its InvalidInput), and domain errors
        propagate to the caller."""
        spec = actions.ACTIONS[self.cleaned_data["action"]]
        values = {}
        for field in spec.fields:
            value = self.cleaned_data.get(field.name)
            if field.kind == actions.DEPARTMENT:
                value = value.pk if value else None
            values[field.name] = "" if value is None and field.kind == actions.TEXT else value
        return actions.perform(spec, ticket_id=ticket.pk, actor=actor, values=values)


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
