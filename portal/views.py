"""The portal's pages: parse the request, call one selector or one workflow function, render.

Reads start at tickets.selectors.visible_tickets(request.user), so another enterprise's
ticket is not found (404). Writes go through tickets.actions.perform (the registry the API
and the admin use) and tickets.workflow.submit_ticket; their domain errors come back as a
message on the page with the API's status codes (WorkflowError.http_status: 400, 403, 409,
422, 503)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from enterprises.contacts import update_contact
from enterprises.models import Enterprise
from portal import presenters
from portal.access import EnterpriseRequiredMixin
from portal.forms import (
    ContactForm,
    EnterprisePasswordResetForm,
    FilterForm,
    LoginForm,
    SubmitForm,
    action_form,
    action_values,
)
from tickets import actions, categories, workflow
from tickets.errors import IdempotencyConflict, WorkflowError
from tickets.models import Kind, Ticket, TicketEvent, lateness
from tickets.selectors import outcome_is_public, visible_tickets

PAGE_SIZE = 20


# --- signing in --------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = False


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("portal:login")


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/password_reset.html"
    form_class = EnterprisePasswordResetForm
    email_template_name = "portal/email/password_reset.txt"
    subject_template_name = "portal/email/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Also the invitation's link (enterprises.invitations): the contact sets a password."""

    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"


# --- 我的诉求 ----------------------------------------------------------------------------------


class TicketListView(EnterpriseRequiredMixin, View):
    def get(self, request):
        filters = FilterForm(request.GET or None)
        status = 200
        tickets = visible_tickets(
            request.user, Ticket.objects.select_related("department", "merged_into")
        )
        if filters.is_bound and filters.is_valid():
            if filters.cleaned_data["kind"]:
                tickets = tickets.filter(kind=filters.cleaned_data["kind"])
            if filters.cleaned_data["status"]:
                tickets = tickets.filter(status=filters.cleaned_data["status"])
        elif filters.is_bound:
            status = 400
            tickets = tickets.none()
        page = Paginator(tickets.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "nav": "tickets",
            "filters": filters,
            "page": page,
            "rows": presenters.rows(page.object_list, timezone.now()),
            "query": query.urlencode(),
        }
        return render(request, "portal/ticket_list.html", context, status=status)


# --- one ticket -------------------------------------------------------------------------------


def _ticket(request, pk: int) -> Ticket:
    queryset = Ticket.objects.select_related(
        "department", "chain", "enterprise", "merged_into"
    ).prefetch_related(
        Prefetch(
            "events",
            queryset=TicketEvent.objects.select_related(
                "actor__enterprise_account", "to_department"
            ).order_by("id"),
        )
    )
    try:
        return visible_tickets(request.user, queryset).get(pk=pk)
    except Ticket.DoesNotExist:
        raise Http404(_("诉求不存在。")) from None


def _detail(request, ticket: Ticket, forms=None, status: int = 200):
    available = actions.available(request.user, ticket)
    forms = forms or {}
    action_forms = [forms.get(spec.slug) or action_form(spec) for spec in available]
    context = {
        "ticket": ticket,
        "nav": "tickets",
        "category_label": categories.CATEGORIES.get(ticket.kind, {}).get(ticket.category, ""),
        "deadline": presenters.next_deadline(ticket),
        "late": lateness(ticket, timezone.now()),
        "outcome_public": outcome_is_public(ticket),
        "steps": presenters.timeline(request.user, ticket),
        "action_forms": action_forms,
        "available": {spec.name for spec in available},
        # 不满意退回重办: an unhappy rating while the answer can still be reopened.
        "offer_reopen": ticket.satisfaction is not None
        and ticket.satisfaction <= 2
        and actions.ACTIONS[actions.Action.REOPEN] in available,
    }
    return render(request, "portal/ticket_detail.html", context, status=status)


class TicketDetailView(EnterpriseRequiredMixin, View):
    def get(self, request, pk):
        return _detail(request, _ticket(request, pk))


class TicketActionView(EnterpriseRequiredMixin, View):
    """POST one of the registry's actions; back to the detail page with what happened."""

    def post(self, request, pk, slug):
        ticket = _ticket(request, pk)
        spec = next((s for s in actions.ACTIONS.values() if s.slug == slug), None)
        if spec is None:
            raise Http404(_("没有这个操作。"))
        form = action_form(spec, request.POST)
        if not form.is_valid():
            messages.error(request, _("请检查填写的内容。"))
            return _detail(request, ticket, {slug: form}, status=400)
        try:
            values = action_values(form)
            actions.perform(spec, ticket_id=ticket.pk, actor=request.user, values=values)
        except WorkflowError as error:
            messages.error(request, error.message)
            field = getattr(error, "field", None)
            if field in form.fields:
                form.add_error(field, error.message)
            return _detail(request, _ticket(request, pk), {slug: form}, status=error.http_status)
        messages.success(request, _("已%(action)s。") % {"action": spec.label})
        return redirect("portal:ticket", pk=ticket.pk)


# --- 提交诉求 ----------------------------------------------------------------------------------


class SubmitChooseView(EnterpriseRequiredMixin, View):
    def get(self, request):
        return render(request, "portal/submit_choose.html", {"nav": "submit"})


class SubmitView(EnterpriseRequiredMixin, View):
    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        if kwargs.get("kind") not in Kind.values:
            raise Http404(_("没有这类清单。"))
        self.kind = kwargs["kind"]

    def _render(self, request, form, status=200):
        context = {
            "nav": "submit",
            "form": form,
            "kind": self.kind,
            "kind_label": Kind(self.kind).label,
            "templates": categories.description_templates(self.kind),
        }
        return render(request, "portal/submit_form.html", context, status=status)

    def _form(self, data=None):
        enterprise = get_object_or_404(Enterprise, pk=self.enterprise_id)
        return SubmitForm(data, kind=self.kind, enterprise=enterprise)

    def get(self, request, kind):
        return self._render(request, self._form())

    def post(self, request, kind):
        form = self._form(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            ticket, created = workflow.submit_ticket(
                enterprise=self.enterprise_id, actor=request.user, **form.submission()
            )
        except WorkflowError as error:
            if isinstance(error, IdempotencyConflict):
                form.renew_key()
                form.add_error(None, _("该表单已提交过其他内容，请确认后重新提交。"))
            elif getattr(error, "field", None) in form.fields:
                form.add_error(error.field, error.message)
            else:
                form.add_error(None, error.message)
            return self._render(request, form, status=error.http_status)
        if created:
            text = _("诉求已提交，编号 %(number)s。") % {"number": ticket.number}
            messages.success(request, text)
        else:
            messages.info(request, _("该诉求已提交（重复提交只保存一次）。"))
        return redirect("portal:ticket", pk=ticket.pk)


# --- 企业信息 ----------------------------------------------------------------------------------


class ProfileView(EnterpriseRequiredMixin, View):
    def _enterprise(self):
        return get_object_or_404(
            Enterprise.objects.select_related("district", "cluster").prefetch_related("chains"),
            pk=self.enterprise_id,
        )

    def _render(self, request, enterprise, form, status=200):
        return render(
            request,
            "portal/profile.html",
            {"nav": "profile", "enterprise": enterprise, "form": form},
            status=status,
        )

    def get(self, request):
        enterprise = self._enterprise()
        return self._render(request, enterprise, ContactForm(instance=enterprise))

    def post(self, request):
        enterprise = self._enterprise()
        form = ContactForm(request.POST, instance=enterprise)
        if not form.is_valid():
            return self._render(request, enterprise, form, status=400)
        update_contact(enterprise_id=enterprise.pk, **form.cleaned_data)
        messages.success(request, _("联系人信息已保存。"))
        return redirect(reverse("portal:profile"))
