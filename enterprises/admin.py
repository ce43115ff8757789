from django.conf import settings
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from enterprises import invitations
from enterprises.admin_access import MemberViewsCoordinatorEdits
from enterprises.models import (
    Department,
    DepartmentMembership,
    District,
    Enterprise,
    EnterpriseAccount,
    IndustryChain,
    IndustryCluster,
)
from weihai.paginator import CappedPaginator

# The site's titles, start page and app order: weihai.admin_site.


@admin.register(District)
class DistrictAdmin(MemberViewsCoordinatorEdits, admin.ModelAdmin):
    list_display = ["name", "code", "kind", "order"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]


@admin.register(IndustryCluster)
class IndustryClusterAdmin(MemberViewsCoordinatorEdits, admin.ModelAdmin):
    list_display = ["name", "code", "order"]
    search_fields = ["name", "code"]


class MembershipInline(admin.TabularInline):
    model = DepartmentMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Department)
class DepartmentAdmin(MemberViewsCoordinatorEdits, admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "tier",
        "district",
        "escalates_to",
        "email",
        "is_coordinator",
        "is_active",
    ]
    list_filter = ["tier", "kind", "district", "is_active"]
    list_select_related = ["district", "escalates_to"]
    search_fields = ["name", "code", "email"]
    autocomplete_fields = ["district", "escalates_to"]
    inlines = [MembershipInline]
    readonly_fields = ["work_links"]
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "email", "is_active", "work_links"]}),
        (
            _("层级与升级"),
            {"fields": ["tier", "district", "escalates_to", "is_coordinator"]},
        ),
    ]

    @admin.display(description=_("本单位"))
    def work_links(self, department):
        """The unit's tickets (the ticket list filtered to it) and its statistics (the
        dashboard for it). By URL name: enterprises does not import tickets or reports."""
        if not department.pk:
            return "—"
        tickets = (
            reverse("admin:tickets_ticket_changelist")
            + "?"
            + urlencode({"department": department.pk})
        )
        stats = reverse("dashboard") + "?" + urlencode({"department": department.pk})
        return format_html(
            '<a href="{}" id="department-tickets">{}</a> · '
            '<a href="{}" id="department-stats">{}</a>',
            tickets,
            _("本单位诉求"),
            stats,
            _("本单位办理统计"),
        )


@admin.register(IndustryChain)
class IndustryChainAdmin(MemberViewsCoordinatorEdits, admin.ModelAdmin):
    list_display = ["name", "cluster", "lead_department", "chief_office", "is_example", "order"]
    list_filter = ["is_example", "cluster"]
    list_select_related = ["cluster", "lead_department", "chief_office"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["cluster", "chief_office", "lead_department"]
    readonly_fields = ["leader_enterprise_list"]

    @admin.display(description=_("链主企业"))
    def leader_enterprise_list(self, chain):
        if not chain.pk:
            return "—"
        names = list(chain.leader_enterprises.values_list("name", flat=True)[:50])
        return "、".join(names) or "—"


# One request sends the mails one by one: keep it well inside a request's time.
MAX_INVITATIONS = 50


class AccountInline(admin.TabularInline):
    model = EnterpriseAccount
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Enterprise)
class EnterpriseAdmin(MemberViewsCoordinatorEdits, admin.ModelAdmin):
    list_display = [
        "name",
        "uscc",
        "district",
        "cluster",
        "credit_grade",
        "is_chain_leader",
        "programme",
    ]
    list_filter = ["district", "cluster", "credit_grade", "is_chain_leader", "programme", "chains"]
    list_select_related = ["district", "cluster"]
    search_fields = ["name", "=uscc"]
    autocomplete_fields = ["district", "cluster", "chains"]
    inlines = [AccountInline]
    actions = ["send_invitation"]
    # 100,000 enterprises: don't count the whole table on every filtered page, and list the
    # newest first by primary key (the model's order, by name, sorts the table: 290 ms).
    show_full_result_count = False
    paginator = CappedPaginator
    ordering = ["-id"]
    fieldsets = [
        (None, {"fields": ["uscc", "name", "district", "cluster"]}),
        (
            _("重点企业"),
            {"fields": ["chains", "is_chain_leader", "programme", "credit_grade"]},
        ),
        (_("联系人"), {"fields": ["contact_name", "contact_phone", "contact_email"]}),
    ]

    @admin.action(description=_("发送邀请（开通企业服务账号）"), permissions=["change"])
    def send_invitation(self, request, queryset):
        """Create each enterprise's login if it has none, and mail its contact a link to set
        the password (enterprises.invitations)."""
        # The configured address when there is one (behind a proxy the request's may differ).
        base_url = settings.SITE_URL or request.build_absolute_uri("/")
        sent = 0
        for enterprise in queryset[:MAX_INVITATIONS]:
            try:
                invitations.invite(enterprise, base_url=base_url)
            except invitations.InvitationError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                sent += 1
        if queryset.count() > MAX_INVITATIONS:
            self.message_user(
                request,
                _("一次最多发送 %(n)s 份邀请，其余的请再次选择发送。") % {"n": MAX_INVITATIONS},
                messages.WARNING,
            )
        if sent:
            self.message_user(
                request,
                ngettext("已发送 %(n)s 份邀请。", "已发送 %(n)s 份邀请。", sent) % {"n": sent},
                messages.SUCCESS,
            )

    def get_search_results(self, request, queryset, search_term):
        # USCCs are stored upper-case; accept what people paste.
        return super().get_search_results(
            request,
            queryset,
            search_term.strip().upper() if len(search_term.strip()) == 18 else search_term,
        )


@admin.register(DepartmentMembership)
class DepartmentMembershipAdmin(MemberViewsCoordinatorEdits, admin.ModelAdmin):
    list_display = ["user", "department", "role"]
    list_filter = ["role", "department__tier"]
    list_select_related = ["user", "department"]
    search_fields = ["user__username", "department__name"]
    autocomplete_fields = ["user", "department"]


@admin.register(EnterpriseAccount)
class EnterpriseAccountAdmin(MemberViewsCoordinatorEdits, admin.ModelAdmin):
    list_display = ["user", "enterprise"]
    list_select_related = ["user", "enterprise"]
    search_fields = ["user__username", "enterprise__name", "=enterprise__uscc"]
    autocomplete_fields = ["user", "enterprise"]
