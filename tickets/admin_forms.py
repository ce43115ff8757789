"""Admin forms: register a need on an enterprise's behalf, and act on one ticket."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.translation import gettext_lazy as _

from enterprises.models import Department, Enterprise, IndustryChain
from tickets import actions, workflow
from tickets.calendar_notice import Holiday, Schedule, parse_dates
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
        label=_("分派至"),
        required=False,
        queryset=Department.objects.filter(is_active=True),
        widget=AutocompleteSelect(Ticket._meta.get_field("department"), admin.site),
    )
    score = forms.IntegerField(label=_("满意度（1–5）"), required=False, min_value=1, max_value=5)
    into = forms.CharField(
        label=_("合并至（诉求编号）"),
        required=False,
        max_length=20,
        help_text=_("合并时填写：同一企业另一件未办结诉求的编号。"),
    )

    def __init__(self, *args, ticket: Ticket, user, specs=None, **kwargs):
        super().__init__(*args, **kwargs)
        specs = actions.available(user, ticket) if specs is None else specs
        self.fields["action"].choices = [(spec.name, spec.label) for spec in specs]

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

    # 100,000 enterprises: searched as one types (the admin's autocomplete), never listed.
    enterprise = forms.ModelChoiceField(
        label=_("企业"),
        queryset=Enterprise.objects.all(),
        widget=AutocompleteSelect(Ticket._meta.get_field("enterprise"), admin.site),
    )
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
        label=_("产业链"),
        required=False,
        queryset=IndustryChain.objects.all(),
        widget=AutocompleteSelect(Ticket._meta.get_field("chain"), admin.site),
    )

    class Meta:
        model = Ticket
        fields = ["enterprise", "kind", "category", "title", "description", "amount", "chain"]


# --- entering a year of the working calendar ---------------------------------------------------


class HolidayRangeForm(forms.Form):
    """One holiday range of the notice; an empty row is ignored."""

    name = forms.CharField(label=_("节日"), max_length=40, required=False)
    first = forms.DateField(
        label=_("放假开始"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    last = forms.DateField(
        label=_("放假结束"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self):
        data = super().clean()
        filled = [data.get(name) not in (None, "") for name in ("name", "first", "last")]
        if any(filled) and not all(filled):
            raise forms.ValidationError(_("请填写节日名称、放假开始和结束日期（或清空整行）。"))
        return data

    def holiday(self) -> Holiday | None:
        data = self.cleaned_data
        if not data.get("name"):
            return None
        return Holiday(data["name"].strip(), data["first"], data["last"])


HolidayRangeFormSet = forms.formset_factory(HolidayRangeForm, extra=3, max_num=30)


class CalendarYearForm(forms.Form):
    """The rest of the notice: its title and the make-up working days (调休上班)."""

    source = forms.CharField(
        label=_("依据（通知名称、文号）"),
        max_length=200,
        required=False,
        widget=forms.TextInput(),
    )
    workdays = forms.CharField(
        label=_("调休上班日"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 70}),
        help_text=_("周六或周日上班的日期，用顿号、逗号或空格分隔，如：2月20日、2027-10-09。"),
    )

    def __init__(self, *args, year: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.year = year

    def clean_workdays(self) -> list:
        try:
            return parse_dates(self.cleaned_data.get("workdays") or "", self.year)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


def schedule_from_forms(form: CalendarYearForm, formset) -> Schedule | None:
    """The schedule the page describes; None (with errors on the form) when it cannot be one."""
    if not (form.is_valid() and formset.is_valid()):
        return None
    holidays = tuple(h for h in (f.holiday() for f in formset.forms) if h is not None)
    schedule = Schedule(form.year, holidays, tuple(form.cleaned_data["workdays"]))
    problems = schedule.problems()
    for problem in problems:
        form.add_error(None, problem)
    return None if problems else schedule
