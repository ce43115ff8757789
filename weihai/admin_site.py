"""The admin site of the workbench: a start page per role, 诉求 first in the app list, the
system's internals (Celery beat, django-axes' login records) named in Chinese and shown to
superusers only; the API tokens (knox) named in Chinese, and kept for coordinators, who issue
enterprises' tokens there (api/admin.py).

Installed through weihai.apps.WeihaiAdminConfig (AdminConfig.default_site), so
``django.contrib.admin.site`` is this site and every ``@admin.register`` lands here.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The app list's order: the work first, then the figures, then the reference data.
APP_ORDER = [
    "tickets",
    "intake",
    "reports",
    "enterprises",
    "api",
    "auth",
    "knox",
    "axes",
    "django_celery_beat",
]
# Apps only a superuser sees in the list (and may open: their model admins answer 403 to
# anyone without the model permissions, which only superusers hold here).
SUPERUSER_APPS = {"django_celery_beat", "axes"}
APP_NAMES = {
    "django_celery_beat": _("定时任务（系统）"),
    "axes": _("登录保护（系统）"),
    "knox": _("接口令牌"),
}
MODEL_NAMES = {
    ("knox", "AuthToken"): _("接口令牌"),
    # django-axes ships no Chinese.
    ("axes", "AccessAttempt"): _("登录失败计数"),
    ("axes", "AccessLog"): _("登录记录"),
    ("axes", "AccessFailureLog"): _("登录失败记录"),
}


class WeihaiAdminSite(admin.AdminSite):
    site_header = _("企业诉求直通车 管理后台")
    site_title = _("企业诉求直通车")
    index_title = _("威海市企业诉求直通车")
    index_template = "admin/index.html"

    @property
    def site_url(self):
        # 查看站点 leads to the dashboard (the staff's "site"; enterprises use the API).
        return reverse("dashboard")

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if not request.user.is_superuser:
            apps = [app for app in apps if app["app_label"] not in SUPERUSER_APPS]
        for app in apps:
            if app["app_label"] in APP_NAMES:
                app["name"] = APP_NAMES[app["app_label"]]
            for model in app["models"]:
                name = MODEL_NAMES.get((app["app_label"], model["object_name"]))
                if name is not None:
                    model["name"] = name

        def position(app):
            label = app["app_label"]
            return APP_ORDER.index(label) if label in APP_ORDER else len(APP_ORDER)

        return sorted(apps, key=position)

    def index(self, request, extra_context=None):
        from tickets.actors import actor_for
        from tickets.workbench import start_page

        actor = actor_for(request.user)
        if actor.is_leader and not actor.is_coordinator and not request.user.is_superuser:
            # A leader's start page is the dashboard (the app list stays in its sidebar).
            return HttpResponseRedirect(reverse("dashboard"))
        extra_context = {
            **(extra_context or {}),
            "start": start_page(request.user, now=timezone.now()),
        }
        return super().index(request, extra_context)
