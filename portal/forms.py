"""The portal's forms. They parse and present; the rules (what a field may hold, whether an
action is possible) are the workflow's, which the views call with the cleaned values."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from enterprises.models import Enterprise, IndustryChain
from portal.access import refusal
from tickets import actions, categories, workflow
from tickets.models import Kind, Status


class LoginForm(AuthenticationForm):
    """Username and password; staff accounts are turned away here, not after signing in."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        reason = refusal(user)
        if reason is not None:
            raise forms.ValidationError(reason, code="no_portal")


class EnterprisePasswordResetForm(PasswordResetForm):
    """Mails a reset link to enterprise accounts only (staff reset theirs with an admin)."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if refusal(user) is None)


def new_idempotency_key() -> str:
    # One per rendering of the form: a double click sends it twice, and the workflow's
    # (enterprise, key) constraint turns the second into the first ticket.
    return f"portal-{uuid.uuid4().hex}"


class SubmitForm(forms.Form):
    """提交诉求 for one kind: that kind's categories, the amount for funding, the chain."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)
    category = forms.ChoiceField(label=_("细类"))
    title = forms.CharField(
        label=_("标题"),
        max_length=workflow.MAX_TITLE,
        widget=forms.TextInput(attrs={"placeholder": _("一句话说明需要解决什么")}),
    )
    amount = forms.DecimalField(
        label=_("申请金额（万元）"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    chain = forms.ModelChoiceField(
        label=_("关联产业链"),
        queryset=IndustryChain.objects.none(),
        required=False,
        empty_label=_("不关联"),
    )
    description = forms.CharField(
        label=_("诉求内容"),
        max_length=workflow.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 9}),
        help_text=_("选择细类后自动填入该类诉求的填写提纲，可直接修改。"),
    )

    def __init__(self, *args, kind: str, enterprise: Enterprise, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["category"].choices = [("", _("请选择")), *categories.choices_for(kind)]
        if kind != Kind.FUNDING:
            del self.fields["amount"]
        chains = enterprise.chains.order_by("order", "name")
        if chains.exists():
            self.fields["chain"].queryset = chains
            if kind == Kind.SUPPLY_CHAIN:
                self.fields["chain"].initial = chains.first()
        else:
            del self.fields["chain"]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_idempotency_key())
            self.initial.setdefault("description", categories.description_template(kind))

    def renew_key(self) -> None:
        """After a conflict (the key came back with other content): a fresh key."""
        data = self.data.copy()
        data["idempotency_key"] = new_idempotency_key()
        self.data = data

    def submission(self) -> dict:
        """The cleaned values as workflow.submit_ticket's keywords."""
        data = self.cleaned_data
        chain = data.get("chain")
        return {
            "kind": self.kind,
            "category": data["category"],
            "title": data["title"],
            "description": data["description"],
            "amount": data.get("amount"),
            "chain_id": chain.pk if chain else None,
            "idempotency_key": data["idempotency_key"],
        }


class FilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("清单类别"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("全部类别")), *Kind.choices]
        self.fields["status"].choices = [("", _("全部状态")), *Status.choices]


# --- the registry's actions as forms -----------------------------------------------------------

# An integer with at most this many values is offered as buttons (the 1–5 rating).
RADIO_RANGE = 10


def _form_field(field: actions.Field) -> forms.Field:
    common = {"label": field.label, "required": field.required, "help_text": field.help_text}
    if field.kind == actions.INTEGER:
        low, high = field.min_value, field.max_value
        if low is not None and high is not None and high - low < RADIO_RANGE:
            return forms.TypedChoiceField(
                coerce=int,
                choices=[(n, str(n)) for n in range(low, high + 1)],
                widget=forms.RadioSelect(attrs={"class": "scale"}),
                **common,
            )
        return forms.IntegerField(min_value=low, max_value=high, **common)
    if field.kind == actions.CHOICE:
        return forms.ChoiceField(choices=field.choices, **common)
    if field.kind == actions.DEPARTMENT:
        return forms.IntegerField(min_value=1, **common)
    return forms.CharField(
        max_length=field.max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        **common,
    )


def action_form(spec: actions.ActionSpec, data=None) -> forms.Form:
    """A form with the registry's fields for one action, prefixed by its slug (several
    actions' forms share a page)."""
    form_class = type(
        f"{spec.slug.title().replace('-', '')}Form",
        (forms.Form,),
        {field.name: _form_field(field) for field in spec.fields},
    )
    form = form_class(data, prefix=spec.slug)
    form.spec = spec
    return form


def action_values(form: forms.Form) -> dict:
    """Cleaned values as tickets.actions.perform takes them (an empty text is "")."""
    values = {}
    for field in form.spec.fields:
        value = form.cleaned_data.get(field.name)
        values[field.name] = "" if value is None and field.kind == actions.TEXT else value
    return values


class ContactForm(forms.ModelForm):
    """企业信息: only the contact's name, phone and email are the enterprise's to change."""

    contact_phone = forms.CharField(
        label=_("联系电话"),
        max_length=30,
        required=False,
        validators=[
            RegexValidator(
                r"^[0-9+()\- ]{5,30}$", _("请填写有效的电话号码（数字、空格、+、-、括号）。")
            )
        ],
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )

    class Meta:
        model = Enterprise
        fields = ["contact_name", "contact_phone", "contact_email"]
