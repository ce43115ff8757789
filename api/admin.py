"""Admin for API tokens, and the department/enterprise links on the user page.

Tokens: superusers manage all; coordinators (市企业服务中心) issue and revoke tokens for
enterprise accounts — never for staff, so a coordinator cannot mint a token that acts
with more authority than their own. A new token is shown once, in the confirmation message;
the database keeps only its digest. Revoking is deleting.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.admin import AuthTokenAdmin as KnoxAuthTokenAdmin
from knox.models import AuthToken
from knox.settings import knox_settings

from enterprises.admin_access import is_coordinator
from enterprises.models import DepartmentMembership, EnterpriseAccount

User = get_user_model()


def _enterprise_users():
    return User.objects.filter(enterprise_account__isnull=False, is_staff=False)


if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(KnoxAuthTokenAdmin):
    list_display = ["user", "key_prefix", "created", "expiry"]
    list_select_related = ["user"]
    search_fields = ["user__username", "=token_key"]
    ordering = ["-created"]
    actions = ["revoke"]

    @admin.display(description=_("令牌前缀"))
    def key_prefix(self, token):
        return f"{token.token_key[:8]}…"

    @admin.action(description=_("撤销所选令牌"), permissions=["delete"])
    def revoke(self, request, queryset):
        count, _details = queryset.delete()
        self.message_user(request, _("已撤销 %(count)s 个令牌。") % {"count": count})

    def save_model(self, request, obj, form, change):
        # A blank expiry would make a token that never expires: default to the TTL instead.
        if not change and obj.expiry is None and knox_settings.TOKEN_TTL is not None:
            obj.expiry = timezone.now() + knox_settings.TOKEN_TTL
        super().save_model(request, obj, form, change)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user__in=_enterprise_users())

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = _enterprise_users()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return is_coordinator(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_coordinator(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return is_coordinator(request) or super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return False  # a token is issued or revoked, never edited

    def has_delete_permission(self, request, obj=None):
        return is_coordinator(request) or super().has_delete_permission(request, obj)


class MembershipInline(admin.TabularInline):
    model = DepartmentMembership
    extra = 0
    autocomplete_fields = ["department"]
    verbose_name_plural = _("所属责任单位")


class EnterpriseAccountInline(admin.StackedInline):
    model = EnterpriseAccount
    extra = 0
    max_num = 1
    autocomplete_fields = ["enterprise"]


# Extend whatever user admin is registered (Django's, or a project one) with the links.
_current = type(admin.site.get_model_admin(User))
if MembershipInline not in getattr(_current, "inlines", []):
    admin.site.unregister(User)

    @admin.register(User)
    class UserAdmin(_current):
        inlines = [*_current.inlines, MembershipInline, EnterpriseAccountInline]
